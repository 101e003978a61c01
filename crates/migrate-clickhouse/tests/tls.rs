//! HTTPS from the client's side: CA file, the built-in roots, `skip_verify`, and what goes on the wire.
//!
//! No TLS-enabled ClickHouse is available to the tests, so a small rustls server on 127.0.0.1 stands in for
//! the HTTPS port: it answers every request with `26.9.2.1` and hands the request text back to the test.
//! `tests/tls/` holds a test CA, a server certificate it signed for `localhost` and `127.0.0.1` (valid until
//! 2125), its key, and an unrelated CA.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use migrate_clickhouse::{ChClient, ChConnSpec, ChError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

/// Serves HTTPS on a free port until the test ends; each request's head goes to the returned channel.
fn https_server() -> (u16, mpsc::Receiver<String>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(data("server.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, tcp);
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // A failed handshake (the client rejected the certificate) ends the connection here.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            if request.is_empty() {
                continue;
            }
            let body = "26.9.2.1\n";
            let answer =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes());
            let _ = stream.flush();
            stream.conn.send_close_notify();
            let _ = stream.flush();
            let _ = sender.send(String::from_utf8_lossy(&request).into_owned());
        }
    });
    (port, receiver)
}

fn client(port: u16, params: &str) -> ChClient {
    let dsn = format!("https://alice:pa55word@localhost:{port}/analytics?{params}");
    ChClient::new(&ChConnSpec::parse(&dsn).unwrap()).unwrap()
}

#[tokio::test]
async fn a_ca_file_is_trusted_and_the_password_travels_in_a_header() {
    let (port, requests) = https_server();
    let ca = data("ca.pem");
    let client = client(port, &format!("ca_file={}&max_threads=2", ca.display()));
    let rows = client.query("SELECT version() FORMAT TabSeparated").await.unwrap();
    assert_eq!(rows, [["26.9.2.1"]]);
    let request = requests.recv().unwrap();
    let request_line = request.lines().next().unwrap();
    assert_eq!(request_line, "POST /?database=analytics&max_threads=2&wait_end_of_query=1 HTTP/1.1");
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.contains("x-clickhouse-user: alice\r\n") && lower.contains("x-clickhouse-key: pa55word\r\n"),
        "{request}"
    );
}

#[tokio::test]
async fn an_unknown_issuer_is_refused_unless_skip_verify() {
    let (port, _requests) = https_server();
    // The built-in roots do not know the test CA; neither does another CA.
    for params in [String::new(), format!("ca_file={}", data("other-ca.pem").display())] {
        let error = client(port, &params).execute("SELECT 1").await.unwrap_err();
        assert!(matches!(error, ChError::Connect { .. }), "{error:?}");
        let text = error.to_string();
        assert!(text.contains("UnknownIssuer") || text.contains("certificate"), "{text}");
        assert!(!text.contains("pa55word"), "{text}");
    }
    let rows = client(port, "skip_verify=true").query("SELECT version() FORMAT TabSeparated").await.unwrap();
    assert_eq!(rows, [["26.9.2.1"]]);
}

#[test]
fn a_bad_ca_file_is_an_error_not_a_panic() {
    let spec = ChConnSpec::parse("https://localhost/?ca_file=/nonexistent/ca.pem").unwrap();
    let error = ChClient::new(&spec).unwrap_err();
    assert!(error.to_string().starts_with("reading the CA file /nonexistent/ca.pem"), "{error}");
    // A plain-HTTP DSN never reads it.
    let spec = ChConnSpec::parse("http://localhost/?ca_file=/nonexistent/ca.pem").unwrap();
    assert!(ChClient::new(&spec).is_ok());
}
