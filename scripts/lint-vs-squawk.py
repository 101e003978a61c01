#!/usr/bin/env python3
"""Compares migrate's lint with squawk (PyPI squawk-cli, through scripts/tools/squawk.sh) on every PostgreSQL
directory of ../shared/corpus, statement for statement, for the rules both have.

Each file is given to squawk as migrate lints it: the Up section only (other lines blanked, so line and
column numbers are the file's), with --assume-in-transaction unless the file says NO TRANSACTION (goose runs
it in one). squawk's opt-in-in-migrate timeout rules are excluded on both sides. Findings are compared as
(file, line, column, rule). A difference is either explained in EXPLAINED (with the reason) or fails the run.

Usage: scripts/lint-vs-squawk.py [--migrate PATH] [--corpus DIR] [--verbose]
Exit 0 when every difference is explained, 1 otherwise, 2 when the corpus or a tool is missing.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQUAWK = os.environ.get("SQUAWK") or os.path.join(ROOT, "scripts", "tools", "squawk.sh")
OFF_IN_MIGRATE = ["require-lock-timeout", "require-statement-timeout"]

# (file name, rule, side) -> why the two differ. `side` is "migrate" (only migrate reports it) or
# "squawk". Each entry says why the difference is right. Measured against squawk-cli 2.68.0, the release
# of the squawk-linter crate migrate-lint is built with (scripts/tools/squawk.sh's default); squawk 2.70
# no longer reports adding-serial-primary-key-field for a primary key added to a table created earlier in
# the same file (18 more differences, all that rule).
_UNPARSABLE = ("goose refuses this file (its Down section's last statement has no ';'): migrate reports "
               "goose-parse-error at the Down section and lints nothing else in it; squawk lints the Up section")
EXPLAINED = {
    ("20150226023607_AddGinIndexToNameOnDivaAndCharacter.sql", "require-concurrent-index-creation", "squawk"): _UNPARSABLE,
    ("20150227112925_AddGinIndexToKanaOnDivaAndCharacter.sql", "require-concurrent-index-creation", "squawk"): _UNPARSABLE,
}


def corpus_pg_dirs(corpus):
    """The PostgreSQL entries of INDEX.md, as directories."""
    index = open(os.path.join(corpus, "INDEX.md"), encoding="utf-8").read()
    section = index.split("## PostgreSQL entries", 1)[1].split("\n## ", 1)[0]
    dirs = []
    for match in re.finditer(r"→ `([^`]+)`", section):
        path = os.path.join(corpus, match.group(1).rstrip("/"))
        if os.path.isdir(path):
            dirs.append(path)
    return dirs


def goose_order(files):
    def key(name):
        digits = re.match(r"\d+", name)
        return (int(digits.group(0)) if digits else 2**63, name)
    return sorted(files, key=key)


def annotation(line):
    """goose's annotation keyword of a line (`up`, `down`, `no transaction`...), lowercased, or None."""
    rest = line.strip()
    if not rest.startswith("--"):
        return None
    rest = rest[2:].lstrip()
    if not rest.startswith("+goose"):
        return None
    return rest[len("+goose"):].strip().lower()


def up_section(text):
    """The Up section with every other character blanked (newlines kept), and whether goose runs it in a
    transaction."""
    lines = text.split("\n")
    up = down = None
    no_transaction = False
    for number, line in enumerate(lines):
        keyword = annotation(line)
        if keyword == "up" and up is None:
            up = number
        elif keyword == "down" and down is None:
            down = number
        elif keyword == "no transaction":
            no_transaction = True
    start = up if up is not None else 0
    end = down if down is not None else len(lines)
    masked = [line if start <= n < end else re.sub(r"[^\n]", " ", line.encode("utf-8").decode("latin-1"))
              for n, line in enumerate(lines)]
    return "\n".join(masked), not no_transaction


def squawk_rules():
    """The ids migrate's catalog gives squawk's family (Family::Postgres)."""
    catalog = open(os.path.join(ROOT, "crates", "migrate-lint", "src", "catalog.rs"), encoding="utf-8").read()
    return set(re.findall(r'rule\(\s*"([a-z0-9-]+)",\s*Postgres,', catalog))


def run_migrate(binary, files):
    out = subprocess.run([binary, "lint", "--driver", "postgres", "--format", "json", *files],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"migrate lint failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)["findings"]


def run_squawk(paths, in_transaction):
    if not paths:
        return []
    args = [SQUAWK, "--reporter", "json", "--exclude", ",".join(OFF_IN_MIGRATE), *paths]
    if in_transaction:
        args.insert(1, "--assume-in-transaction")
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode not in (0, 1) or not out.stdout.strip().startswith("["):
        sys.exit(f"squawk failed ({out.returncode}): {out.stderr or out.stdout}")
    return json.loads(out.stdout)


def compare_dir(binary, directory, rules, verbose):
    names = goose_order([n for n in os.listdir(directory) if n.endswith(".sql")])
    files = [os.path.join(directory, n) for n in names]
    ours = {(os.path.basename(f["file"]), f["line"], f["column"], f["rule"])
            for f in run_migrate(binary, files) if f["rule"] in rules}
    theirs = set()
    with tempfile.TemporaryDirectory() as tmp:
        groups = {True: [], False: []}
        for name, path in zip(names, files):
            with open(path, encoding="utf-8", errors="replace") as handle:
                masked, transactional = up_section(handle.read())
            target = os.path.join(tmp, name)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(masked)
            groups[transactional].append(target)
        for transactional, paths in groups.items():
            for v in run_squawk(paths, transactional):
                theirs.add((os.path.basename(v["file"]), v["line"] + 1, v["column"] + 1, v["rule_name"]))
    return ours, theirs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--migrate", default=os.path.join(ROOT, "target", "debug", "migrate"))
    parser.add_argument("--corpus", default=os.path.join(os.path.dirname(ROOT), "shared", "corpus"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.corpus, "INDEX.md")):
        print(f"lint-vs-squawk: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    if not os.access(args.migrate, os.X_OK):
        print(f"lint-vs-squawk: no migrate binary at {args.migrate} (cargo build -p migrate-goose-cli)", file=sys.stderr)
        return 2
    rules = squawk_rules()
    total_ours = total_theirs = matched = 0
    unexplained = []
    explained = []
    for directory in corpus_pg_dirs(args.corpus):
        ours, theirs = compare_dir(args.migrate, directory, rules, args.verbose)
        label = os.path.relpath(directory, args.corpus)
        total_ours += len(ours)
        total_theirs += len(theirs)
        matched += len(ours & theirs)
        print(f"{label:55} migrate {len(ours):4}  squawk {len(theirs):4}  same {len(ours & theirs):4}")
        for side, only in (("migrate", ours - theirs), ("squawk", theirs - ours)):
            for name, line, column, rule in sorted(only):
                entry = f"{label}/{name}:{line}:{column} {rule}: only {side}"
                reason = EXPLAINED.get((name, rule, side))
                (explained if reason else unexplained).append(f"{entry} ({reason})" if reason else entry)
    print(f"\ntotal: migrate {total_ours}, squawk {total_theirs}, same {matched}; "
          f"{len(explained)} explained difference(s), {len(unexplained)} unexplained")
    for line in explained if args.verbose else []:
        print("  explained:", line)
    for line in unexplained:
        print("  DIFFERENT:", line)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
