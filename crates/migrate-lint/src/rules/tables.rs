//! Reading a CREATE TABLE's name and column list from tokens, for the ClickHouse and convention rules.

use crate::tokens::Token;

/// A column definition: its name token and its type's tokens.
pub(crate) struct Column<'t, 'a> {
    pub(crate) name: &'t Token<'a>,
    pub(crate) type_tokens: &'t [Token<'a>],
}

/// A CREATE TABLE: where its name is, its columns, and the tokens after the column list.
pub(crate) struct CreateTable<'t, 'a> {
    /// The index of the (last part of the) table name.
    pub(crate) name_at: usize,
    pub(crate) columns: Vec<Column<'t, 'a>>,
    /// Tokens after the closing parenthesis of the column list (engine, ORDER BY, ...).
    pub(crate) rest: &'t [Token<'a>],
}

const CONSTRAINT_WORDS: &[&str] =
    &["constraint", "primary", "unique", "foreign", "check", "index", "projection", "exclude", "like"];

/// Parses `CREATE [OR REPLACE] [TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name [ON CLUSTER c] (columns) rest`.
pub(crate) fn create_table<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<CreateTable<'t, 'a>> {
    let mut at = 1;
    if !tokens.first()?.is("create") {
        return None;
    }
    if tokens.get(at).is_some_and(|t| t.is("or")) {
        at += 2;
    }
    while tokens.get(at).is_some_and(|t| t.is("temporary") || t.is("temp") || t.is("unlogged")) {
        at += 1;
    }
    if !tokens.get(at)?.is("table") {
        return None;
    }
    at += 1;
    if tokens.get(at).is_some_and(|t| t.is("if")) {
        at += 3;
    }
    let mut name_at = at;
    while tokens.get(name_at + 1).is_some_and(|t| t.text == ".") {
        name_at += 2;
    }
    let open = tokens.iter().skip(name_at).position(|t| t.text == "(" || t.is("as") || t.is("engine"))? + name_at;
    if tokens.get(open)?.text != "(" {
        return Some(CreateTable { name_at, columns: Vec::new(), rest: tokens.get(open..).unwrap_or(&[]) });
    }
    let mut depth = 0usize;
    let mut columns = Vec::new();
    let mut item_start = open + 1;
    let mut close = tokens.len();
    for (idx, token) in tokens.iter().enumerate().skip(open) {
        match token.text {
            "(" => depth += 1,
            ")" | "," if depth == 1 => {
                if let Some(item) = tokens.get(item_start..idx) {
                    if let Some((name, type_tokens)) = item.split_first() {
                        if !CONSTRAINT_WORDS.iter().any(|w| name.is(w)) {
                            columns.push(Column { name, type_tokens });
                        }
                    }
                }
                item_start = idx + 1;
                if token.text == ")" {
                    close = idx;
                    break;
                }
            }
            ")" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Some(CreateTable { name_at, columns, rest: tokens.get(close + 1..).unwrap_or(&[]) })
}

#[cfg(test)]
mod tests {
    use super::create_table;
    use crate::tokens::tokenize;

    #[test]
    fn columns_and_rest_are_split() {
        let tokens = tokenize("CREATE TABLE IF NOT EXISTS db.t (id UInt64, v Nullable(String), PRIMARY KEY (id)) ENGINE = MergeTree ORDER BY id");
        let table = create_table(&tokens).unwrap();
        assert_eq!(tokens[table.name_at].text, "t");
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.text).collect();
        assert_eq!(names, ["id", "v"]);
        assert_eq!(table.columns[1].type_tokens[0].text, "Nullable");
        assert!(table.rest[0].is("engine"));
    }
}
