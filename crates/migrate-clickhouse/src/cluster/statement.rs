//! What a migration statement does to the cluster, read from its tokens: whether it is `ON CLUSTER`
//! DDL, and what it creates with which engine. A small lexer is enough, because only the statement's
//! head matters (the clauses before a column list or a `SELECT`), and it must not be fooled by strings,
//! quoted identifiers or comments.

/// What a statement creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Creates {
    /// `CREATE TABLE`, with its `ENGINE` when the statement names one.
    Table { engine: Option<String> },
    /// `CREATE MATERIALIZED VIEW`: its inner table's `ENGINE`, or none with `TO table`.
    MaterializedView { engine: Option<String> },
    /// `CREATE VIEW`, `CREATE DICTIONARY`, `CREATE DATABASE`, …: an object that must exist on every host.
    Other { kind: &'static str },
}

/// The parts of a statement that matter in cluster mode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Shape {
    /// The cluster of an `ON CLUSTER` clause, as written (unquoted).
    pub(crate) on_cluster: Option<String>,
    /// What it creates, for `CREATE` (and `ATTACH`) statements; temporary tables are left out.
    pub(crate) creates: Option<Creates>,
}

/// The keywords a statement starts with when it can carry `ON CLUSTER`.
const DDL_HEADS: &[&str] =
    &["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "OPTIMIZE", "ATTACH", "DETACH", "EXCHANGE", "GRANT", "REVOKE"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word (keyword or identifier), as written.
    Word(String),
    /// A backquoted or double-quoted identifier, unquoted.
    Quoted(String),
    /// A string literal, unquoted.
    Str(String),
    /// Any other character (operators, punctuation, digits).
    Punct(char),
}

/// One token and its parenthesis depth.
#[derive(Debug)]
struct Lexed {
    token: Token,
    depth: usize,
}

/// Reads what matters of a statement.
pub(crate) fn shape(text: &str) -> Shape {
    let tokens = lex(text);
    let words: Vec<&Lexed> = tokens.iter().collect();
    let Some(head) = words.first().and_then(|t| word(&t.token)) else { return Shape::default() };
    if !DDL_HEADS.iter().any(|h| head.eq_ignore_ascii_case(h)) {
        return Shape::default();
    }
    // The head of the statement: depth 0, before the query of a view or a `CREATE … AS SELECT`.
    let end = words
        .iter()
        .position(|t| t.depth == 0 && word(&t.token).is_some_and(|w| is_kw(w, "SELECT") || is_kw(w, "WITH")))
        .unwrap_or(words.len());
    let head_tokens: Vec<&Token> = words[..end].iter().filter(|t| t.depth == 0).map(|t| &t.token).collect();
    Shape { on_cluster: on_cluster(&head_tokens), creates: creates(&head_tokens) }
}

fn on_cluster(tokens: &[&Token]) -> Option<String> {
    tokens.windows(3).find_map(|w| match (w[0], w[1], w[2]) {
        (Token::Word(on), Token::Word(cluster), name) if is_kw(on, "ON") && is_kw(cluster, "CLUSTER") => match name {
            Token::Word(name) | Token::Quoted(name) | Token::Str(name) => Some(name.clone()),
            Token::Punct(_) => None,
        },
        _ => None,
    })
}

fn creates(tokens: &[&Token]) -> Option<Creates> {
    let words: Vec<String> = tokens.iter().take(6).filter_map(|t| word(t)).map(str::to_ascii_uppercase).collect();
    let first = words.first()?;
    if first != "CREATE" && first != "ATTACH" {
        return None;
    }
    let mut rest = words[1..].iter().map(String::as_str).skip_while(|w| matches!(*w, "OR" | "REPLACE"));
    let kind = rest.next()?;
    match kind {
        "TEMPORARY" => None,
        "TABLE" => Some(Creates::Table { engine: engine(tokens) }),
        "MATERIALIZED" => Some(Creates::MaterializedView { engine: engine(tokens) }),
        "VIEW" | "LIVE" | "WINDOW" => Some(Creates::Other { kind: "view" }),
        "DICTIONARY" => Some(Creates::Other { kind: "dictionary" }),
        "DATABASE" => Some(Creates::Other { kind: "database" }),
        "FUNCTION" => Some(Creates::Other { kind: "function" }),
        _ => None,
    }
}

/// The name after `ENGINE =` (the `=` is optional in ClickHouse).
fn engine(tokens: &[&Token]) -> Option<String> {
    let at = tokens.iter().position(|t| word(t).is_some_and(|w| is_kw(w, "ENGINE")))?;
    let mut after = tokens[at + 1..].iter().filter(|t| !matches!(t, Token::Punct('=')));
    after.next().and_then(|t| word(t)).map(str::to_owned)
}

fn word(token: &Token) -> Option<&str> {
    match token {
        Token::Word(w) => Some(w),
        _ => None,
    }
}

fn is_kw(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// Splits a statement into tokens, skipping whitespace and comments.
fn lex(text: &str) -> Vec<Lexed> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '-' if chars.get(i + 1) == Some(&'-') => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            }
            '\'' | '`' | '"' => {
                let (value, next) = quoted(&chars, i);
                let token = if c == '\'' { Token::Str(value) } else { Token::Quoted(value) };
                tokens.push(Lexed { token, depth });
                i = next;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars.get(i).is_some_and(|&c| c.is_alphanumeric() || c == '_' || c == '$') {
                    i += 1;
                }
                tokens.push(Lexed { token: Token::Word(chars[start..i].iter().collect()), depth });
            }
            '(' => {
                tokens.push(Lexed { token: Token::Punct('('), depth });
                depth += 1;
                i += 1;
            }
            ')' => {
                depth = depth.saturating_sub(1);
                tokens.push(Lexed { token: Token::Punct(')'), depth });
                i += 1;
            }
            c => {
                tokens.push(Lexed { token: Token::Punct(c), depth });
                i += 1;
            }
        }
    }
    tokens
}

/// A quoted string or identifier starting at `start`: its value (backslash escapes and doubled quotes
/// undone) and the index after it. An unterminated one runs to the end.
fn quoted(chars: &[char], start: usize) -> (String, usize) {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            if let Some(&next) = chars.get(i + 1) {
                value.push(next);
            }
            i += 2;
        } else if c == quote {
            if chars.get(i + 1) == Some(&quote) {
                value.push(quote);
                i += 2;
            } else {
                return (value, i + 1);
            }
        } else {
            value.push(c);
            i += 1;
        }
    }
    (value, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster_of(sql: &str) -> Option<String> {
        shape(sql).on_cluster
    }

    #[test]
    fn on_cluster_clauses() {
        assert_eq!(cluster_of("CREATE TABLE t ON CLUSTER c (id UInt8) ENGINE = Memory").as_deref(), Some("c"));
        assert_eq!(cluster_of("create table db.t on  cluster '{cluster}' (x UInt8)").as_deref(), Some("{cluster}"));
        assert_eq!(cluster_of("ALTER TABLE t ON CLUSTER `my-c` ADD COLUMN x UInt8").as_deref(), Some("my-c"));
        assert_eq!(cluster_of("DROP TABLE IF EXISTS t ON CLUSTER c").as_deref(), Some("c"));
        assert_eq!(cluster_of("RENAME TABLE a TO b ON CLUSTER c").as_deref(), Some("c"));
        assert_eq!(cluster_of("CREATE TABLE t -- ON CLUSTER c\n(id UInt8) ENGINE = Log"), None);
        assert_eq!(cluster_of("CREATE TABLE t /* ON CLUSTER c */ (id UInt8) ENGINE = Log"), None);
        assert_eq!(cluster_of("CREATE TABLE `ON CLUSTER c` (id UInt8) ENGINE = Log"), None);
        assert_eq!(cluster_of("INSERT INTO t SELECT 'ON CLUSTER c'"), None);
        assert_eq!(cluster_of("SELECT 1 ON CLUSTER c"), None, "not DDL");
        // A join condition on a column called `cluster` inside a view's query is not the clause.
        assert_eq!(cluster_of("CREATE VIEW v AS SELECT * FROM a JOIN b ON cluster = b.cluster"), None);
        assert_eq!(
            cluster_of("CREATE VIEW v ON CLUSTER c AS SELECT * FROM a JOIN b ON cluster = x").as_deref(),
            Some("c")
        );
        assert_eq!(cluster_of("ALTER TABLE t ON CLUSTER (x)"), None);
    }

    #[test]
    fn what_is_created() {
        let creates = |sql: &str| shape(sql).creates;
        let table = |engine: Option<&str>| Some(Creates::Table { engine: engine.map(str::to_owned) });
        assert_eq!(creates("CREATE TABLE t (id UInt8) ENGINE = MergeTree() ORDER BY id"), table(Some("MergeTree")));
        assert_eq!(
            creates("CREATE TABLE IF NOT EXISTS t ON CLUSTER c (id UInt8, e Enum8('ENGINE' = 1)) ENGINE ReplicatedMergeTree('/p', '{replica}') ORDER BY id"),
            table(Some("ReplicatedMergeTree"))
        );
        assert_eq!(creates("CREATE TABLE t AS other"), table(None));
        assert_eq!(creates("CREATE TEMPORARY TABLE t (id UInt8)"), None);
        assert_eq!(creates("CREATE OR REPLACE TABLE t (id UInt8) ENGINE = Log"), table(Some("Log")));
        assert_eq!(creates("ATTACH TABLE t (id UInt8) ENGINE = Log"), table(Some("Log")));
        assert_eq!(
            creates("CREATE MATERIALIZED VIEW mv ENGINE = SummingMergeTree() ORDER BY k AS SELECT k FROM t"),
            Some(Creates::MaterializedView { engine: Some("SummingMergeTree".to_owned()) })
        );
        assert_eq!(
            creates("CREATE MATERIALIZED VIEW mv TO dest AS SELECT k FROM t ENGINE"),
            Some(Creates::MaterializedView { engine: None })
        );
        assert_eq!(creates("CREATE VIEW v AS SELECT 1"), Some(Creates::Other { kind: "view" }));
        assert_eq!(creates("CREATE DATABASE d ENGINE = Ordinary"), Some(Creates::Other { kind: "database" }));
        assert_eq!(creates("ALTER TABLE t ADD COLUMN engine String"), None);
        assert_eq!(creates("-- just a comment"), None);
        assert_eq!(creates(""), None);
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in ["'", "`", "/*", "(((", ")))", "CREATE", "CREATE TABLE t ENGINE", "ON CLUSTER", "é'\\"] {
            let _ = shape(text);
        }
        assert_eq!(quoted(&['\'', 'a', '\'', '\'', 'b', '\''], 0), ("a'b".to_owned(), 6));
    }
}
