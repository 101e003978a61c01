//! The migration lock: a lease in a companion table (`<version table>_lock`), because ClickHouse has no
//! advisory lock, no transaction and no conditional write.
//!
//! # Protocol
//!
//! A runner that wants the lock:
//!
//! 1. **claims**: inserts a row `(token, owner, ticket, held = 0, released = 0, expires = now() + lease)`,
//!    where `token` is new for every attempt and `ticket` is the time of the runner's first attempt;
//! 2. **reads back** the live claims: those not released and not expired by the server's clock, each claim
//!    being the fold of its rows (`max(released)`, `max(expires)`, `max(held)`);
//! 3. **holds the lock if and only if its own claim is the only live one.** Then it writes a renewal row
//!    with `held = 1` and renews every lease/6 from a background task.
//!    Otherwise it withdraws (writes `released = 1`) and retries after a jittered back-off, except the
//!    claim first in `(ticket, token)` order when no live claim is marked held: that one re-reads for a
//!    short while, giving the others time to withdraw, so that contenders make progress instead of all
//!    withdrawing in step. The order only decides who waits; it plays no part in safety.
//! 4. **releases** by stopping the renewals and writing `released = 1` (on every path: the runner calls
//!    `release` after success and after failure). An expired lease is simply not live any more, which is
//!    how a crashed holder's lock is taken over.
//!
//! # Guarantee (one server)
//!
//! Two runners never hold the lock at the same time, given:
//!
//! - (a) an `INSERT` into a MergeTree table is visible to every query that starts after the insert
//!   answered, and a query sees one snapshot of the table's parts. This is how a single ClickHouse server
//!   behaves (the driver also turns `async_insert` and the query cache off for its own requests on servers
//!   that have them);
//! - (b) the server's clock does not jump, and the local monotonic clock runs at nearly the server's
//!   rate (the margin below absorbs the 1-second resolution of `DateTime` and small drift).
//!
//! Argument: say X and Y both hold, with decisive reads at `rX < rY`. X's claim was inserted before `rX`,
//! and a holder's claim stays live while it holds (next paragraph), so the read at `rY` saw it live, and
//! Y could not have decided it holds. Contradiction.
//!
//! A holder's claim stays live while it holds: the holder computes a local deadline,
//! `send time of its last successful claim or renewal + lease - margin`, which is before the server-side
//! expiry that write set (`now() + lease`, computed after the request was sent). A renewal counts only if
//! its answer arrived before the current deadline, so the claim was live without a gap. Before every
//! statement and every write to the version and progress tables, the driver checks the deadline and stops
//! with [`ChError::LeaseLost`] once it has passed: a runner that cannot renew (network trouble, a paused
//! process) stops before another can take over.
//!
//! Limits: a statement already running when the lease lapses is not interrupted (the renewals continue
//! during long statements, so this needs the server to be unreachable for the renewals but not for the
//! statement). In single-server mode the guarantee is for one server: on a cluster each node has its own
//! tables, exactly as goose's version table, and nothing is coordinated between nodes.
//!
//! # Guarantee (cluster mode)
//!
//! In cluster mode the lock table is a `ReplicatedReplacingMergeTree` created `ON CLUSTER`, and runners
//! may talk to different hosts. The same argument holds once (a) holds across hosts, and that is what the
//! writes are chosen for: claims and renewals are inserted with `insert_quorum` = every replica of the
//! lock table (read from `system.replicas` each time the lock is requested), so an insert that answered is
//! on every replica, and a read that starts afterwards on any host sees it. Reads are plain reads of the
//! host the runner talks to; they may also see claims that never reached their quorum, which only makes a
//! runner withdraw more often, never hold wrongly. Withdrawals and releases are plain inserts: they only
//! ever make a claim not live, and the runner writing them has stopped.
//!
//! Why not the other designs. Quorum inserts plus `select_sequential_consistency` with a majority quorum
//! would let the lock work with a host down, but 18.16 makes such reads fail on any replica that lacks the
//! newest quorum part, and a migration cannot complete its `ON CLUSTER` DDL with a host down anyway. A
//! non-replicated lock table on one designated host would need every runner to reach that host, which the
//! HTTP interface of another host cannot do without credentials in SQL text.
//!
//! So in cluster mode the lock needs every replica of the lock table up: a runner waits (up to the
//! cluster's DDL timeout) for them to be active before claiming, and a holder whose renewals fail because
//! a host went down loses its lease after it, stopping before its next statement. Assumption (b) extends
//! to every host's clock: the margin absorbs differences of about a second between them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::cluster::Quorum;
use crate::error::ChError;
use crate::http::Bookkeeping;
use crate::sql::{LockRow, Sql};

/// How long the claim first in line re-reads before withdrawing like the others.
const LEAD_POLL: Duration = Duration::from_millis(25);
const LEAD_POLLS: u32 = 20;
/// Back-off between attempts, doubled up to the maximum, each with up to 100 % jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// How often a waiting runner says who holds the lock.
const REPORT_EVERY: Duration = Duration::from_secs(5);
/// The shortest lease: the holder relies on the lease minus about 2 s, and renews every sixth of it.
pub(crate) const MIN_LEASE: Duration = Duration::from_secs(5);
/// The `seq` of a release row: the highest, so ReplacingMergeTree keeps it over any renewal.
const RELEASE_SEQ: u32 = u32::MAX;
/// The least time a quorum claim is given to get through the other quorum inserts in flight.
const QUORUM_MIN_WAIT: Duration = Duration::from_secs(1);

/// The lease lock of one driver.
#[derive(Debug)]
pub(crate) struct LeaseLock {
    owner: String,
    lease: Duration,
    wait: Duration,
    attempts: u64,
    held: Option<Held>,
    /// Cluster mode: claims and renewals are quorum inserts.
    quorum: Option<Quorum>,
}

#[derive(Debug)]
struct Held {
    token: String,
    ticket: u64,
    lease: Arc<Mutex<LeaseState>>,
    heartbeat: JoinHandle<()>,
}

/// What the renewal task and the driver share.
#[derive(Debug)]
struct LeaseState {
    /// Until when the claim is certainly live at the server.
    deadline: Instant,
    /// Why renewing failed, once it did.
    lost: Option<String>,
    /// The last renewal error, for the message when the deadline passes.
    last_error: Option<String>,
}

/// One live claim, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Claim {
    token: String,
    owner: String,
    ticket: u64,
    held: bool,
    expires_in: i64,
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Ours is the only live claim.
    Won,
    /// Ours is first in line and nobody holds: read again shortly.
    Lead,
    /// Someone holds or is ahead: withdraw and retry.
    Lost,
    /// Our own claim is not live any more (it expired before we read).
    Gone,
}

impl LeaseLock {
    /// A lock for `owner` (unique per driver): `lease` is how long a claim lives without renewal, `wait`
    /// how long `acquire` tries.
    pub(crate) fn new(owner: String, lease: Duration, wait: Duration) -> LeaseLock {
        LeaseLock { owner, lease: lease.max(MIN_LEASE), wait, attempts: 0, held: None, quorum: None }
    }

    /// The driver's owner id (`host-pid-random`), as it appears in the lock table.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    /// Sets how claims and renewals are written from the next `acquire` on: with a quorum of every
    /// replica in cluster mode, plainly otherwise.
    pub(crate) fn set_quorum(&mut self, quorum: Option<Quorum>) {
        self.quorum = quorum;
    }

    fn lease_secs(&self) -> u64 {
        self.lease.as_secs().max(1)
    }

    /// The part of the lease the holder relies on: it allows for `DateTime`'s whole seconds and drift.
    fn usable_lease(&self) -> Duration {
        let margin = Duration::from_secs(2) + self.lease / 20;
        Duration::from_secs(self.lease_secs()).saturating_sub(margin)
    }

    /// Waits for the lock, up to the configured wait.
    /// The lock table must exist.
    pub(crate) async fn acquire(&mut self, bk: &Bookkeeping, sql: &Sql) -> Result<(), ChError> {
        if self.held.is_some() {
            return Ok(());
        }
        let started = Instant::now();
        let ticket = unix_nanos();
        let mut backoff = FIRST_BACKOFF;
        let mut last_report: Option<Instant> = None;
        loop {
            self.attempts += 1;
            let token = format!("{}-{}", self.owner, self.attempts);
            let sent = Instant::now();
            let claim = sql.write_lock_row(&self.row(&token, ticket, 0, false, false));
            let within = self.usable_lease().min(self.wait.saturating_sub(started.elapsed())).max(QUORUM_MIN_WAIT);
            if let Err(error) = write_claim(bk, self.quorum, &claim, within).await {
                // The insert may have landed all the same (a timeout): withdraw so it blocks nobody.
                self.withdraw(bk, sql, &token, ticket).await;
                return Err(error);
            }
            let claims = match self.contend(bk, sql, &token, sent).await {
                Ok(Ok(deadline)) => {
                    self.start_holding(bk, sql, token, ticket, deadline);
                    tracing::debug!(owner = %self.owner, waited = ?started.elapsed(), "migration lock taken");
                    return Ok(());
                }
                Ok(Err(claims)) => claims,
                Err(error) => {
                    self.withdraw(bk, sql, &token, ticket).await;
                    return Err(error);
                }
            };
            self.withdraw(bk, sql, &token, ticket).await;
            // A holder that crashed on this very machine (same host, same PID namespace, its process gone)
            // cannot be running: its lease is released now instead of waiting for it to lapse.
            let dead: Vec<&Claim> = claims.iter().filter(|c| c.token != token && holder_is_gone(&c.owner)).collect();
            let mut released_any = false;
            if !dead.is_empty() {
                for claim in &dead {
                    tracing::info!(holder = %claim.owner, "the migration lock's holder is gone (its process no longer exists on this host): taking over its lease");
                    let row = LockRow {
                        token: &claim.token,
                        owner: &claim.owner,
                        ticket: claim.ticket,
                        seq: RELEASE_SEQ,
                        held: false,
                        released: true,
                        lease_secs: self.lease_secs(),
                    };
                    match bk.execute(&sql.write_lock_row(&row)).await {
                        Ok(_) => released_any = true,
                        Err(error) => {
                            tracing::warn!(error = %error, "releasing a gone holder's lock claim failed; waiting for its lease")
                        }
                    }
                }
            }
            if released_any {
                continue;
            }
            let holder = describe_holder(&claims, &token);
            let waited = started.elapsed();
            if waited >= self.wait {
                return Err(ChError::LockTimeout { table: sql.lock_table().quoted.clone(), waited, holder });
            }
            if last_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                let holder = holder.unwrap_or_else(|| "another runner".to_owned());
                tracing::info!(holder = %holder, waited = ?waited, "waiting for the migration lock");
                last_report = Some(Instant::now());
            }
            tokio::time::sleep(jitter(backoff).min(self.wait.saturating_sub(waited))).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Reads back until the claim wins or loses: the deadline of the lease on a win, the live claims
    /// otherwise.
    async fn contend(
        &self,
        bk: &Bookkeeping,
        sql: &Sql,
        token: &str,
        sent: Instant,
    ) -> Result<Result<Instant, Vec<Claim>>, ChError> {
        let mut polls = 0;
        loop {
            let claims = read_claims(bk, sql).await?;
            match decide(&claims, token) {
                Decision::Won => return Ok(Ok(sent + self.usable_lease())),
                Decision::Lead if polls < LEAD_POLLS && sent.elapsed() < self.usable_lease() / 2 => {
                    polls += 1;
                    tokio::time::sleep(LEAD_POLL).await;
                }
                Decision::Lead | Decision::Lost | Decision::Gone => return Ok(Err(claims)),
            }
        }
    }

    fn row<'a>(&'a self, token: &'a str, ticket: u64, seq: u32, held: bool, released: bool) -> LockRow<'a> {
        LockRow { token, owner: &self.owner, ticket, seq, held, released, lease_secs: self.lease_secs() }
    }

    /// Withdraws a claim that did not win; on failure the claim simply expires after the lease.
    async fn withdraw(&self, bk: &Bookkeeping, sql: &Sql, token: &str, ticket: u64) {
        let row = self.row(token, ticket, RELEASE_SEQ, false, true);
        if let Err(error) = bk.execute(&sql.write_lock_row(&row)).await {
            tracing::warn!(error = %error, "withdrawing a lock claim failed; it expires with its lease");
        }
    }

    fn start_holding(&mut self, bk: &Bookkeeping, sql: &Sql, token: String, ticket: u64, deadline: Instant) {
        let lease = Arc::new(Mutex::new(LeaseState { deadline, lost: None, last_error: None }));
        let renewer = Renewer {
            bk: bk.clone(),
            sql: sql.clone(),
            token: token.clone(),
            owner: self.owner.clone(),
            ticket,
            lease_secs: self.lease_secs(),
            usable: self.usable_lease(),
            interval: (self.lease / 6).max(Duration::from_millis(200)),
            state: lease.clone(),
            quorum: self.quorum,
        };
        let heartbeat = tokio::spawn(renewer.run());
        self.held = Some(Held { token, ticket, lease, heartbeat });
    }

    /// Fails once the lease can no longer be relied on; a no-op when the lock is not held.
    pub(crate) fn check(&self) -> Result<(), ChError> {
        let Some(held) = &self.held else { return Ok(()) };
        let state =
            held.lease.lock().map_err(|_| ChError::LeaseLost { reason: "the renewal task panicked".to_owned() })?;
        if let Some(reason) = &state.lost {
            return Err(ChError::LeaseLost { reason: reason.clone() });
        }
        if Instant::now() >= state.deadline {
            let reason = match &state.last_error {
                Some(error) => format!("renewing failed: {error}"),
                None => "it was not renewed in time".to_owned(),
            };
            return Err(ChError::LeaseLost { reason });
        }
        Ok(())
    }

    /// Stops renewing and releases the claim.
    pub(crate) async fn release(&mut self, bk: &Bookkeeping, sql: &Sql) -> Result<(), ChError> {
        let Some(held) = self.held.take() else { return Ok(()) };
        held.heartbeat.abort();
        // Wait for the task to stop; a renewal it already sent is harmless, since a release row wins
        // (`max(released)`, and the highest `seq` for ReplacingMergeTree).
        let _ = held.heartbeat.await;
        let row = self.row(&held.token, held.ticket, RELEASE_SEQ, true, true);
        bk.execute(&sql.write_lock_row(&row)).await.map(|_| ())
    }
}

impl Drop for LeaseLock {
    fn drop(&mut self) {
        // A driver dropped while holding (a panic, a cancelled future): stop renewing so the lease expires.
        if let Some(held) = &self.held {
            held.heartbeat.abort();
        }
    }
}

/// The background renewal of a held lease.
struct Renewer {
    bk: Bookkeeping,
    sql: Sql,
    token: String,
    owner: String,
    ticket: u64,
    lease_secs: u64,
    usable: Duration,
    interval: Duration,
    state: Arc<Mutex<LeaseState>>,
    quorum: Option<Quorum>,
}

impl Renewer {
    async fn run(self) {
        // seq 1 is the `held` mark, written at once: it tells waiting claims that someone holds.
        let mut seq: u32 = 1;
        let mut first = true;
        loop {
            if !first {
                tokio::time::sleep(self.interval).await;
            }
            first = false;
            let sent = Instant::now();
            let Some(deadline) = self.deadline() else { return };
            if sent >= deadline {
                self.set_lost("it was not renewed before it ended".to_owned());
                return;
            }
            let row = LockRow {
                token: &self.token,
                owner: &self.owner,
                ticket: self.ticket,
                seq,
                held: true,
                released: false,
                lease_secs: self.lease_secs,
            };
            seq = seq.saturating_add(1).min(RELEASE_SEQ - 1);
            let sql = self.sql.write_lock_row(&row);
            let within = deadline - sent;
            match tokio::time::timeout(within, write_claim(&self.bk, self.quorum, &sql, within)).await {
                Ok(Ok(_)) if Instant::now() < deadline => self.update(|s| s.deadline = sent + self.usable),
                Ok(Ok(_)) => {
                    self.set_lost("a renewal was answered only after the lease ended".to_owned());
                    return;
                }
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "renewing the migration lock failed; retrying");
                    self.update(|s| s.last_error = Some(error.to_string()));
                }
                Err(_) => {
                    self.set_lost("a renewal did not complete before the lease ended".to_owned());
                    return;
                }
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.state.lock().ok().map(|s| s.deadline)
    }

    fn update(&self, change: impl FnOnce(&mut LeaseState)) {
        if let Ok(mut state) = self.state.lock() {
            change(&mut state);
        }
    }

    fn set_lost(&self, reason: String) {
        tracing::error!(reason = %reason, "the migration lock's lease lapsed");
        self.update(|s| {
            let reason = match &s.last_error {
                Some(error) => format!("{reason}; last error: {error}"),
                None => reason,
            };
            s.lost = Some(reason);
        });
    }
}

/// Writes a claim or a renewal: with the quorum in cluster mode (retried while other quorum inserts are in
/// flight, for at most `within`), plainly otherwise.
async fn write_claim(bk: &Bookkeeping, quorum: Option<Quorum>, sql: &str, within: Duration) -> Result<(), ChError> {
    match quorum {
        Some(quorum) => quorum.insert(bk, sql, within).await,
        None => bk.execute(sql).await.map(|_| ()),
    }
}

async fn read_claims(bk: &Bookkeeping, sql: &Sql) -> Result<Vec<Claim>, ChError> {
    let rows = bk.query(&sql.live_claims()).await?;
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [token, owner, ticket, held, expires_in] => Ok(Claim {
                token: token.clone(),
                owner: owner.clone(),
                ticket: ticket.parse().unwrap_or(0),
                held: held == "1",
                expires_in: expires_in.parse().unwrap_or(0),
            }),
            _ => Err(ChError::Unexpected { action: "reading the lock table", text: row.join("\t") }),
        })
        .collect()
}

/// The rule of step 3 of the protocol; `claims` are in `(ticket, token)` order.
fn decide(claims: &[Claim], token: &str) -> Decision {
    if !claims.iter().any(|c| c.token == token) {
        return Decision::Gone;
    }
    if claims.len() == 1 {
        return Decision::Won;
    }
    if claims.iter().any(|c| c.held && c.token != token) {
        return Decision::Lost;
    }
    if claims.first().is_some_and(|c| c.token == token) {
        return Decision::Lead;
    }
    Decision::Lost
}

/// Who holds the lock now (or claims it), read without claiming: `None` when nobody does, or when the lock
/// table cannot be read (it does not exist before the first locked run).
pub(crate) async fn holder(bk: &Bookkeeping, sql: &Sql) -> Option<String> {
    let claims = read_claims(bk, sql).await.ok()?;
    describe_holder(&claims, "")
}

/// Who holds (or is ahead), for messages: `owner (holding, lease ends in 25 s)`.
fn describe_holder(claims: &[Claim], token: &str) -> Option<String> {
    let others = claims.iter().filter(|c| c.token != token);
    let claim = others.clone().find(|c| c.held).or_else(|| others.clone().next())?;
    let what = if claim.held { "holding" } else { "claiming" };
    Some(format!("{} ({what}, lease ends in {} s)", claim.owner, claim.expires_in))
}

/// A random number from the standard library's per-process random hash keys.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(unix_nanos().into());
    hasher.finish()
}

/// `base` plus up to as much again, at random, so runners that collide do not retry in step.
pub(crate) fn jitter(base: Duration) -> Duration {
    base + base.mul_f64((random_u64() % 1000) as f64 / 1000.0)
}

pub(crate) fn unix_nanos() -> u64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

/// `hostname-pid-8hex`, as goose's table locker names its instances, then `-pidns` (the PID namespace's
/// inode): together they let the next runner on the same machine tell that a crashed holder is gone.
pub(crate) fn owner_id() -> String {
    let host = hostname();
    let namespace = pid_namespace().map(|ns| format!("-ns{ns}")).unwrap_or_default();
    format!("{host}-{}-{:08x}{namespace}", std::process::id(), random_u64() as u32)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

/// This process's PID namespace, as the inode number of `/proc/self/ns/pid` (`pid:[4026531836]`).
fn pid_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_str()?;
    text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// Whether an owner id names a process that is provably gone: written by a runner on this host in this
/// PID namespace (the same `hostname` and `ns` parts) whose PID no longer exists. An owner without a
/// namespace part (goose's, or an older migrate) is never judged gone.
fn holder_is_gone(owner: &str) -> bool {
    let Some((rest, namespace)) = owner.rsplit_once("-ns") else { return false };
    let Some((rest, _random)) = rest.rsplit_once('-') else { return false };
    let Some((host, pid)) = rest.rsplit_once('-') else { return false };
    let (Ok(namespace), Ok(pid)) = (namespace.parse::<u64>(), pid.parse::<u32>()) else { return false };
    if Some(namespace) != pid_namespace() || host != hostname() || pid == std::process::id() {
        return false;
    }
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(token: &str, held: bool) -> Claim {
        Claim { token: token.to_owned(), owner: format!("owner-{token}"), ticket: 1, held, expires_in: 20 }
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(&[claim("a", false)], "a"), Decision::Won);
        assert_eq!(decide(&[claim("b", false)], "a"), Decision::Gone);
        assert_eq!(decide(&[claim("a", false), claim("b", false)], "a"), Decision::Lead);
        assert_eq!(decide(&[claim("a", false), claim("b", false)], "b"), Decision::Lost);
        // A holder wins over order: the first in line waits for it by withdrawing.
        assert_eq!(decide(&[claim("a", false), claim("b", true)], "a"), Decision::Lost);
        assert_eq!(
            describe_holder(&[claim("a", false), claim("b", true)], "a").as_deref(),
            Some("owner-b (holding, lease ends in 20 s)")
        );
    }

    #[tokio::test]
    async fn a_lapsed_or_lost_lease_stops_the_holder() {
        let mut lock = LeaseLock::new(owner_id(), Duration::from_secs(30), Duration::from_secs(1));
        assert!(lock.check().is_ok(), "not holding: nothing to check");
        let deadline = Instant::now() + Duration::from_millis(50);
        let lease = Arc::new(Mutex::new(LeaseState { deadline, lost: None, last_error: Some("HTTP 503".to_owned()) }));
        let heartbeat = tokio::spawn(async {});
        lock.held = Some(Held { token: "t".to_owned(), ticket: 1, lease: lease.clone(), heartbeat });
        assert!(lock.check().is_ok());
        tokio::time::sleep(Duration::from_millis(60)).await;
        let error = lock.check().unwrap_err().to_string();
        assert!(error.contains("lease lapsed (renewing failed: HTTP 503)"), "{error}");
        lease.lock().unwrap().lost = Some("a renewal did not complete before the lease ended".to_owned());
        let error = lock.check().unwrap_err().to_string();
        assert!(error.contains("a renewal did not complete"), "{error}");
    }

    #[test]
    fn leases_have_a_floor_and_a_margin() {
        let lock = LeaseLock::new(owner_id(), Duration::from_secs(1), Duration::from_secs(1));
        assert_eq!(lock.lease, MIN_LEASE);
        assert_eq!(lock.usable_lease(), Duration::from_millis(2750));
        let lock = LeaseLock::new(owner_id(), Duration::from_secs(30), Duration::from_secs(1));
        assert_eq!(lock.usable_lease(), Duration::from_millis(26500));
    }

    #[test]
    fn only_a_holder_gone_from_this_machine_is_taken_over() {
        let ours = owner_id();
        assert!(!holder_is_gone(&ours), "this process is alive: {ours}");
        let (prefix, namespace) = ours.rsplit_once("-ns").unwrap();
        let (host_pid, random) = prefix.rsplit_once('-').unwrap();
        let (host, _) = host_pid.rsplit_once('-').unwrap();
        // A PID that does not exist (beyond pid_max), same host and namespace: gone.
        assert!(holder_is_gone(&format!("{host}-4194305-{random}-ns{namespace}")));
        // PID 1 exists: not gone. Another host, another namespace, or no namespace part: never judged.
        assert!(!holder_is_gone(&format!("{host}-1-{random}-ns{namespace}")));
        assert!(!holder_is_gone(&format!("elsewhere-4194305-{random}-ns{namespace}")));
        assert!(!holder_is_gone(&format!("{host}-4194305-{random}-ns1")));
        assert!(!holder_is_gone(&format!("{host}-4194305-{random}")));
        assert!(!holder_is_gone("goose-locker"));
    }

    #[test]
    fn owner_ids_are_unique() {
        assert_ne!(owner_id(), owner_id());
        assert!(owner_id().contains(&format!("-{}-", std::process::id())));
    }
}
