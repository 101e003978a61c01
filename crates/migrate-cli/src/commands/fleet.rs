//! `status --all` and `up --all`: every target of a workspace `migrate.toml` (each `[services.NAME]` in
//! each environment it has, each tenant database of it), several at once (`--jobs`), each with its own
//! connection, lock and log lines (named `[service/environment]`), then one summary table or JSON
//! document. A target that fails or cannot be reached is reported; the others go on (unless
//! `--fail-fast`). `--shard INDEX/COUNT` keeps the targets whose name hashes to INDEX, so the pods of an
//! Indexed Job share them out exactly once.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use migrate::{Migration, StatusState};
use migrate_config::Tenants;
use serde::Serialize;

use crate::commands::{metrics, migrations_and_connection, run};
use crate::database::{resolve_configured, Database};
use crate::drivers::{DriverKind, Target};
use crate::env::Env;
use crate::error::{CliError, EXIT_FAILURE, EXIT_PENDING};
use crate::output::{json, Output};
use crate::project::Project;
use crate::settings::{Command, Fleet, Settings};

/// How long `status --all` waits for one target unless `--timeout` says.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Which target a line or a result is about, as the JSON documents name it.
#[derive(Debug, Clone, Default, Serialize)]
struct TargetName {
    /// `service/environment[/tenant]`.
    target: String,
    service: String,
    environment: String,
    tenant: Option<String>,
}

/// One target: its name and its settings, or why it has none (a variable it needs is not set...).
struct Planned {
    name: TargetName,
    settings: Result<Settings, String>,
}

/// The ENVSUB variable naming a tenant, in its migrations.
const TENANT_VAR: &str = "MIGRATE_TENANT";

impl Planned {
    /// The environment a target runs with: the process's, plus `MIGRATE_TENANT` for a tenant.
    fn env(&self, env: &Env) -> Env {
        match &self.name.tenant {
            Some(tenant) => env.with_var(TENANT_VAR, tenant),
            None => env.clone(),
        }
    }
}

/// Runs the command over the workspace's targets.
pub(crate) async fn run(settings: &Settings, fleet: &Fleet, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let targets = plan(settings, fleet, env).await?;
    if targets.is_empty() {
        return Err(CliError::Usage(
            "--all found no target: no service has the environment asked for (or this shard has none)".to_owned(),
        ));
    }
    match settings.command {
        Command::Status => status_all(settings, fleet, targets, env, out).await,
        _ => up_all(settings, fleet, targets, env, out).await,
    }
}

/// Every target of the workspace, in name order, this shard's share only.
async fn plan(settings: &Settings, fleet: &Fleet, env: &Env) -> Result<Vec<Planned>, CliError> {
    let config = &fleet.config;
    let environments: BTreeSet<&String> = match &fleet.environment {
        Some(name) => [name].into_iter().collect(),
        None => {
            config.environments.keys().chain(config.services.values().flat_map(|s| s.environments.keys())).collect()
        }
    };
    let mut targets = Vec::new();
    for (name, service) in &config.services {
        if !fleet.services.is_empty() && !fleet.services.contains(name) {
            continue;
        }
        for environment in &environments {
            let project = Project::for_service(config.clone(), name, environment);
            if project.environment().is_none() {
                continue;
            }
            let id = format!("{name}/{environment}");
            let resolved = target_settings(settings, fleet, &project, env);
            let tenants = match (&service.tenants, &resolved) {
                (Some(tenants), Ok(base)) => match list_tenants(tenants, base, env).await {
                    Ok(names) => Some(names),
                    Err(error) => {
                        targets.push(Planned {
                            name: target_name(id, name, environment, None),
                            settings: Err(format!("listing the tenants failed: {error}")),
                        });
                        continue;
                    }
                },
                _ => None,
            };
            match tenants {
                None => targets.push(Planned {
                    name: target_name(id, name, environment, None),
                    settings: resolved.map_err(|e| e.to_string()),
                }),
                Some(names) => {
                    let schemas = service.tenants.as_ref().is_some_and(Tenants::are_schemas);
                    for tenant in names {
                        let settings = resolved.as_ref().map_err(|e| e.to_string()).and_then(|base| {
                            let mut settings = base.clone();
                            if schemas {
                                tenant_schema(&mut settings, &tenant)?;
                            } else {
                                settings.database = base.database.as_ref().map(|db| db.with_database_name(&tenant));
                            }
                            Ok(settings)
                        });
                        targets.push(Planned {
                            name: target_name(format!("{id}/{tenant}"), name, environment, Some(tenant)),
                            settings,
                        });
                    }
                }
            }
        }
    }
    if let Some((index, count)) = fleet.shard {
        targets.retain(|target| shard_of(&target.name.target, count) == index);
    }
    targets.sort_by(|a, b| a.name.target.cmp(&b.name.target));
    Ok(targets)
}

fn target_name(target: String, service: &str, environment: &str, tenant: Option<String>) -> TargetName {
    TargetName { target, service: service.to_owned(), environment: environment.to_owned(), tenant }
}

/// The settings of one service in one environment, as a single run would have them.
fn target_settings(base: &Settings, fleet: &Fleet, project: &Project, env: &Env) -> Result<Settings, CliError> {
    let mut settings = base.clone();
    settings.fleet = None;
    settings.json = false;
    settings.dir = project.dir(None, env);
    settings.table = project.table(None, env);
    settings.ops = project.operations(&fleet.ops, &settings.dir, env)?;
    let read = |path: &std::path::Path| std::fs::read_to_string(path);
    let configured = project.database(&settings.ops.service)?.ok_or_else(|| {
        CliError::Usage(
            "the environment names no database for this service (database_url, database_url_env or database)"
                .to_owned(),
        )
    })?;
    settings.database = Some(resolve_configured(&configured, env, &read)?);
    if let Some(environment) = project.environment() {
        settings.lock_wait = settings.lock_wait.or(environment.lock_wait);
        settings.lint.no_lint |= environment.lint == Some(false);
    }
    Ok(settings)
}

/// A tenant that is a schema of the environment's database: `search_path` set to it, the version table in
/// it (unless the table is already schema-qualified).
fn tenant_schema(settings: &mut Settings, schema: &str) -> Result<(), String> {
    let database = settings.database.as_ref().ok_or("no database")?;
    if database.driver != DriverKind::Postgres {
        return Err(
            "schema tenants need PostgreSQL (a ClickHouse tenant is a database: use databases, file or command)"
                .to_owned(),
        );
    }
    let valid = schema.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("tenant schema {schema:?}: only letters, digits and _ are accepted in a schema name"));
    }
    let with_path = crate::database::with_params(database.dsn(), &[("search_path", schema)]);
    settings.database =
        Some(Database::new(database.driver, with_path, format!("{} (tenant schema {schema})", database.origin)));
    if !settings.table.contains('.') {
        settings.table = format!("{schema}.{}", settings.table);
    }
    Ok(())
}

/// The tenant database (or schema) names of a service's environment.
async fn list_tenants(tenants: &Tenants, base: &Settings, env: &Env) -> Result<Vec<String>, String> {
    let lines = |text: &str| -> Vec<String> {
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
    };
    match tenants {
        Tenants::Databases(names) | Tenants::Schemas(names) => Ok(names.clone()),
        Tenants::File(path) => {
            std::fs::read_to_string(path).map(|t| lines(&t)).map_err(|e| format!("{}: {e}", path.display()))
        }
        Tenants::Command(argv) => {
            let output = tokio::process::Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .output()
                .await
                .map_err(|e| format!("running {}: {e}", argv[0]))?;
            if !output.status.success() {
                return Err(format!("{} exited with {}", argv[0], output.status));
            }
            Ok(lines(&String::from_utf8_lossy(&output.stdout)))
        }
        Tenants::Query(sql) | Tenants::SchemaQuery(sql) => {
            let database = base.database.as_ref().ok_or("no database to run the tenant query on")?;
            let Target::Postgres(spec) =
                Target::parse(database.driver, database.dsn(), env).map_err(|e| e.to_string())?
            else {
                return Err("a tenant query needs a PostgreSQL database; list ClickHouse tenants with databases, file or command".to_owned());
            };
            let mut driver = migrate::postgres::PgDriver::connect_spec(&spec, migrate::postgres::PgConfig::default())
                .await
                .map_err(|e| e.to_string())?;
            let connection = driver.connection().map_err(|e| e.to_string())?;
            let names: Vec<String> = migrate::sqlx::query_scalar(migrate::sqlx::AssertSqlSafe(sql.clone()))
                .fetch_all(connection)
                .await
                .map_err(|e| format!("the tenant query failed: {e}"))?;
            let _ = driver.close().await;
            Ok(names)
        }
    }
}

/// The shard a target belongs to: FNV-1a of its name, so a target keeps its shard when others come and go.
fn shard_of(id: &str, count: u64) -> u64 {
    let hash =
        id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    hash % count
}

/// What `status --all` found at one target.
#[derive(Debug, Default, Serialize)]
struct TargetStatus {
    #[serde(flatten)]
    name: TargetName,
    reachable: bool,
    version: Option<i64>,
    pending: usize,
    partial: usize,
    changed: usize,
    lock: Option<String>,
    error: Option<String>,
}

async fn status_all(
    settings: &Settings,
    fleet: &Fleet,
    targets: Vec<Planned>,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let timeout = settings.timeout.unwrap_or(STATUS_TIMEOUT);
    let mut results: Vec<TargetStatus> = stream::iter(targets)
        .map(|target| async move {
            let env = &target.env(env);
            let mut status = TargetStatus { name: target.name.clone(), ..TargetStatus::default() };
            let settings = match target.settings {
                Ok(settings) => settings,
                Err(error) => {
                    status.error = Some(error);
                    return status;
                }
            };
            let out = out.for_target(&target.name.target);
            match tokio::time::timeout(timeout, read_status(&settings, env, &out, &mut status)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => status.error = Some(error.to_string()),
                Err(_) => status.error = Some(format!("no answer within {}", crate::output::go_duration(timeout))),
            }
            status
        })
        .buffer_unordered(fleet.jobs)
        .collect()
        .await;
    results.sort_by(|a, b| a.name.target.cmp(&b.name.target));
    let failed = results.iter().any(|r| r.error.is_some());
    let pending = results.iter().any(|r| r.pending > 0 || r.partial > 0);
    if settings.json {
        #[derive(Serialize)]
        struct Document<'a> {
            command: &'static str,
            all: bool,
            ok: bool,
            targets: &'a [TargetStatus],
        }
        out.stdout(&json::render(
            &Document { command: "status", all: true, ok: !failed, targets: &results },
            out.secrets(),
        ))?;
    } else {
        out.log_lines(&status_table(&results));
    }
    Ok(if failed {
        ExitCode::from(EXIT_FAILURE)
    } else if pending {
        ExitCode::from(EXIT_PENDING)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one target: its version table, progress, checksums and lock, without writing anything.
async fn read_status(settings: &Settings, env: &Env, out: &Output, status: &mut TargetStatus) -> Result<(), CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    status.reachable = true;
    let rows = driver
        .list_applied()
        .await
        .map_err(|e| CliError::failed(format!("reading the version table failed: {e}")))?
        .unwrap_or_default();
    let progress = if driver.keeps_progress() {
        driver.list_progress().await.map_err(|e| CliError::failed(format!("reading the progress failed: {e}")))?
    } else {
        Vec::new()
    };
    let entries = migrate::status(&migrations, Some(&rows), &progress);
    status.version = Some(migrate::current_version(&rows).unwrap_or(0));
    status.pending = entries.iter().filter(|e| e.state == StatusState::Pending).count();
    status.partial = entries.iter().filter(|e| matches!(e.state, StatusState::Partial { .. })).count();
    status.changed = changed_count(driver.as_mut(), &migrations, &rows).await?;
    status.lock = driver.holder().await;
    Ok(())
}

/// Applied migrations whose file changed since (their checksum findings).
async fn changed_count(
    driver: &mut dyn migrate::Driver,
    migrations: &[Migration],
    rows: &[migrate::AppliedRow],
) -> Result<usize, CliError> {
    if !driver.keeps_checksums() {
        return Ok(0);
    }
    let recorded = driver
        .list_checksums()
        .await
        .map_err(|e| CliError::failed(format!("reading the checksums failed: {e}")))?
        .unwrap_or_default();
    let check = migrate::check_history(migrations, rows, &recorded).map_err(|e| CliError::failed(e.to_string()))?;
    Ok(check.changed.len())
}

fn status_table(results: &[TargetStatus]) -> Vec<String> {
    let width = results.iter().map(|r| r.name.target.len()).max().unwrap_or(6).max(6);
    let mut lines = vec![format!(
        "{:<width$}  {:<9}  {:>14}  {:>7}  {:>7}  {:>7}  LOCK",
        "TARGET", "REACHABLE", "VERSION", "PENDING", "PARTIAL", "CHANGED"
    )];
    for r in results {
        let version = r.version.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let lock = match (&r.lock, &r.error) {
            (_, Some(error)) => format!("error: {error}"),
            (Some(holder), None) => format!("held by {holder}"),
            (None, None) => "free".to_owned(),
        };
        lines.push(format!(
            "{:<width$}  {:<9}  {version:>14}  {:>7}  {:>7}  {:>7}  {lock}",
            r.name.target,
            if r.reachable { "yes" } else { "no" },
            r.pending,
            r.partial,
            r.changed
        ));
    }
    lines
}

/// What `up --all` did at one target.
#[derive(Debug, Default, Serialize)]
struct TargetRun {
    #[serde(flatten)]
    name: TargetName,
    ok: bool,
    skipped: bool,
    version_before: Option<i64>,
    version_after: Option<i64>,
    applied: usize,
    duration_ms: u64,
    error: Option<String>,
}

async fn up_all(
    settings: &Settings,
    fleet: &Fleet,
    targets: Vec<Planned>,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let stop = AtomicBool::new(false);
    let stop = &stop;
    let Command::Migrate(command) = settings.command else {
        return Err(CliError::Usage("--all works with status and up".to_owned()));
    };
    let mut results: Vec<TargetRun> = stream::iter(targets)
        .map(|target| async move {
            let env = &target.env(env);
            let mut result = TargetRun { name: target.name.clone(), ..TargetRun::default() };
            if stop.load(Ordering::SeqCst) {
                result.skipped = true;
                result.error = Some("not started: an earlier target failed (--fail-fast)".to_owned());
                return result;
            }
            let settings = match target.settings {
                Ok(settings) => settings,
                Err(error) => {
                    result.error = Some(error);
                    stop.store(fleet.fail_fast, Ordering::SeqCst);
                    return result;
                }
            };
            let out = out.for_target(&target.name.target);
            let started = Instant::now();
            let outcome = run::run(command, &settings, env, &out).await;
            result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            if metrics::wanted(&settings) {
                metrics::publish(&settings, env, started.elapsed(), outcome.is_err(), &out).await;
            }
            match outcome {
                Ok(_) => {
                    result.ok = true;
                    if let Some((before, after, applied)) = out.notes().run {
                        result.version_before = Some(before);
                        result.version_after = after;
                        result.applied = applied;
                    }
                }
                Err(error) => {
                    out.log_error("migrate run:", &error);
                    if let CliError::Run(run) = &error {
                        result.applied = run.applied.len();
                    }
                    result.error = Some(out.scrub(&error.to_string()).into_owned());
                    stop.store(fleet.fail_fast, Ordering::SeqCst);
                }
            }
            result
        })
        .buffer_unordered(fleet.jobs)
        .collect()
        .await;
    results.sort_by(|a, b| a.name.target.cmp(&b.name.target));
    let failed = results.iter().filter(|r| !r.ok).count();
    if settings.json {
        #[derive(Serialize)]
        struct Document<'a> {
            command: &'static str,
            all: bool,
            ok: bool,
            targets: &'a [TargetRun],
        }
        let document = Document { command: settings.command.name(), all: true, ok: failed == 0, targets: &results };
        out.stdout(&json::render(&document, out.secrets()))?;
    } else {
        out.log_lines(&run_table(&results));
    }
    Ok(if failed > 0 { ExitCode::from(EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

fn run_table(results: &[TargetRun]) -> Vec<String> {
    let width = results.iter().map(|r| r.name.target.len()).max().unwrap_or(6).max(6);
    let mut lines = vec![format!(
        "{:<width$}  {:<7}  {:>14}  {:>14}  {:>7}  {:>9}  ERROR",
        "TARGET", "RESULT", "BEFORE", "AFTER", "APPLIED", "DURATION"
    )];
    let version = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    for r in results {
        let result = if r.ok {
            "ok"
        } else if r.skipped {
            "skipped"
        } else {
            "failed"
        };
        let error = r.error.as_deref().and_then(|e| e.lines().next()).unwrap_or("");
        lines.push(format!(
            "{:<width$}  {result:<7}  {:>14}  {:>14}  {:>7}  {:>7}ms  {error}",
            r.name.target,
            version(r.version_before),
            version(r.version_after),
            r.applied,
            r.duration_ms
        ));
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    lines.push(format!("{} target(s): {} ok, {failed} failed or skipped", results.len(), results.len() - failed));
    lines
}

impl Database {
    /// The same server and credentials, another database (a tenant): a later `dbname`/`database`
    /// parameter replaces the URL's, in both drivers' parsers.
    pub(crate) fn with_database_name(&self, name: &str) -> Database {
        let key = match self.driver {
            DriverKind::Postgres => "dbname",
            DriverKind::ClickHouse => "database",
        };
        Database::new(
            self.driver,
            crate::database::with_params(self.dsn(), &[(key, name)]),
            format!("{} (tenant {name})", self.origin),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_target_once() {
        let ids: Vec<String> = (0..200).map(|n| format!("tenants/prod/tenant_{n:03}")).collect();
        let mut seen = vec![0; ids.len()];
        for index in 0..4 {
            for (n, id) in ids.iter().enumerate() {
                if shard_of(id, 4) == index {
                    seen[n] += 1;
                }
            }
        }
        assert!(seen.iter().all(|count| *count == 1));
        let sizes: Vec<usize> = (0..4).map(|i| ids.iter().filter(|id| shard_of(id, 4) == i).count()).collect();
        assert!(sizes.iter().all(|size| (30..=70).contains(size)), "{sizes:?}");
    }
}
