//! Reading PostgreSQL tool versions (`pg_dump --version`) and pg_dump's own version-mismatch message,
//! so that a pg_dump older than the server is refused with both versions named.

/// A PostgreSQL client tool's version, as `pg_dump --version` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolVersion {
    /// The major version: `15` for 15.20, `16` for 16beta1, `9` for 9.6.24 (as `server_version_num /
    /// 10000` gives for the server).
    pub major: u32,
    /// The number after the first dot, if any: `20` for 15.20, `6` for 9.6.24, `None` for 16beta1.
    pub minor: Option<u32>,
    /// The version word as printed, such as `15.20` or `16beta1`.
    pub text: String,
}

/// Parses the output of `pg_dump --version` (or `pg_restore --version`), such as
/// `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`: the version is the first word, on the first
/// non-empty line, that starts with a digit. Distribution suffixes in parentheses come after it and
/// are ignored. `None` if no such word is found.
///
/// ```
/// let version = migrate_backup::parse_tool_version("pg_dump (PostgreSQL) 16beta1\n").unwrap();
/// assert_eq!((version.major, version.minor), (16, None));
/// ```
pub fn parse_tool_version(output: &str) -> Option<ToolVersion> {
    let line = output.lines().map(str::trim).find(|line| !line.is_empty())?;
    let word = line.split_whitespace().find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    let (major, rest) = leading_number(word)?;
    let minor = rest.strip_prefix('.').and_then(leading_number).map(|(minor, _)| minor);
    Some(ToolVersion { major, minor, text: word.to_owned() })
}

/// The server and pg_dump versions from pg_dump's refusal to dump a newer server, such as
/// `pg_dump: detail: server version: 17.2; pg_dump version: 15.20` (PostgreSQL 15 and later) or
/// `pg_dump: server version: 13.1; pg_dump version: 12.5` (before 15).
pub(crate) fn parse_mismatch(stderr: &str) -> Option<(String, String)> {
    let line = stderr.lines().find(|line| line.contains("server version: ") && line.contains("pg_dump version: "))?;
    let server = word_after(line, "server version: ")?;
    let pg_dump = word_after(line, "pg_dump version: ")?;
    Some((server, pg_dump))
}

/// The text after `marker` up to the next `;` or whitespace.
fn word_after(line: &str, marker: &str) -> Option<String> {
    let start = line.find(marker)? + marker.len();
    let word: String = line[start..].chars().take_while(|c| *c != ';' && !c.is_whitespace()).collect();
    (!word.is_empty()).then_some(word)
}

/// Splits a leading run of ASCII digits off `text` as a number.
fn leading_number(text: &str) -> Option<(u32, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    let number = text[..len].parse().ok()?;
    Some((number, &text[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (u32, Option<u32>, String) {
        let version = parse_tool_version(text).unwrap_or_else(|| panic!("no version in {text:?}"));
        (version.major, version.minor, version.text)
    }

    #[test]
    fn real_version_strings() {
        assert_eq!(parsed("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"), (15, Some(20), "15.20".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 18.6\n"), (18, Some(6), "18.6".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 16beta1\n"), (16, None, "16beta1".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 17rc1"), (17, None, "17rc1".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 19devel"), (19, None, "19devel".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 14.11 (Ubuntu 14.11-1.pgdg22.04+1)"), (14, Some(11), "14.11".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 16.2 (Homebrew)"), (16, Some(2), "16.2".into()));
        assert_eq!(parsed("pg_dump (PostgreSQL) 9.6.24"), (9, Some(6), "9.6.24".into()));
        assert_eq!(parsed("pg_restore (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"), (15, Some(20), "15.20".into()));
        assert_eq!(parsed("\n  pg_dump (PostgreSQL) 13.14\r\n"), (13, Some(14), "13.14".into()));
        assert_eq!(parsed("pg_dump (EnterpriseDB) 15.4.0"), (15, Some(4), "15.4.0".into()));
    }

    #[test]
    fn no_version() {
        assert_eq!(parse_tool_version(""), None);
        assert_eq!(parse_tool_version("pg_dump (PostgreSQL)"), None);
        assert_eq!(parse_tool_version("command not found"), None);
        assert_eq!(parse_tool_version("pg_dump (PostgreSQL) 99999999999.1"), None);
    }

    #[test]
    fn mismatch_messages() {
        let pg15 = "pg_dump: error: aborting because of server version mismatch\n\
                    pg_dump: detail: server version: 17.2; pg_dump version: 15.20 (Debian 15.20-0+deb12u1)\n";
        assert_eq!(parse_mismatch(pg15), Some(("17.2".into(), "15.20".into())));
        let pg12 = "pg_dump: server version: 13.1; pg_dump version: 12.5\npg_dump: aborting because of server version mismatch";
        assert_eq!(parse_mismatch(pg12), Some(("13.1".into(), "12.5".into())));
        assert_eq!(parse_mismatch("pg_dump: error: connection to server failed"), None);
    }
}
