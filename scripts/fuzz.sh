#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each for a bounded time, one after the other, one job each.
#
#   scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 45, scripts/fuzz.sh 600 goose_parser
#
# Targets: goose_parser pg_dsn ch_dsn cli_arguments cli_redaction (all when none is named).
# Seeds: fuzz/seeds/<target> (committed), plus, for goose_parser, every .sql file of ../shared/corpus when it
# is present (copied at run time into the work directory, never into the repository).
# Work files (the growing corpus, crash reproducers, logs) go to $FUZZ_WORK_DIR, default fuzz/work (ignored).
# $FUZZ_ARGS adds libFuzzer flags (e.g. FUZZ_ARGS=-runs=10000000). Installs cargo-fuzz when it is missing.
# Exits 1 when any target crashed, timed out or ran out of memory, printing the reproducer's path.
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS [goose_parser|pg_dsn|ch_dsn|cli_arguments|cli_redaction ...]" >&2
    exit 2
}
[[ $# -ge 1 && $1 =~ ^[0-9]+$ && $1 -gt 0 ]] || usage
seconds=$1
shift
all=(goose_parser pg_dsn ch_dsn cli_arguments cli_redaction)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
for target in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $target "* ]] || { echo "unknown fuzz target: $target" >&2; usage; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

# libFuzzer needs no nightly compiler without a sanitizer (-s none); the panics are what we look for.
echo "fuzz: building ${targets[*]}" >&2
for target in "${targets[@]}"; do
    cargo fuzz build -s none --fuzz-dir fuzz "$target"
done
host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="${CARGO_TARGET_DIR:-$root/fuzz/target}/$host/release"
work="${FUZZ_WORK_DIR:-$root/fuzz/work}"
shared="$root/../shared/corpus"

max_len() {
    case $1 in
        goose_parser) echo 16384 ;;
        pg_dsn | ch_dsn) echo 1024 ;;
        *) echo 4096 ;;
    esac
}

failed=0
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    log="$work/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    seed_dirs=("$root/fuzz/seeds/$target")
    if [[ $target == goose_parser && -d $shared ]]; then
        # The target's input is a flag byte (bit 0: ENVSUB ON first) and then the file.
        extra="$work/shared-seeds/$target"
        rm -rf "$extra"
        mkdir -p "$extra"
        n=0
        while IFS= read -r -d '' file; do
            n=$((n + 1))
            { printf '\000'; cat "$file"; } >"$extra/shared-$n"
            { printf '\001'; cat "$file"; } >"$extra/shared-$n-envsub"
        done < <(find "$shared" -name '*.sql' -type f -print0)
        seed_dirs+=("$extra")
        echo "fuzz: $target: $n files of $shared added as seeds" >&2
    fi
    before=$(find "$artifacts" -type f | sort)
    echo "fuzz: $target for ${seconds}s" >&2
    set +e
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    "$bin_dir/$target" -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" "${seed_dirs[@]}" >"$log" 2>&1
    status=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    new=$(comm -13 <(echo "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')
    if [[ $status -ne 0 || -n $new ]]; then
        failed=1
        echo "fuzz: $target FAILED (exit $status) after ${runs:-?} executions; log: $log" >&2
        grep -E "panicked at|^(thread|==[0-9]+== ERROR|SUMMARY)|ERROR: libFuzzer" -A2 "$log" | head -20 >&2 || true
        while IFS= read -r file; do
            [[ -n $file ]] && echo "fuzz: reproducer: $file (replay: $bin_dir/$target $file)" >&2
        done <<<"$new"
    else
        echo "fuzz: $target ok: ${runs:-?} executions, corpus $(find "$corpus" -type f | wc -l) inputs" >&2
    fi
done
exit "$failed"
