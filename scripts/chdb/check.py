#!/usr/bin/env python3
"""Run every SQL text the ClickHouse driver sends on a current ClickHouse engine (chdb, in process).

The driver is tested against the ClickHouse 18.16 server that scripts/servers.sh starts; this catches SQL that
today's releases reject or read differently. The statements come from `migrate_clickhouse::sql_catalog`, printed
by the crate's `dump_sql` example, so they are the driver's own strings, not copies.

Usage:
    python3 scripts/chdb/check.py [DUMP_FILE]

Without DUMP_FILE it runs `cargo run -q -p migrate-goose-clickhouse --example dump_sql` itself. Needs the PyPI
package chdb-core (scripts/chdb/requirements.txt): `python3 -m pip install -r scripts/chdb/requirements.txt`.
Exits 1, naming the statement and the engine's error, on the first failure.
"""

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARK = "-- migrate-sql: "


def dump(table):
    """The driver's statements for `table`, as (what, sql) pairs."""
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
    else:
        command = ["cargo", "run", "-q", "-p", "migrate-goose-clickhouse", "--example", "dump_sql", "--", table]
        text = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    entries = []
    for line in text.splitlines():
        if line.startswith(MARK):
            entries.append([line[len(MARK):], []])
        elif entries:
            entries[-1][1].append(line)
        elif line.strip():
            sys.exit(f"check.py: unexpected text before the first statement: {line!r}")
    return [(what, "\n".join(lines)) for what, lines in entries]


def rows(result):
    text = result.bytes().decode() if hasattr(result, "bytes") else str(result)
    return [line.split("\t") for line in text.splitlines()]


def run(session, table, expectations):
    """Runs the catalog for `table` in order and checks what each read returns."""
    seen = {}
    for what, sql in dump(table):
        seen[what] = seen.get(what, 0) + 1
        deadline = time.monotonic() + 60
        while True:
            try:
                result = rows(session.query(sql, "TabSeparated"))
            except Exception as error:  # chdb raises its own error type with the server's text
                sys.exit(f"check.py: [{table}] {what} failed on ClickHouse {VERSION}:\n{sql}\n-> {error}")
            # The driver polls unfinished mutations until there are none; so does the check.
            if what != "pending mutations" or result == [["0"]] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        expected = expectations.get((what, seen[what]))
        if expected is not None and not expected(result):
            sys.exit(f"check.py: [{table}] {what} (#{seen[what]}) returned {result!r}, not what the driver expects:\n{sql}")
        print(f"ok  [{table}] {what}")


def expectations():
    return {
        ("server facts", 1): lambda r: [x[1].split(".")[0].isdigit() for x in r if x[0] == "version"] == [True]
        and sorted(x[1] for x in r if x[0] == "setting")
        == ["async_insert", "distributed_ddl_output_mode", "mutations_sync", "use_query_cache"]
        and all(x[0] in ("version", "setting") for x in r),
        ("count zero rows", 1): lambda r: r == [["0"]],
        # Newest version first; tstamp as `YYYY-MM-DD hh:mm:ss`, which the driver parses; no mutation pending.
        ("list versions", 1): lambda r: [x[:2] for x in r] == [["20240102000000", "1"], ["20240101000000", "1"], ["0", "1"]]
        and all(len(x[2]) == 19 and x[2][10] == " " and x[3] == "0" for x in r),
        ("pending mutations", 1): lambda r: r == [["0"]],
        # Both deletes are complete once the polling says so.
        ("list versions", 2): lambda r: [x[:2] for x in r] == [["0", "1"]],
        ("max progress seq", 1): lambda r: r == [["0"]],
        ("list progress", 1): lambda r: r == [["20240103000000", "up", "2", "3", "a\\'b\\\\c"]],
        ("list progress", 2): lambda r: r == [],
        ("live claims", 1): lambda r: len(r) == 1 and r[0][:4] == ["host-1-0a1b2c3d-1", "host-1-0a1b2c3d", "1700000000000000000", "0"]
        and 28 <= int(r[0][4]) <= 30,
        ("live claims", 2): lambda r: r == [],
    }


def main():
    global VERSION
    try:
        from chdb import session as chdb_session
    except ImportError:
        sys.exit("check.py: the Python package chdb is missing: python3 -m pip install -r scripts/chdb/requirements.txt")
    with tempfile.TemporaryDirectory(prefix="migrate-chdb-") as path:
        session = chdb_session.Session(path)
        VERSION = rows(session.query("SELECT version()", "TabSeparated"))[0][0]
        # A qualified name, and the default database's name as goose users mostly have it.
        session.query("CREATE DATABASE IF NOT EXISTS migrate_check")
        run(session, "migrate_check.goose_db_version", expectations())
        run(session, "goose_db_version", expectations())
        session.close()
    print(f"check.py: every statement of the driver runs on ClickHouse {VERSION}")


VERSION = "?"

if __name__ == "__main__":
    main()
