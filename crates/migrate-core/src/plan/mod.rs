//! The planner: a function from the available migrations, the version table's rows and a request to the
//! ordered steps to run, with goose's semantics for every command; its only I/O is reading, once, the text
//! of a migration it selected. `--dry-run`, `status`, the CLI and
//! the library all read the same [`Plan`]; the runner executes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::driver::AppliedRow;
use crate::parser::{parse, ParseError, ParseWarning, Statement};
use crate::progress::Progress;
use crate::source::{Migration, MigrationKind, ResolveProblem};
use crate::{Direction, Version};

/// When a row was written: the version table's `tstamp`, wall-clock time as the server wrote it.
pub type AppliedAt = chrono::NaiveDateTime;

/// What to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Apply every pending migration.
    Up,
    /// Apply the next pending migration; an error when there is none.
    UpByOne,
    /// Apply pending migrations up to and including a version.
    UpTo(i64),
    /// Roll back the current version.
    Down,
    /// Roll back while the current version is above the target (`0` rolls back everything).
    DownTo(i64),
    /// Roll back the current version and apply it again.
    Redo,
    /// Roll back every applied migration that has a file, highest version first.
    Reset,
    /// Apply or roll back exactly one version (goose's Provider `ApplyVersion`).
    Apply {
        /// The version.
        version: Version,
        /// Which way.
        direction: Direction,
    },
}

/// A request to the planner. Deliberately without `Default`: every switch is a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanRequest {
    /// The command.
    pub command: Command,
    /// Apply missing (out-of-order) migrations, before the new ones, instead of refusing.
    pub allow_missing: bool,
    /// goose's `-no-versioning`: run by file order and never touch the version table.
    pub no_versioning: bool,
}

/// The ordered steps of one command.
#[derive(Debug, Clone)]
pub struct Plan<'m> {
    command: Command,
    steps: Vec<PlanStep<'m>>,
    current_version: i64,
}

impl<'m> Plan<'m> {
    /// The command planned.
    pub fn command(&self) -> Command {
        self.command
    }

    /// The steps, in the order they run.
    pub fn steps(&self) -> &[PlanStep<'m>] {
        &self.steps
    }

    /// goose's current version before the plan runs (0 with no rows or under no-versioning).
    pub fn current_version(&self) -> i64 {
        self.current_version
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every parse warning of the migrations the plan runs, once per file (redo runs a file twice).
    pub fn warnings(&self) -> impl Iterator<Item = &ParseWarning> {
        (0..self.steps.len()).flat_map(|index| self.warnings_at(index).iter())
    }

    /// The warnings to show when step `index` starts: its file's, unless an earlier step runs that file.
    pub fn warnings_at(&self, index: usize) -> &[ParseWarning] {
        let Some(step) = self.steps.get(index) else { return &[] };
        let earlier = &self.steps[..index];
        if step.warnings.is_empty() || earlier.iter().any(|s| std::ptr::eq(s.migration, step.migration)) {
            return &[];
        }
        &step.warnings
    }
}

/// One migration run in one direction.
#[derive(Debug, Clone)]
pub struct PlanStep<'m> {
    /// The migration.
    pub migration: &'m Migration,
    /// Which way it runs.
    pub direction: Direction,
    /// What runs.
    pub body: StepBody<'m>,
    /// Whether the version table is written (false under no-versioning).
    pub record: bool,
    /// Parse warnings of the file.
    pub warnings: Vec<ParseWarning>,
}

impl<'m> PlanStep<'m> {
    /// The migration's version.
    pub fn version(&self) -> Version {
        self.migration.version()
    }

    /// The statements this step sends (none for a code migration).
    pub fn statements(&self) -> &[Statement<'m>] {
        match &self.body {
            StepBody::Sql { statements, .. } => statements,
            StepBody::Code { .. } => &[],
        }
    }

    /// Whether the step runs inside one transaction.
    pub fn transaction(&self) -> bool {
        match &self.body {
            StepBody::Sql { transaction, .. } | StepBody::Code { transaction, .. } => *transaction,
        }
    }
}

/// What a step runs.
#[derive(Debug, Clone)]
pub enum StepBody<'m> {
    /// SQL statements from the file's section for the direction.
    Sql {
        /// The statements.
        statements: Vec<Statement<'m>>,
        /// False for NO TRANSACTION files.
        transaction: bool,
    },
    /// A registered code migration.
    Code {
        /// Whether it gets the migration's transaction.
        transaction: bool,
        /// Whether a function exists for the direction (the version is recorded either way).
        runs: bool,
    },
}

/// Why a command cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Migrations older than the database's version that were never applied.
    #[error("found {count} missing migration(s) before current version {db_version}:\n\t{list}\nthey were added out of order (never applied, and older than the current version {db_version})", count = missing.len(), list = format_missing(missing))]
    Missing {
        /// The database's highest applied version.
        db_version: i64,
        /// The missing migrations: version and path.
        missing: Vec<(Version, String)>,
    },
    /// `up-by-one` with nothing pending, or no applied row to call current.
    #[error("no next version found: nothing is pending")]
    NoNextVersion,
    /// `down`/`redo` at version 0.
    #[error("no migration to roll back: the database is at version 0")]
    NothingToRollBack,
    /// The current version has no file.
    #[error("version {version} is applied but its migration file is missing: restore the file to roll it back")]
    NoFileForVersion {
        /// The version.
        version: i64,
    },
    /// `apply` of a version that is already applied.
    #[error("version {version} is already applied")]
    AlreadyApplied {
        /// The version.
        version: Version,
    },
    /// `apply` down of a version that is not applied.
    #[error("version {version} is not applied")]
    NotApplied {
        /// The version.
        version: Version,
    },
    /// `apply` of a version with no migration.
    #[error("no migration with version {version}")]
    VersionNotFound {
        /// The version.
        version: Version,
    },
    /// A migration the plan would run does not parse: nothing runs.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A migration the plan would run could not be read: nothing runs.
    #[error(transparent)]
    Source(ResolveProblem),
}

fn format_missing(missing: &[(Version, String)]) -> String {
    missing.iter().map(|(version, path)| format!("version {version}: {path}")).collect::<Vec<_>>().join("\n\t")
}

/// The versions goose counts as applied (the most recent row of each says so), for the history check.
pub(crate) fn applied_versions(rows: &[AppliedRow]) -> BTreeSet<i64> {
    DbState::new(rows).applied.into_keys().collect()
}

/// The version table read the way goose reads it.
struct DbState<'r> {
    /// Rows, most recently applied first.
    rows: &'r [AppliedRow],
    /// Versions (above 0) whose most recent row says applied.
    applied: BTreeMap<i64, Option<AppliedAt>>,
}

impl<'r> DbState<'r> {
    fn new(rows: &'r [AppliedRow]) -> DbState<'r> {
        let mut seen = BTreeSet::new();
        let mut applied = BTreeMap::new();
        for row in rows {
            if seen.insert(row.version) && row.is_applied && row.version != 0 {
                applied.insert(row.version, row.applied_at);
            }
        }
        DbState { rows, applied }
    }

    fn is_applied(&self, version: Version) -> bool {
        self.applied.contains_key(&version.get())
    }

    fn max_version(&self) -> i64 {
        self.applied.keys().next_back().copied().unwrap_or(0)
    }
}

/// goose's "current version": walking the rows most recent first, the first version whose latest row says
/// applied (so after an out-of-order apply it is the most recently applied, not the highest).
pub fn current_version(rows: &[AppliedRow]) -> Option<i64> {
    let mut rolled_back = BTreeSet::new();
    for row in rows {
        if rolled_back.contains(&row.version) {
            continue;
        }
        if row.is_applied {
            return Some(row.version);
        }
        rolled_back.insert(row.version);
    }
    None
}

/// Plans a command. Every migration the plan runs is parsed, both directions, before anything runs.
///
/// `migrations` must be ordered by version (as [`crate::resolve`] returns them); `rows` are the version
/// table's rows, most recently applied first; `lookup` supplies ENVSUB variables.
pub fn plan<'m>(
    migrations: &'m [Migration],
    rows: &[AppliedRow],
    request: &PlanRequest,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan<'m>, PlanError> {
    plan_with(migrations, rows, request, lookup, HashMap::new())
}

/// Plans a command as [`plan`] does, for the same migrations and request, taking every step `previous`
/// already built for the same migration and direction instead of parsing its file again.
///
/// A runner plans before it takes the lock (to learn whether there is anything to do) and again under it
/// (another runner may have moved the database on); the second plan is usually the first one, and
/// parsing a large migration twice would cost as much as reading it.
pub fn replan<'m>(
    previous: Plan<'m>,
    migrations: &'m [Migration],
    rows: &[AppliedRow],
    request: &PlanRequest,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan<'m>, PlanError> {
    let built = previous.steps.into_iter().map(|step| ((step.version().get(), step.direction), step)).collect();
    plan_with(migrations, rows, request, lookup, built)
}

fn plan_with<'m>(
    migrations: &'m [Migration],
    rows: &[AppliedRow],
    request: &PlanRequest,
    lookup: &dyn Fn(&str) -> Option<String>,
    mut built: HashMap<(i64, Direction), PlanStep<'m>>,
) -> Result<Plan<'m>, PlanError> {
    let selected = if request.no_versioning {
        select_unversioned(migrations, request.command)?
    } else {
        select(migrations, &DbState::new(rows), request)?
    };
    let record = !request.no_versioning;
    let mut steps = Vec::with_capacity(selected.len());
    for (migration, direction) in selected {
        let step = match built.remove(&(migration.version().get(), direction)) {
            Some(step) if std::ptr::eq(step.migration, migration) && step.record == record => step,
            _ => build_step(migration, direction, record, lookup)?,
        };
        steps.push(step);
    }
    let current_version = if request.no_versioning { 0 } else { current_version(rows).unwrap_or(0) };
    Ok(Plan { command: request.command, steps, current_version })
}

fn build_step<'m>(
    migration: &'m Migration,
    direction: Direction,
    record: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PlanStep<'m>, PlanError> {
    let (body, warnings) = match migration.kind() {
        MigrationKind::Sql { text } => {
            let text = text.get().map_err(PlanError::Source)?;
            let parsed = parse(migration.path(), text, lookup)?;
            let transaction = !parsed.no_transaction();
            let (statements, warnings) = parsed.into_direction(direction);
            (StepBody::Sql { statements, transaction }, warnings)
        }
        MigrationKind::Code(info) => {
            let runs = match direction {
                Direction::Up => info.has_up,
                Direction::Down => info.has_down,
            };
            (StepBody::Code { transaction: info.transaction, runs }, Vec::new())
        }
    };
    Ok(PlanStep { migration, direction, body, record, warnings })
}

type Selection<'m> = Vec<(&'m Migration, Direction)>;

fn find(migrations: &[Migration], version: i64) -> Option<&Migration> {
    migrations
        .binary_search_by_key(&version, |migration| migration.version().get())
        .ok()
        .map(|index| &migrations[index])
}

fn select<'m>(
    migrations: &'m [Migration],
    db: &DbState<'_>,
    request: &PlanRequest,
) -> Result<Selection<'m>, PlanError> {
    let up_to = |target: i64, by_one: bool| -> Result<Selection<'m>, PlanError> {
        let db_max = db.max_version();
        let pending = migrations.iter().filter(|m| !db.is_applied(m.version()) && m.version().get() <= target);
        let (missing, new): (Vec<&Migration>, Vec<&Migration>) = pending.partition(|m| m.version().get() < db_max);
        if !missing.is_empty() && !request.allow_missing {
            let missing = missing.iter().map(|m| (m.version(), m.path().to_owned())).collect();
            return Err(PlanError::Missing { db_version: db_max, missing });
        }
        let mut selection: Selection<'m> = missing.into_iter().chain(new).map(|m| (m, Direction::Up)).collect();
        if by_one {
            if selection.is_empty() {
                return Err(PlanError::NoNextVersion);
            }
            selection.truncate(1);
        }
        Ok(selection)
    };
    let current_with_file = |rows: &[AppliedRow]| -> Result<Option<&'m Migration>, PlanError> {
        match current_version(rows) {
            None => Err(PlanError::NoNextVersion),
            Some(0) => Ok(None),
            Some(version) => find(migrations, version).map(Some).ok_or(PlanError::NoFileForVersion { version }),
        }
    };
    match request.command {
        Command::Up => up_to(i64::MAX, false),
        Command::UpByOne => up_to(i64::MAX, true),
        Command::UpTo(target) => up_to(target, false),
        Command::Down => {
            let migration = current_with_file(db.rows)?.ok_or(PlanError::NothingToRollBack)?;
            Ok(vec![(migration, Direction::Down)])
        }
        Command::Redo => {
            let migration = current_with_file(db.rows)?.ok_or(PlanError::NothingToRollBack)?;
            Ok(vec![(migration, Direction::Down), (migration, Direction::Up)])
        }
        Command::DownTo(target) => {
            let mut rows = db.rows.to_vec();
            let mut selection = Vec::new();
            while let Some(migration) = current_with_file(&rows)? {
                if migration.version().get() <= target {
                    break;
                }
                selection.push((migration, Direction::Down));
                rows.retain(|row| row.version != migration.version().get());
            }
            Ok(selection)
        }
        Command::Reset => {
            Ok(migrations.iter().rev().filter(|m| db.is_applied(m.version())).map(|m| (m, Direction::Down)).collect())
        }
        Command::Apply { version, direction } => {
            let migration = find(migrations, version.get()).ok_or(PlanError::VersionNotFound { version })?;
            match (direction, db.is_applied(version)) {
                (Direction::Up, true) => Err(PlanError::AlreadyApplied { version }),
                (Direction::Down, false) => Err(PlanError::NotApplied { version }),
                _ => Ok(vec![(migration, direction)]),
            }
        }
    }
}

/// goose's legacy `-no-versioning` semantics: files only, the version table is never read.
fn select_unversioned(migrations: &[Migration], command: Command) -> Result<Selection<'_>, PlanError> {
    let ups = |filter: &dyn Fn(&Migration) -> bool| {
        migrations.iter().filter(|m| filter(m)).map(|m| (m, Direction::Up)).collect()
    };
    let last = migrations.last();
    Ok(match command {
        Command::Up => ups(&|_| true),
        Command::UpTo(target) => ups(&|m| m.version().get() <= target),
        Command::UpByOne => migrations.first().map(|m| (m, Direction::Up)).into_iter().collect(),
        Command::Down => last.map(|m| (m, Direction::Down)).into_iter().collect(),
        Command::Redo => last.map(|m| vec![(m, Direction::Down), (m, Direction::Up)]).unwrap_or_default(),
        Command::DownTo(target) => {
            migrations.iter().rev().filter(|m| m.version().get() > target).map(|m| (m, Direction::Down)).collect()
        }
        Command::Reset => migrations.iter().rev().map(|m| (m, Direction::Down)).collect(),
        Command::Apply { version, direction } => {
            let migration = find(migrations, version.get()).ok_or(PlanError::VersionNotFound { version })?;
            vec![(migration, direction)]
        }
    })
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry<'m> {
    /// The version.
    pub version: i64,
    /// The migration, or `None` for a version that is in the database but has no file.
    pub migration: Option<&'m Migration>,
    /// Its state.
    pub state: StatusState,
}

/// The state of one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// Applied, at this time.
    Applied(Option<AppliedAt>),
    /// Not applied.
    Pending,
    /// Under `-no-versioning`, where nothing is known.
    NoVersioning,
    /// A migration that ran outside a transaction and stopped after `done` of `total` statements; the
    /// next run in that direction resumes it.
    Partial {
        /// The direction that was running.
        direction: Direction,
        /// Statements completed.
        done: usize,
        /// Statements in the section.
        total: usize,
    },
}

impl fmt::Display for StatusState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusState::Applied(Some(at)) => write_ansic(f, at),
            StatusState::Applied(None) => f.write_str("applied"),
            StatusState::Pending => f.write_str("Pending"),
            StatusState::NoVersioning => f.write_str("no versioning"),
            StatusState::Partial { direction, done, total } => write!(f, "Partial {done}/{total} {direction}"),
        }
    }
}

/// Go's `time.ANSIC` layout (`Mon Jan _2 15:04:05 2006`), as goose prints applied times. Written by hand:
/// `status` prints one per migration, and parsing a strftime pattern each time showed up in its run time.
fn write_ansic(f: &mut fmt::Formatter<'_>, at: &AppliedAt) -> fmt::Result {
    use chrono::{Datelike, Timelike};
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let day = DAYS[at.weekday().num_days_from_monday() as usize % 7];
    let month = MONTHS[at.month0() as usize % 12];
    let text =
        format!("{day} {month} {:>2} {:02}:{:02}:{:02} {}", at.day(), at.hour(), at.minute(), at.second(), at.year());
    f.pad(&text)
}

/// The state of every migration, and (unlike goose) of every version in the database that has no file.
///
/// `rows` is `None` under no-versioning; `progress` is what the driver recorded of unfinished migrations.
pub fn status<'m>(
    migrations: &'m [Migration],
    rows: Option<&[AppliedRow]>,
    progress: &[Progress],
) -> Vec<StatusEntry<'m>> {
    let Some(rows) = rows else {
        return migrations
            .iter()
            .map(|m| StatusEntry { version: m.version().get(), migration: Some(m), state: StatusState::NoVersioning })
            .collect();
    };
    let db = DbState::new(rows);
    let mut entries: Vec<StatusEntry<'m>> = migrations
        .iter()
        .map(|m| {
            let state = match db.applied.get(&m.version().get()) {
                Some(at) => StatusState::Applied(*at),
                None => StatusState::Pending,
            };
            StatusEntry { version: m.version().get(), migration: Some(m), state }
        })
        .collect();
    for (&version, at) in &db.applied {
        if find(migrations, version).is_none() {
            entries.push(StatusEntry { version, migration: None, state: StatusState::Applied(*at) });
        }
    }
    for entry in &mut entries {
        if let Some(p) = progress.iter().find(|p| p.version.get() == entry.version) {
            entry.state = StatusState::Partial { direction: p.direction, done: p.done, total: p.total };
        }
    }
    entries.sort_by_key(|entry| entry.version);
    entries
}

#[cfg(test)]
mod tests;
