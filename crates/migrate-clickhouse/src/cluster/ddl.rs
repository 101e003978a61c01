//! Confirming that an `ON CLUSTER` statement finished on every host.
//!
//! The statement goes with `distributed_ddl_task_timeout` set per query (the server's 180 s default is
//! far too long to learn that a host is down) and, on current releases, `distributed_ddl_output_mode =
//! throw`. The server answers in one of two ways:
//!
//! - **Success**: one row per host (`host, port, status, error, …`), only once every host finished. Every
//!   status must be 0.
//! - **An error**: the first failing host's error, or code 159 when some host did not finish in time. The
//!   per-host rows that had already arrived are lost over HTTP (the answer is only the exception), so the
//!   hosts are read from the task's znodes through `system.zookeeper`, which every release has (18.16 has
//!   no `system.distributed_ddl_queue`): the task lists its `hosts`, each host that finished has a
//!   `finished/<host>` node holding its status, and a host working on it now has an `active/<host>` node.
//!   The task is the one the timeout message names, or else the first task created after the statement
//!   was sent (its sequence number is above the newest task's, read just before sending) that failed on
//!   the host the error names.
//!
//! A statement that did not finish everywhere fails with a [`DdlReport`]: the runner does not count it as
//! done and does not record the migration. Hosts that ran it keep its effect (ClickHouse rolls nothing
//! back), and a host that did not answer runs it when it is back, so such statements must be repeatable.

use std::fmt;
use std::time::Duration;

use crate::error::{code, ChError, ServerError};
use crate::http::{parse_tab_separated, unescape, Bookkeeping};

use super::sql::ClusterSql;

/// What one host did with an `ON CLUSTER` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostState {
    /// It finished without error.
    Done,
    /// It failed there.
    Failed {
        /// The ClickHouse error code, when known.
        code: Option<u32>,
        /// The host's error message.
        message: String,
    },
    /// It was still running there when the wait ended.
    Running,
    /// The host has not taken the task: it is down, unreachable or behind on its queue. The task stays
    /// queued, and the host runs it when it is back.
    NoAnswer,
}

/// One host's part of an `ON CLUSTER` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOutcome {
    /// `host:port` as the cluster configuration names it (the native port).
    pub host: String,
    /// What it did.
    pub state: HostState,
}

/// Where an `ON CLUSTER` statement that did not finish on every host stands, host by host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlReport {
    /// The DDL task in the server's queue (`query-0000000042`), when it was found.
    pub task: Option<String>,
    /// Every host of the task (or every host that answered, when the task could not be read).
    pub hosts: Vec<HostOutcome>,
}

impl DdlReport {
    /// Whether every host finished without error.
    pub fn all_done(&self) -> bool {
        self.hosts.iter().all(|h| h.state == HostState::Done)
    }

    /// The hosts where the statement did not finish, failed or not answered.
    pub fn unfinished(&self) -> impl Iterator<Item = &HostOutcome> {
        self.hosts.iter().filter(|h| h.state != HostState::Done)
    }
}

impl fmt::Display for DdlReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ON CLUSTER statement finished on only part of the cluster")?;
        if let Some(task) = &self.task {
            write!(f, " (DDL task {task})")?;
        }
        let group = |wanted: fn(&HostState) -> bool| -> Vec<&HostOutcome> {
            self.hosts.iter().filter(|h| wanted(&h.state)).collect()
        };
        let mut parts = Vec::new();
        for host in group(|s| matches!(s, HostState::Failed { .. })) {
            if let HostState::Failed { code, message } = &host.state {
                let code = code.map(|c| format!("error {c}: ")).unwrap_or_default();
                parts.push(format!("failed on {} ({code}{message})", host.host));
            }
        }
        let list = |hosts: Vec<&HostOutcome>| hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>().join(", ");
        let silent = group(|s| *s == HostState::NoAnswer);
        if !silent.is_empty() {
            parts
                .push(format!("no answer from {} (down or behind: it runs there once the host is back)", list(silent)));
        }
        let running = group(|s| *s == HostState::Running);
        if !running.is_empty() {
            parts.push(format!("still running on {}", list(running)));
        }
        let done = group(|s| *s == HostState::Done);
        if !done.is_empty() {
            parts.push(format!("done on {}", list(done)));
        }
        if parts.is_empty() {
            parts.push("no host reported".to_owned());
        }
        write!(
            f,
            ": {}. It is not counted as done and the migration is not recorded; hosts where it ran keep its \
             effect and the next run sends it again, so write it to be repeatable (IF NOT EXISTS, IF EXISTS)",
            parts.join("; ")
        )
    }
}

/// The per-query settings of an `ON CLUSTER` statement.
#[derive(Debug, Clone)]
pub(crate) struct DdlSettings {
    timeout_secs: String,
    /// Whether the server has `distributed_ddl_output_mode` (current releases), set to `throw`.
    output_mode: bool,
    /// The client's limit for the request: the server's wait and a margin.
    client_timeout: Duration,
}

impl DdlSettings {
    pub(crate) fn new(timeout_secs: u64, output_mode: bool) -> DdlSettings {
        DdlSettings {
            timeout_secs: timeout_secs.to_string(),
            output_mode,
            client_timeout: Duration::from_secs(timeout_secs + 30),
        }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs = vec![("distributed_ddl_task_timeout", self.timeout_secs.as_str())];
        if self.output_mode {
            pairs.push(("distributed_ddl_output_mode", "throw"));
        }
        pairs
    }
}

/// Sends an `ON CLUSTER` statement (in `session`, or as bookkeeping when `None`) and confirms it on every
/// host: the answer's body on success, a [`ChError::ClusterDdl`] naming the hosts otherwise.
pub(crate) async fn run_on_cluster(
    bk: &Bookkeeping,
    sql: &ClusterSql,
    settings: &DdlSettings,
    statement: &str,
    session: Option<&str>,
) -> Result<String, ChError> {
    let mark = queue_mark(bk, sql).await?;
    let pairs = settings.pairs();
    match bk.send_in(statement, session, &pairs, Some(settings.client_timeout)).await {
        Ok(body) => confirm_answer(bk, sql, mark, body).await,
        Err(error) => Err(explain_failure(bk, sql, mark, error).await),
    }
}

async fn queue_mark(bk: &Bookkeeping, sql: &ClusterSql) -> Result<u64, ChError> {
    let error = |source: ChError| ChError::DdlQueue { path: sql.queue().to_owned(), source: Box::new(source) };
    let body = bk.execute(&sql.queue_mark()).await.map_err(error)?;
    match body.trim() {
        "" => Err(error(ChError::Unexpected { action: "reading the DDL queue", text: "no such node".to_owned() })),
        text => text
            .parse()
            .map_err(|_| error(ChError::Unexpected { action: "reading the DDL queue", text: text.to_owned() })),
    }
}

async fn confirm_answer(bk: &Bookkeeping, sql: &ClusterSql, mark: u64, body: String) -> Result<String, ChError> {
    if let Some(hosts) = parse_host_rows(&body) {
        let report = DdlReport { task: None, hosts };
        return if report.all_done() { Ok(body) } else { Err(ChError::ClusterDdl { report, server: None }) };
    }
    // No per-host rows (a format or output mode set elsewhere): ask the queue.
    match find_task(bk, sql, mark, None).await {
        Ok(Some(report)) if report.all_done() => Ok(body),
        Ok(Some(report)) => Err(ChError::ClusterDdl { report, server: None }),
        Ok(None) => {
            tracing::warn!("an ON CLUSTER statement answered without per-host rows and left no DDL task to check");
            Ok(body)
        }
        Err(error) => Err(error),
    }
}

/// Turns the error of a failed `ON CLUSTER` statement into a per-host report when its task can be found.
async fn explain_failure(bk: &Bookkeeping, sql: &ClusterSql, mark: u64, error: ChError) -> ChError {
    let message = match &error {
        ChError::Server(server) => server.message().to_owned(),
        _ => String::new(),
    };
    let failing_host = host_in_message(&message);
    let lookup = match task_in_message(&message) {
        Some(task) => report_for(bk, sql, &task, None).await.map(Some),
        // A transport error or a timeout may come after the task was queued; an error that names a host
        // came from the task. Anything else (a syntax error, an unknown cluster) failed before queueing.
        None if failing_host.is_some()
            || !matches!(error, ChError::Server(_))
            || error.code() == Some(code::TIMEOUT_EXCEEDED) =>
        {
            find_task(bk, sql, mark, failing_host.as_deref()).await
        }
        None => Ok(None),
    };
    match lookup {
        Ok(Some(report)) => ChError::ClusterDdl { report, server: Some(Box::new(error)) },
        Ok(None) => error,
        Err(read_error) => {
            tracing::warn!(error = %read_error, "could not read the DDL queue to tell which hosts ran the failed ON CLUSTER statement");
            error
        }
    }
}

/// The first task created since `mark` (that failed on `failing_host`, when given), as a report.
async fn find_task(
    bk: &Bookkeeping,
    sql: &ClusterSql,
    mark: u64,
    failing_host: Option<&str>,
) -> Result<Option<DdlReport>, ChError> {
    for row in bk.query(&sql.tasks_from(mark)).await? {
        let [name, value] = row.as_slice() else { continue };
        let report = report_for(bk, sql, name, Some(value)).await?;
        let matches = match failing_host {
            None => true,
            Some(host) => report.hosts.iter().any(|h| h.host == host && matches!(h.state, HostState::Failed { .. })),
        };
        if matches {
            return Ok(Some(report));
        }
    }
    Ok(None)
}

/// Reads a task's hosts and their state.
async fn report_for(
    bk: &Bookkeeping,
    sql: &ClusterSql,
    task: &str,
    value: Option<&String>,
) -> Result<DdlReport, ChError> {
    let value = match value {
        Some(value) => value.clone(),
        None => bk.query(&sql.task(task)).await?.into_iter().find_map(|row| row.get(1).cloned()).unwrap_or_default(),
    };
    let finished: Vec<(String, String)> = bk
        .query(&sql.task_children(task, "finished"))
        .await?
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [name, value] => Some((name.clone(), value.clone())),
            _ => None,
        })
        .collect();
    let active: Vec<String> = bk
        .query(&sql.task_children(task, "active"))
        .await?
        .into_iter()
        .filter_map(|row| row.first().cloned())
        .collect();
    let mut ids = task_hosts(&value);
    // A task whose host list could not be read: report the hosts that left a trace.
    if ids.is_empty() {
        ids = finished.iter().map(|(id, _)| id.clone()).chain(active.iter().cloned()).collect();
    }
    let hosts = ids
        .iter()
        .map(|id| {
            let state = match finished.iter().find(|(name, _)| name == id) {
                Some((_, status)) => parse_status(status),
                None if active.contains(id) => HostState::Running,
                None => HostState::NoAnswer,
            };
            HostOutcome { host: unescape_host(id), state }
        })
        .collect();
    Ok(DdlReport { task: Some(task.to_owned()), hosts })
}

/// The per-host rows of a successful `ON CLUSTER` answer: `host, port, status, error, …`.
fn parse_host_rows(body: &str) -> Option<Vec<HostOutcome>> {
    let rows = parse_tab_separated(body);
    if rows.is_empty() {
        return None;
    }
    rows.iter()
        .map(|row| {
            let [host, port, status, rest @ ..] = row.as_slice() else { return None };
            let port: u16 = port.parse().ok()?;
            let state = match status.as_str() {
                "0" => HostState::Done,
                // NULL (`\N`, unescaped to `N`): the `null_status_on_timeout` and `never_throw` modes of
                // current releases list hosts that did not finish.
                "N" => HostState::NoAnswer,
                other => {
                    let code: i64 = other.parse().ok()?;
                    let message = rest.first().cloned().unwrap_or_default();
                    HostState::Failed { code: u32::try_from(code).ok(), message: clean_message(&message) }
                }
            };
            Some(HostOutcome { host: format!("{host}:{port}"), state })
        })
        .collect()
}

/// A `finished/<host>` value: `0` or `<code>\n<message>`, the message escaped as in `TabSeparated`.
fn parse_status(value: &str) -> HostState {
    let (code, message) = value.split_once('\n').unwrap_or((value, ""));
    match code.trim().parse::<u32>() {
        Ok(0) => HostState::Done,
        Ok(code) => HostState::Failed { code: Some(code), message: clean_message(&unescape(message)) },
        Err(_) => HostState::Failed { code: None, message: clean_message(value) },
    }
}

/// The message of a host's error without the code and class decorations.
fn clean_message(text: &str) -> String {
    ServerError::from_answer(500, None, text).message().to_owned()
}

/// The host ids of a task's `hosts: ['127%2E0%2E0%2E1:9000', …]` line.
fn task_hosts(value: &str) -> Vec<String> {
    let Some(line) = value.lines().find_map(|line| line.strip_prefix("hosts: ")) else { return Vec::new() };
    let mut hosts = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut host = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => host.extend(chars.next()),
                '\'' => break,
                c => host.push(c),
            }
        }
        hosts.push(host);
    }
    hosts
}

/// `127%2E0%2E0%2E1:9000` → `127.0.0.1:9000` (the DDL worker escapes host names as file names).
fn unescape_host(id: &str) -> String {
    let bytes = id.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `host:port` from `There was an error on [host:port]: …`.
fn host_in_message(message: &str) -> Option<String> {
    let after = message.split("There was an error on [").nth(1)?;
    after.split_once(']').map(|(host, _)| host.to_owned())
}

/// `query-NNNNNNNNNN` from `Watching task /clickhouse/task_queue/ddl/query-NNNNNNNNNN is executing …`.
fn task_in_message(message: &str) -> Option<String> {
    let after = message.split("/query-").nth(1)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| format!("query-{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(host: &str, state: HostState) -> HostOutcome {
        HostOutcome { host: host.to_owned(), state }
    }

    #[test]
    fn answers_of_18_16() {
        let rows = parse_host_rows("127.0.0.1\t29000\t0\t\t1\t0\n127.0.0.1\t19000\t0\t\t0\t0\n").unwrap();
        assert_eq!(rows, [host("127.0.0.1:29000", HostState::Done), host("127.0.0.1:19000", HostState::Done)]);
        let rows = parse_host_rows("h\t9000\t57\tCode: 57, e.displayText() = DB::Exception: Table x already exists., e.what() = DB::Exception\t0\t0\n");
        let failed = HostState::Failed { code: Some(57), message: "Table x already exists.".to_owned() };
        assert_eq!(rows.unwrap(), [host("h:9000", failed)]);
        assert_eq!(parse_host_rows(""), None);
        assert_eq!(parse_host_rows("{\"data\": []}"), None);
        assert_eq!(parse_host_rows("h\t9000\t\\N\t\\N\t1\t0").unwrap(), [host("h:9000", HostState::NoAnswer)]);
    }

    #[test]
    fn task_nodes() {
        let value = "version: 1\nquery: CREATE TABLE x ON CLUSTER c (a UInt8) ENGINE = ReplicatedMergeTree(\\'/p\\', \\'r\\')\nhosts: ['127%2E0%2E0%2E1:19000','127%2E0%2E0%2E1:29000']\ninitiator: vm:19000\n";
        assert_eq!(task_hosts(value), ["127%2E0%2E0%2E1:19000", "127%2E0%2E0%2E1:29000"]);
        assert_eq!(task_hosts("version: 1\n"), Vec::<String>::new());
        assert_eq!(unescape_host("127%2E0%2E0%2E1:29000"), "127.0.0.1:29000");
        assert_eq!(unescape_host("odd%2host%"), "odd%2host%");
        assert_eq!(parse_status("0\n"), HostState::Done);
        assert_eq!(
            parse_status(
                "57\nCode: 57, e.displayText() = DB::Exception: Table db1.x already exists., e.what() = DB::Exception"
            ),
            HostState::Failed { code: Some(57), message: "Table db1.x already exists.".to_owned() }
        );
        assert_eq!(
            parse_status(
                "60\nCode: 60, e.displayText() = DB::Exception: Table d.t doesn\\'t exist., e.what() = DB::Exception"
            ),
            HostState::Failed { code: Some(60), message: "Table d.t doesn't exist.".to_owned() }
        );
    }

    #[test]
    fn messages() {
        let timeout = "Watching task /clickhouse/task_queue/ddl/query-0000000009 is executing longer than distributed_ddl_task_timeout (=2) seconds. There are 1 unfinished hosts (0 of them are currently active), they are going to execute the query in background";
        assert_eq!(task_in_message(timeout).as_deref(), Some("query-0000000009"));
        assert_eq!(task_in_message("Syntax error"), None);
        let failed = "There was an error on [127.0.0.1:29000]: Code: 57, e.displayText() = DB::Exception: Table x already exists.";
        assert_eq!(host_in_message(failed).as_deref(), Some("127.0.0.1:29000"));
        assert_eq!(host_in_message(timeout), None);
    }

    #[test]
    fn reports_name_every_host() {
        let report = DdlReport {
            task: Some("query-0000000009".to_owned()),
            hosts: vec![
                host("127.0.0.1:19000", HostState::Done),
                host("127.0.0.1:29000", HostState::NoAnswer),
                host(
                    "127.0.0.1:39000",
                    HostState::Failed { code: Some(57), message: "Table x already exists.".to_owned() },
                ),
                host("127.0.0.1:49000", HostState::Running),
            ],
        };
        assert!(!report.all_done());
        assert_eq!(report.unfinished().count(), 3);
        let text = report.to_string();
        assert!(text.starts_with("ON CLUSTER statement finished on only part of the cluster (DDL task query-0000000009): failed on 127.0.0.1:39000 (error 57: Table x already exists.); no answer from 127.0.0.1:29000 (down"), "{text}");
        assert!(
            text.contains("still running on 127.0.0.1:49000; done on 127.0.0.1:19000. It is not counted as done"),
            "{text}"
        );
        let settings = DdlSettings::new(3, true);
        assert_eq!(settings.pairs(), [("distributed_ddl_task_timeout", "3"), ("distributed_ddl_output_mode", "throw")]);
    }
}
