//! PostgreSQL rules squawk does not have: a plain TRUNCATE (squawk bans only TRUNCATE ... CASCADE), VACUUM
//! FULL and CLUSTER before PostgreSQL 19 (squawk's prefer-repack speaks only from 19, where REPACK exists),
//! and a table rewrite inside a transaction that goes on to run other statements, so the rewrite's ACCESS
//! EXCLUSIVE lock is held until all of them are done.

use migrate_core::Statement;

use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;
use crate::tokens::{tokenize, Token};

pub(crate) fn check(file: &MigrationFile<'_>, pg_major: u32, out: &mut Vec<RawFinding>) {
    let tokenized: Vec<(&Statement<'_>, Vec<Token<'_>>)> = file.up.iter().map(|s| (s, tokenize(s.text()))).collect();
    // SET, RESET and SELECT take no lock worth counting; the rest run while the rewrite's lock is held.
    let locking =
        |tokens: &[Token<'_>]| !tokens.first().is_some_and(|t| t.is("set") || t.is("select") || t.is("reset"));
    let others = tokenized.iter().filter(|(_, tokens)| locking(tokens)).count().saturating_sub(1);
    for (statement, tokens) in &tokenized {
        let Some(first) = tokens.first() else { continue };
        if first.is("truncate") && !tokens.iter().any(|t| t.is("cascade")) {
            out.push(file.at_statement(
                "ban-truncate",
                Severity::Warning,
                statement,
                "TRUNCATE empties the table for good and takes an ACCESS EXCLUSIVE lock".to_string(),
                "delete the rows you mean to (DELETE ... WHERE), or excuse this statement with a reason".to_string(),
            ));
        }
        let vacuum_full = first.is("vacuum") && tokens.iter().take(4).any(|t| t.is("full"));
        if pg_major < 19 && (vacuum_full || first.is("cluster")) {
            let what = if vacuum_full { "VACUUM FULL" } else { "CLUSTER" };
            out.push(file.at_statement(
                "ban-vacuum-full-and-cluster",
                Severity::Warning,
                statement,
                format!("{what} rewrites the whole table under an ACCESS EXCLUSIVE lock: no reads or writes meanwhile"),
                "use pg_repack (REPACK from PostgreSQL 19), or run it by hand in a maintenance window".to_string(),
            ));
        }
        if file.no_transaction || others == 0 {
            continue;
        }
        if let Some(rewrite) = rewrite(tokens) {
            out.push(file.at_statement(
                "rewrite-in-long-transaction",
                Severity::Warning,
                statement,
                format!(
                    "{rewrite} rewrites the table under an ACCESS EXCLUSIVE lock that this migration's transaction \
                     holds until its {others} other statement(s) are done"
                ),
                "give the rewrite a migration of its own, so the lock is released as soon as it is done".to_string(),
            ));
        }
    }
}

/// What rewrites a whole table: ALTER COLUMN ... TYPE, SET TABLESPACE, CLUSTER.
fn rewrite(tokens: &[Token<'_>]) -> Option<&'static str> {
    let first = tokens.first()?;
    if first.is("cluster") {
        return Some("CLUSTER");
    }
    if !(first.is("alter") && tokens.get(1).is_some_and(|t| t.is("table"))) {
        return None;
    }
    let words = |at: usize, expected: &[&str]| {
        expected.iter().enumerate().all(|(i, w)| tokens.get(at + i).is_some_and(|t| t.is(w)))
    };
    for at in 2..tokens.len() {
        if words(at, &["set", "tablespace"]) {
            return Some("SET TABLESPACE");
        }
        if !tokens[at].is("alter") {
            continue;
        }
        // ALTER [COLUMN] name [SET DATA] TYPE
        let name_at = if tokens.get(at + 1).is_some_and(|t| t.is("column")) { at + 2 } else { at + 1 };
        if words(name_at + 1, &["type"]) || words(name_at + 1, &["set", "data", "type"]) {
            return Some("ALTER COLUMN ... TYPE");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::rewrite;
    use crate::tokens::tokenize;

    #[test]
    fn rewrites() {
        assert_eq!(rewrite(&tokenize("ALTER TABLE t ALTER COLUMN a TYPE bigint")), Some("ALTER COLUMN ... TYPE"));
        assert_eq!(rewrite(&tokenize("alter table t alter a set data type text")), Some("ALTER COLUMN ... TYPE"));
        assert_eq!(rewrite(&tokenize("ALTER TABLE t SET TABLESPACE fast")), Some("SET TABLESPACE"));
        assert_eq!(rewrite(&tokenize("CLUSTER t USING t_pkey")), Some("CLUSTER"));
        assert_eq!(rewrite(&tokenize("ALTER TABLE t ALTER COLUMN a SET NOT NULL")), None);
        assert_eq!(rewrite(&tokenize("ALTER TABLE t ADD COLUMN type text")), None);
    }
}
