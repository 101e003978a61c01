//! A TCP proxy in front of a real server that records what clients send, so a test can count the
//! connections and requests a run makes (the start-up cost every deploy and pod start pays).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Everything clients sent through the proxy, one byte string per connection.
type Recorded = Arc<Mutex<Vec<Vec<u8>>>>;

/// A proxy listening on a local port and forwarding to one upstream address.
pub(crate) struct RecordingProxy {
    /// The local port to connect to instead of the server's.
    pub(crate) port: u16,
    sent: Recorded,
}

impl RecordingProxy {
    /// Starts forwarding connections on a free local port to `upstream` (`host:port`).
    pub(crate) async fn start(upstream: &str) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Recorded::default();
        let recorded = sent.clone();
        let upstream = upstream.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.unwrap_or_else(|e| panic!("{upstream}: {e}"));
                let index = {
                    let mut sent = recorded.lock().unwrap();
                    sent.push(Vec::new());
                    sent.len() - 1
                };
                tokio::spawn(forward(client, server, recorded.clone(), index));
            }
        });
        RecordingProxy { port, sent }
    }

    /// What each connection sent so far.
    pub(crate) fn connections(&self) -> Vec<Vec<u8>> {
        self.sent.lock().unwrap().clone()
    }
}

/// Copies both ways until either side closes, recording the client's bytes before passing them on.
async fn forward(client: TcpStream, server: TcpStream, recorded: Recorded, index: usize) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upward = async {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = client_read.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                let _ = server_write.shutdown().await;
                return;
            }
            recorded.lock().unwrap()[index].extend_from_slice(&buffer[..n]);
            if server_write.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
    };
    let downward = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upward, downward);
}

/// The frontend messages of one PostgreSQL connection after its startup packet, as `(type, body)`.
pub(crate) fn pg_messages(bytes: &[u8]) -> Vec<(char, &[u8])> {
    let length = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut messages = Vec::new();
    let mut at = length(0);
    while at + 5 <= bytes.len() {
        let end = at + 1 + length(at + 1);
        messages.push((char::from(bytes[at]), &bytes[at + 5..end.min(bytes.len())]));
        at = end;
    }
    messages
}

/// The bodies of the HTTP requests of one connection (each request carries a `content-length`).
pub(crate) fn http_request_bodies(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut bodies = Vec::new();
    let mut rest: &str = &text;
    while let Some(head_end) = rest.find("\r\n\r\n") {
        let head = rest[..head_end].to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse::<usize>().unwrap());
        let body_start = head_end + 4;
        let body_end = (body_start + length).min(rest.len());
        bodies.push(rest[body_start..body_end].to_owned());
        rest = &rest[body_end..];
    }
    bodies
}
