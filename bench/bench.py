#!/usr/bin/env python3
"""migrate's benchmark suite: workloads W1-W5 (and L1, lint against squawk; F1, up --all over 200 tenants; S1, schema dump against pg_dump --schema-only) against the floor (the server running the same SQL with no
bookkeeping) and the peers (dbmate, sqlx-cli, refinery_cli) when bench/setup.sh installed them.

Each workload is generated under bench/work (not committed). Tools run in turn, alternating, RUNS times
(default 5; the millisecond-scale W2 and W3 REPEAT times in a row within each turn); the table shows
medians and ratios. Ratios matter, not absolute times: the machine is shared.

Usage: bench/bench.py [--runs N] [--only W1,W2,...]
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
TOOLS = os.path.join(WORK, "tools")
PG = "postgres://postgres@127.0.0.1:5432/{db}?sslmode=disable"
CH_HTTP = "http://127.0.0.1:8123/"
# The release binary, wherever cargo puts it (CARGO_TARGET_DIR included): set by build_migrate().
MIGRATE = None
# W2 and W3 take milliseconds: each round times them this many times in a row, and the median is over all.
REPEAT = 5


def sh(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def psql(sql, db="postgres"):
    return sh(["psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-c", sql]).stdout


def fresh_pg(db):
    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql(f"CREATE DATABASE {db}")


def ch(sql):
    req = urllib.request.Request(CH_HTTP, data=sql.encode(), method="POST")
    with urllib.request.urlopen(req) as response:
        return response.read().decode()


def timed(args, env=None, stdin_path=None, rss=False, ok_codes=(0,)):
    """Runs a command; returns (seconds, peak RSS in bytes or None). Fails loudly with its output.

    Peak RSS comes from GNU time, not from this process's wait4: a child forked from this (large) Python
    process is charged the pages it shared before exec, which would hide the tool's own peak."""
    rss_file = None
    if rss:
        rss_file = tempfile.NamedTemporaryFile(delete=False)
        rss_file.close()
        args = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *args]
    # Output goes to files, not pipes: a tool printing more than a pipe holds would block before exiting.
    with tempfile.TemporaryFile() as out, open(stdin_path or os.devnull, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in ok_codes:
            out.seek(0)
            sys.exit(f"{' '.join(args)} failed:\n{out.read().decode(errors='replace')[-4000:]}")
    if rss_file is None:
        return elapsed, None
    with open(rss_file.name) as f:
        peak = int(f.read().split()[-1]) * 1024
    os.unlink(rss_file.name)
    return elapsed, peak


# ---- workload generation ---------------------------------------------------------------------------

def w1_sql(i):
    return (f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());\n"
            f"CREATE INDEX t_{i}_name_idx ON t_{i} (name);\n")


def w1_down(i):
    return f"DROP TABLE t_{i};\n"


def w4_sql(rows=200_000):
    pad = "x" * 200
    lines = ["CREATE TABLE big (id bigint PRIMARY KEY, name text NOT NULL, pad text NOT NULL);\n"]
    lines += [f"INSERT INTO big (id, name, pad) VALUES ({i}, 'name-{i}', '{pad}');\n" for i in range(rows)]
    return "".join(lines)


def w5_sql(i):
    return f"CREATE TABLE t_{i} (id UInt64, name String, at DateTime) ENGINE = MergeTree() ORDER BY id;\n"


def write_layouts(name, ups, downs, floor_file=lambda up: f"BEGIN;\n{up}COMMIT;\n"):
    """Writes one workload in every tool's layout (the floor's as one file, each migration as floor_file
    writes it: by default in a transaction of its own); returns {tool: dir}."""
    base = os.path.join(WORK, name)
    shutil.rmtree(base, ignore_errors=True)
    dirs = {tool: os.path.join(base, tool) for tool in ("goose", "dbmate", "sqlx", "refinery", "floor")}
    for d in dirs.values():
        os.makedirs(d)
    floor = []
    for n, (up, down) in enumerate(zip(ups, downs), start=1):
        with open(os.path.join(dirs["goose"], f"{n:05}_m{n}.sql"), "w") as f:
            f.write(f"-- +goose Up\n{up}\n-- +goose Down\n{down}")
        with open(os.path.join(dirs["dbmate"], f"{n:05}_m{n}.sql"), "w") as f:
            f.write(f"-- migrate:up\n{up}\n-- migrate:down\n{down}")
        with open(os.path.join(dirs["sqlx"], f"{n:05}_m{n}.sql"), "w") as f:
            f.write(up)
        with open(os.path.join(dirs["refinery"], f"V{n}__m{n}.sql"), "w") as f:
            f.write(up)
        floor.append(floor_file(up))
    with open(os.path.join(dirs["floor"], "all.sql"), "w") as f:
        f.write("".join(floor))
    return dirs


# ---- tools -----------------------------------------------------------------------------------------

def tool_path(name):
    return {
        "dbmate": os.path.join(TOOLS, "node_modules", ".bin", "dbmate"),
        "sqlx": os.path.join(TOOLS, "bin", "sqlx"),
        "refinery": os.path.join(TOOLS, "bin", "refinery"),
    }[name]


def available_peers():
    return [p for p in ("sqlx", "refinery", "dbmate") if os.access(tool_path(p), os.X_OK)]


def pg_command(tool, dirs, db, action="up"):
    url = PG.format(db=db)
    if tool == "migrate":
        return [MIGRATE, "-dir", dirs["goose"], "postgres", url, action], None
    if tool == "floor":
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db,
                "-f", os.path.join(dirs["floor"], "all.sql")], None
    if tool == "dbmate":
        verb = "up" if action == "up" else "status"
        return [tool_path("dbmate"), "--url", url, "--migrations-dir", dirs["dbmate"], "--no-dump-schema", verb], None
    if tool == "sqlx":
        verb = ["migrate", "run"] if action == "up" else ["migrate", "info"]
        return [tool_path("sqlx"), *verb, "--source", dirs["sqlx"], "--database-url", url], None
    if tool == "refinery":
        env = dict(os.environ, BENCH_DB_URL=url)
        return [tool_path("refinery"), "migrate", "-e", "BENCH_DB_URL", "-p", dirs["refinery"]], env
    raise ValueError(tool)


# ---- counting connections and queries from the server log -----------------------------------------

def pg_log():
    """The server's log as Debian's pg_ctlcluster writes it, for the running major version."""
    major = int(psql("SHOW server_version_num").strip()) // 10000
    return f"/var/log/postgresql/postgresql-{major}-main.log"


def log_offset():
    return os.path.getsize(pg_log())


def count_since(offset, db):
    with open(pg_log(), "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    queries = [l for l in text.splitlines() if f"@{db} " in l and re.search(r"LOG:  (statement|execute [^:]*):", l)]
    # Every backend that ran a query is one connection (log_line_prefix carries the pid as [%p]).
    connections = {m.group(1) for l in queries if (m := re.search(r"\[(\d+)\]", l))}
    return len(connections), len(queries)


# ---- workloads -------------------------------------------------------------------------------------

def median(values):
    return statistics.median(values)


def round_order(tools, run):
    """The tools in turn, in reverse every other round: a server or disk that slows down or speeds up over
    a run then weighs on every tool alike instead of on whichever comes last."""
    return tools if run % 2 == 0 else tools[::-1]


def spread(values):
    return f"runs {min(values) * 1000:.0f}-{max(values) * 1000:.0f} ms" if max(values) < 1 else f"runs {min(values):.2f}-{max(values):.2f} s"


def bench_w1_w2_w3(runs, rows, only):
    n = 1000
    dirs = write_layouts("w1", [w1_sql(i) for i in range(n)], [w1_down(i) for i in range(n)])
    tools = ["floor", "migrate", *available_peers()]
    w1 = {t: [] for t in tools}
    w2 = {t: [] for t in tools if t != "floor"}
    w3 = {t: [] for t in tools if t not in ("floor", "refinery")}
    counts = {}
    for run in range(runs):
        for tool in round_order(tools, run):
            db = f"bench_{tool}"
            fresh_pg(db)
            args, env = pg_command(tool, dirs, db)
            w1[tool].append(timed(args, env)[0])
            if tool == "floor":
                continue
            if "W2" in only:
                # One untimed no-op run first (the counted one in the first round), then REPEAT timed ones
                # in a row: the first connections after W1's 2,000 DDL statements find the server still
                # settling (rebuilding the new database's relation cache, writing out W1), a cost every
                # tool pays after a big migration, not what a restarting pod sees.
                if run == 0:
                    psql(f"ALTER DATABASE {db} SET log_statement = 'all'")
                    offset = log_offset()
                    timed(args, env)
                    time.sleep(0.3)
                    counts[tool] = count_since(offset, db)
                    psql(f"ALTER DATABASE {db} RESET log_statement")
                else:
                    timed(args, env)
                w2[tool] += [timed(args, env)[0] for _ in range(REPEAT)]
            if "W3" in only and tool in w3:
                args3, env3 = pg_command(tool, dirs, db, "status")
                w3[tool] += [timed(args3, env3)[0] for _ in range(REPEAT)]
    rows.append(("W1 1000 migrations", {t: median(v) for t, v in w1.items()}, "floor", {}))
    # Starting any process from here costs about a millisecond, the same for every tool; for the
    # millisecond-scale W2 and W3 the notes also give each tool's time and ratio without it.
    spawn = median([timed(["/bin/true"])[0] for _ in range(21)])

    def net(medians):
        peers = [v - spawn for t, v in medians.items() if t != "migrate"]
        best = min(peers) if peers else None
        return {t: f"{(v - spawn) * 1000:.1f} ms without the {spawn * 1000:.1f} ms process spawn"
                + (f", {(v - spawn) / best:.2f} x best peer" if best else "") for t, v in medians.items()}

    if "W2" in only:
        medians = {t: median(v) for t, v in w2.items()}
        extra = net(medians)
        for t, (c, q) in counts.items():
            extra[t] = f"{c} conn, {q} queries; " + extra[t]
        rows.append(("W2 no-op up", medians, "peers", extra))
    if "W3" in only:
        medians = {t: median(v) for t, v in w3.items()}
        rows.append(("W3 status", medians, "peers", net(medians)))


def bench_w4(runs, rows):
    sql = w4_sql()
    dirs = write_layouts("w4", [sql], ["DROP TABLE big;\n"])
    size = len(sql.encode())
    del sql  # keep this process small
    tools = ["floor", "migrate", *available_peers()]
    times = {t: [] for t in tools}
    rss = {t: [] for t in tools}
    for run in range(runs):
        for tool in round_order(tools, run):
            db = f"bench_{tool}"
            fresh_pg(db)
            args, env = pg_command(tool, dirs, db)
            elapsed, peak = timed(args, env, rss=True)
            times[tool].append(elapsed)
            rss[tool].append(peak)
    extra = {t: f"peak RSS {median(v) / size:.2f}x file; {spread(times[t])}" for t, v in rss.items()}
    rows.append((f"W4 one {size / 1e6:.0f} MB migration", {t: median(v) for t, v in times.items()}, "peers", extra))


def bench_w5(runs, rows):
    n = 200
    # ClickHouse has no transactions: the floor is the statements alone.
    dirs = write_layouts("w5", [w5_sql(i) for i in range(n)], [f"DROP TABLE t_{i};\n" for i in range(n)],
                         floor_file=lambda up: up)
    tools = ["floor", "goose-style", "migrate"]
    times = {t: [] for t in tools}
    for run in range(runs):
        for tool in round_order(tools, run):
            db = f"bench_{tool.replace('-', '_')}"
            ch(f"DROP DATABASE IF EXISTS {db}")
            ch(f"CREATE DATABASE {db}")
            if tool == "goose-style":
                times[tool].append(goose_style_clickhouse(db, n))
                continue
            stdin = None
            if tool == "floor":
                args = ["clickhouse-client", "--multiquery", "--database", db]
                stdin = os.path.join(dirs["floor"], "all.sql")
            else:
                args = [MIGRATE, "-dir", dirs["goose"], "clickhouse", f"{CH_HTTP}?database={db}", "up"]
            times[tool].append(timed(args, stdin_path=stdin)[0])
    medians = {t: median(v) for t, v in times.items()}
    extra = {t: spread(v) for t, v in times.items()}
    # Insert latency here follows the disk and moves several-fold within minutes; the two tools run next to
    # each other in every round, so the median of the per-round ratios is the steadier comparison.
    paired = median([m / g for m, g in zip(times["migrate"], times["goose-style"])])
    extra["migrate"] += (f"; {medians['migrate'] / medians['goose-style']:.2f} x goose-style "
                         f"(median of per-round ratios {paired:.2f})")
    rows.append(("W5 ClickHouse 200 tables", medians, "floor", extra))


def goose_style_clickhouse(db, n):
    """goose's ClickHouse bookkeeping over HTTP, as a baseline: its version table and 0 row, then per
    migration the statement and the version-row insert, one request each."""
    start = time.perf_counter()
    ch(f"CREATE TABLE IF NOT EXISTS {db}.goose_db_version (version_id Int64, is_applied UInt8, date Date default now(), "
       "tstamp DateTime default now()) ENGINE = MergeTree() ORDER BY (date)")
    ch(f"INSERT INTO {db}.goose_db_version (version_id, is_applied) VALUES (0, 1)")
    ch(f"SELECT version_id, is_applied FROM {db}.goose_db_version ORDER BY version_id DESC")
    for i in range(n):
        ch(w5_sql(i).replace("CREATE TABLE t_", f"CREATE TABLE {db}.t_"))
        ch(f"INSERT INTO {db}.goose_db_version (version_id, is_applied) VALUES ({i + 1}, 1)")
    return time.perf_counter() - start


def bench_l1(runs, rows):
    """Lint of every PostgreSQL file of ../shared/corpus in one process: migrate (goose and squawk's rules)
    against squawk (scripts/tools/squawk.sh, the same squawk release migrate-lint is built with)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("lint_vs_squawk", os.path.join(ROOT, "scripts", "lint-vs-squawk.py"))
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    corpus = os.path.join(os.path.dirname(ROOT), "shared", "corpus")
    files = [os.path.join(d, n) for d in compare.corpus_pg_dirs(corpus) for n in sorted(os.listdir(d)) if n.endswith(".sql")]
    squawk = os.path.join(ROOT, "scripts", "tools", "squawk.sh")
    sh([squawk, "--version"])  # installs it outside the timing
    commands = {
        "migrate": [MIGRATE, "lint", "--driver", "postgres", "--format", "json", *files],
        "squawk": [squawk, "--reporter", "json", *files],
    }
    times = {t: [] for t in commands}
    for run in range(runs):
        for tool in round_order(list(commands), run):
            for _ in range(REPEAT):
                times[tool].append(timed(commands[tool], ok_codes=(0, 1))[0])
    size = sum(os.path.getsize(f) for f in files)
    rows.append((f"L1 lint corpus ({len(files)} files)", {t: median(v) for t, v in times.items()}, "peers",
                 {"migrate": f"{size / 1e6:.1f} MB of SQL; findings match squawk's (scripts/lint-vs-squawk.py)"}))


def bench_f1(runs, rows):
    """F1: `up --all` over 200 tenant databases x 20 small migrations, with --jobs 1, 4 and 8 (the fleet's
    speed-up from running targets at once; no peer does this). Each run starts from empty tenants."""
    tenants = [f"bench_tenant_{n:03}" for n in range(200)]
    for name in tenants:
        fresh_pg(name)
    project = os.path.join(WORK, "f1")
    shutil.rmtree(project, ignore_errors=True)
    os.makedirs(os.path.join(project, "migrations"))
    for i in range(1, 21):
        with open(os.path.join(project, "migrations", f"{i:05}_t{i}.sql"), "w") as f:
            f.write(f"-- +goose Up\nCREATE TABLE t{i} (id bigint PRIMARY KEY, note text);\n-- +goose Down\nDROP TABLE t{i};\n")
    with open(os.path.join(project, "migrate.toml"), "w") as f:
        f.write('[environments.bench]\ndatabase = { host = "127.0.0.1", user = "postgres", name = "postgres", params = { sslmode = "disable" } }\n'
                '[services.tenants]\ndir = "migrations"\n'
                "tenants = { query = \"SELECT datname FROM pg_database WHERE datname LIKE 'bench\\\\_tenant\\\\_%' ORDER BY 1\" }\n")

    def reset():
        for name in tenants:
            psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;", db=name)

    commands = {f"jobs {j}": [MIGRATE, "up", "--all", "--jobs", str(j), "--no-lint", "--config", os.path.join(project, "migrate.toml")]
                for j in (1, 4, 8)}
    times = {t: [] for t in commands}
    for run in range(runs):
        for tool in round_order(list(commands), run):
            reset()
            times[tool].append(timed(commands[tool])[0])
    for name in tenants:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    rows.append(("F1 200 tenants x 20 (up --all)", {t: median(v) for t, v in times.items()}, "jobs 1",
                 {"jobs 1": "4,000 migrations, one target at a time"}))


def s1_table(i):
    return (f"CREATE TABLE t{i:04} (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT '', "
            f"created_at timestamptz NOT NULL DEFAULT now(), amount numeric(12,2) CHECK (amount >= 0), "
            f"parent_id bigint REFERENCES t{max(i - 1, 0):04} (id));\n"
            f"CREATE INDEX t{i:04}_name_idx ON t{i:04} (name);\n"
            f"COMMENT ON TABLE t{i:04} IS 'table {i}';\n")


def bench_s1(runs, rows, tables=1000):
    """`migrate schema dump` of a 1,000-table database (each with a serial key, defaults, a check, a foreign
    key, an index and a comment) against `pg_dump --schema-only` of the same database, the floor users know."""
    db = "bench_s1"
    fresh_pg(db)
    path = os.path.join(WORK, "s1.sql")
    with open(path, "w") as f:
        f.write("CREATE TABLE t0000 (id bigserial PRIMARY KEY);\n")
        for i in range(1, tables + 1):
            f.write(s1_table(i))
    sh(["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-f", path])
    url = f"postgres://postgres@127.0.0.1:5432/{db}?sslmode=disable"
    commands = {
        "migrate": [MIGRATE, "schema", "dump", "--database-url", url, "--out", os.devnull],
        "floor": ["pg_dump", "--schema-only", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-f", os.devnull],
    }
    times = {t: [] for t in commands}
    for run in range(runs):
        for tool in round_order(list(commands), run):
            times[tool].append(timed(commands[tool])[0])
    rows.append((f"S1 schema dump, {tables} tables", {t: median(v) for t, v in times.items()}, "floor",
                 {"floor": "pg_dump --schema-only"}))


def print_table(rows, flush=False):
    print(f"\n{'workload':<28} {'tool':<10} {'median':>10} {'ratio':>8}  notes", flush=flush)
    for name, medians, baseline, extra in rows:
        if baseline == "floor":
            reference = medians["floor"]
            label = "x floor" + ("; goose-style = goose's bookkeeping over HTTP" if "goose-style" in medians else "")
        elif baseline in medians:
            reference = medians[baseline]
            label = f"x {baseline}"
        else:
            peers = [v for t, v in medians.items() if t not in ("migrate", "floor")]
            reference = min(peers) if peers else None
            label = "x best peer"
        for tool, value in sorted(medians.items(), key=lambda kv: kv[1]):
            ratio = f"{value / reference:.2f}" if reference else "-"
            unit = f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
            print(f"{name:<28} {tool:<10} {unit:>10} {ratio:>8}  {extra.get(tool, '')}")
        print(f"{'':<28} (ratio = {label})")


def build_migrate():
    """Builds the release `migrate` (cargo's progress on stderr) and returns the path cargo reports for it."""
    build = subprocess.run(
        ["cargo", "build", "--release", "-p", "migrate-goose-cli", "--bin", "migrate",
         "--message-format=json-render-diagnostics"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    executables = [message["executable"] for message in map(json.loads, build.stdout.splitlines())
                   if message.get("reason") == "compiler-artifact" and message.get("executable")]
    if not executables:
        sys.exit("bench.py: cargo reported no migrate executable")
    return executables[-1]


def main():
    global MIGRATE
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,L1,F1,S1")
    args = parser.parse_args()
    only = set(args.only.split(","))
    MIGRATE = build_migrate()
    sh([os.path.join(ROOT, "scripts", "servers.sh"), "up"])
    os.makedirs(WORK, exist_ok=True)
    print(f"peers found: {', '.join(available_peers()) or 'none (run bench/setup.sh)'}; runs per tool: {args.runs}")
    rows = []
    if only & {"W1", "W2", "W3"}:
        bench_w1_w2_w3(args.runs, rows, only)
        print_table(rows, flush=True)
    if "W4" in only:
        bench_w4(args.runs, rows)
        print_table(rows[-1:], flush=True)
    if "W5" in only:
        bench_w5(args.runs, rows)
        print_table(rows[-1:], flush=True)
    if "L1" in only:
        bench_l1(args.runs, rows)
        print_table(rows[-1:], flush=True)
    if "F1" in only:
        bench_f1(args.runs, rows)
        print_table(rows[-1:], flush=True)
    if "S1" in only:
        bench_s1(args.runs, rows)
        print_table(rows[-1:], flush=True)
    print("\nall workloads:")
    print_table(rows)


if __name__ == "__main__":
    main()
