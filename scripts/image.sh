#!/usr/bin/env bash
# Builds the migrate container image and checks it, with no container runtime and no registry:
#  1. the static binary: cargo build --release --target x86_64-unknown-linux-musl (stripped, fat LTO);
#  2. the image FROM scratch (Containerfile) with buildah --storage-driver vfs, exported as an OCI archive;
#  3. its config with skopeo inspect: user 65532:65532, entrypoint /migrate, the default directory and
#     CA bundle variables, the OCI labels (version, revision, created, source, licenses);
#  4. its filesystem with umoci unpack: only the expected files, nothing writable by the image's user, and
#     the whole rootfs under 15 MB;
#  5. the binary run from that rootfs (chroot, as 65532, with the image's own environment) against the local
#     PostgreSQL on 127.0.0.1:5432 (trust auth) in a scratch database: `--version`, `wait` (and `wait` on a
#     closed port must fail), `up` of fixtures/basic baked in at /migrations (the default directory), `up`
#     again with nothing to do, `status --exit-code`, a bad flag exiting 2, and a ConfigMap-style mounted
#     directory (`..data` symlinks) read by `validate`;
#  6. every command line the chart renders (ci/snapshots, deploy/kubernetes) run the same way against a
#     closed port: each must fail to connect (exit 1), none may be refused as a bad argument (exit 2).
#
# Usage: scripts/image.sh   (as root: installs buildah, skopeo, umoci, musl-tools with apt-get when missing)
# Environment: IMAGE_OUT (the OCI archive; default $CARGO_TARGET_DIR/image/migrate.oci.tar),
#   CARGO_TARGET_DIR, CARGO_BUILD_JOBS, PGPORT (5432). PostgreSQL must be up (scripts/servers.sh up).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[[ -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]] && export PATH="$HOME/.cargo/bin:$PATH"
target=x86_64-unknown-linux-musl
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=${IMAGE_OUT:-$target_dir/image/migrate.oci.tar}
pg_port=${PGPORT:-5432}
db=migrate_image_check
max_bytes=$((15 * 1024 * 1024))

# psql on the local server, quiet (no NOTICE for DROP DATABASE IF EXISTS).
pg() { PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
die() { echo "image.sh: error: $*" >&2; exit 1; }
note() { echo "image.sh: $*" >&2; }
started=$SECONDS
step_started=$SECONDS
step() { note "$* (+$((SECONDS - step_started))s)"; step_started=$SECONDS; }

# ---- tools ---------------------------------------------------------------------------------------------
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v umoci >/dev/null || missing+=(umoci)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
command -v psql >/dev/null || missing+=(postgresql-client)
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3 # Debian's, where python3-yaml installs
"$py" -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}: run as root to install them with apt-get"
  note "apt-get install ${missing[*]}"
  apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}" >/dev/null </dev/null || die "apt-get install ${missing[*]} failed"
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  command -v rustup >/dev/null || die "the $target target is missing and there is no rustup to add it"
  rustup target add "$target" >&2 || die "rustup target add $target failed"
fi
[[ $(id -u) == 0 ]] || die "chroot needs root (the binary is run from the image's unpacked filesystem)"

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-image.XXXXXX")
cleanup() {
  pg -d postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. the static binary -------------------------------------------------------------------------------
# Stripped and with fat LTO for a small image; the profile is the release one, overridden here only.
note "building migrate for $target (cargo build --release)"
messages=$(CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --release --locked --target "$target" -p migrate-goose-cli --bin migrate \
  --message-format=json-render-diagnostics)
bin=$(printf '%s\n' "$messages" | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d '"' -f 4)
[[ -n "$bin" && -x "$bin" ]] || die "cargo reported no migrate executable (got '$bin')"
ldd "$bin" 2>&1 | grep -qE 'not a dynamic executable|statically linked' || die "$bin is not static: $(ldd "$bin" 2>&1)"
step "built $bin ($(stat -c %s "$bin") bytes, static)"

# ---- 2. the image ---------------------------------------------------------------------------------------
version=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "migrate-goose-cli"))')
revision=$(git rev-parse HEAD)
created=$(date -u -d "@$(git log -1 --format=%ct)" +%Y-%m-%dT%H:%M:%SZ) # the commit's time: reproducible
context=$work/context
mkdir -p "$context/migrations"
install -m 0555 "$bin" "$context/migrate"
install -m 0444 /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n' >"$context/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$context/group"
chmod 0444 "$context/passwd" "$context/group"
chmod 0555 "$context/migrations"

storage=(--storage-driver vfs --root "$work/storage" --runroot "$work/run")
image=localhost/migrate:$version
export BUILDAH_ISOLATION=chroot
buildah "${storage[@]}" bud --quiet --format oci --timestamp "$(git log -1 --format=%ct)" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  -t "$image" -f "$root/Containerfile" "$context" >/dev/null || die "buildah bud failed"
mkdir -p "$(dirname "$out")"
rm -f "$out"
buildah "${storage[@]}" push --quiet "$image" "oci-archive:$out:$version" >/dev/null || die "buildah push failed"
step "built $image, exported to $out"

# ---- 3. the config --------------------------------------------------------------------------------------
skopeo inspect --config "oci-archive:$out:$version" >"$work/config.json" || die "skopeo inspect --config failed"
skopeo inspect "oci-archive:$out:$version" >"$work/inspect.json" || die "skopeo inspect failed"
skopeo inspect --raw "oci-archive:$out:$version" >"$work/manifest.json" || die "skopeo inspect --raw failed"
python3 - "$work/config.json" "$work/inspect.json" "$version" "$revision" "$created" <<'EOF' || die "the image config is not as it must be"
import json, sys
config, inspect = (json.load(open(p)) for p in sys.argv[1:3])
version, revision, created = sys.argv[3:6]
c = config["config"]
checks = {
    "user 65532:65532": c.get("User") == "65532:65532",
    "entrypoint [/migrate]": c.get("Entrypoint") == ["/migrate"],
    "cmd [--help]": c.get("Cmd") == ["--help"],
    "GOOSE_MIGRATION_DIR=/migrations": "GOOSE_MIGRATION_DIR=/migrations" in c.get("Env", []),
    "SSL_CERT_FILE": "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in c.get("Env", []),
    "linux/amd64": (config.get("os"), config.get("architecture")) == ("linux", "amd64"),
}
labels = c.get("Labels") or {}
expected = {
    "org.opencontainers.image.title": "migrate",
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.revision": revision,
    "org.opencontainers.image.created": created,
    "org.opencontainers.image.source": "https://github.com/migrate-rs/migrate",
    "org.opencontainers.image.licenses": "MIT OR Apache-2.0",
}
for key, value in expected.items():
    checks[f"label {key}={value}"] = labels.get(key) == value
checks["inspect shows the same labels"] = (inspect.get("Labels") or {}) == labels
failed = [k for k, ok in checks.items() if not ok]
for k in failed:
    print(f"image.sh: config check failed: {k}", file=sys.stderr)
if failed:
    print(json.dumps(c, indent=2), file=sys.stderr)
    sys.exit(1)
print(f"image.sh: config ok: {len(checks)} checks (user, entrypoint, env, {len(expected)} labels)", file=sys.stderr)
EOF

# ---- 4. the filesystem ----------------------------------------------------------------------------------
layout=$work/layout
mkdir -p "$layout"
tar -xf "$out" -C "$layout"
umoci unpack --image "$layout:$version" "$work/bundle" >/dev/null || die "umoci unpack failed"
rootfs=$work/bundle/rootfs
files=$(cd "$rootfs" && find . -mindepth 1 | sort | tr '\n' ' ')
[[ "$files" == "./etc ./etc/group ./etc/passwd ./etc/ssl ./etc/ssl/certs ./etc/ssl/certs/ca-certificates.crt ./migrate ./migrations " ]] \
  || die "unexpected files in the image: $files"
writable=$(find "$rootfs" \( -user 65532 -o -group 65532 -o -perm -o+w \) -print)
[[ -z "$writable" ]] || die "writable by the image's user: $writable"
rootfs_bytes=$(du -sb "$rootfs" | cut -f 1)
archive_bytes=$(stat -c %s "$out")
layers_bytes=$(python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/manifest.json")
((rootfs_bytes < max_bytes)) || die "the image's filesystem is $rootfs_bytes bytes, over the 15 MB target"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
step "filesystem ok: $(mib "$rootfs_bytes") unpacked, $(mib "$layers_bytes") compressed layers, archive $(mib "$archive_bytes")"

# ---- 5. run it from the rootfs --------------------------------------------------------------------------
# The image's environment and user, from the runtime config umoci wrote, exactly as a runtime would set them.
mapfile -t image_env < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["process"]["env"]))' "$work/bundle/config.json")
user=$(python3 -c 'import json,sys; u = json.load(open(sys.argv[1]))["process"]["user"]; print("%d:%d" % (u["uid"], u["gid"]))' "$work/bundle/config.json")
[[ "$user" == 65532:65532 ]] || die "the runtime config runs as $user"
# The service's image: its migrations baked in at the default directory (COPY migrations /migrations).
cp fixtures/basic/*.sql "$rootfs/migrations/"
chmod 0444 "$rootfs"/migrations/*.sql
# A ConfigMap as the kubelet mounts it: the files are symlinks through ..data to a timestamped directory.
mkdir -p "$rootfs/configmap/..2026_01_01_00_00_00.000000000"
cp fixtures/basic/00001_create_users.sql fixtures/basic/00002_seed_users.sql "$rootfs/configmap/..2026_01_01_00_00_00.000000000/"
ln -s ..2026_01_01_00_00_00.000000000 "$rootfs/configmap/..data"
ln -s ..data/00001_create_users.sql "$rootfs/configmap/00001_create_users.sql"
ln -s ..data/00002_seed_users.sql "$rootfs/configmap/00002_seed_users.sql"
# The credentials as the chart passes them: the parts, from the Secret (trust auth ignores the password; it
# holds characters a hand-built URL would have to encode).
db_env=(POSTGRES_HOST=127.0.0.1 "POSTGRES_PORT=$pg_port" POSTGRES_USER=postgres "POSTGRES_DATABASE=$db"
  'POSTGRES_PASSWORD=p@ss:/w rd%#?')
run_image() { # EXPECTED_EXIT NAME ARGS...: runs /migrate ARGS from the rootfs; output in $work/NAME.out
  local expected=$1 name=$2 rc=0
  shift 2
  env -i "${image_env[@]}" "${db_env[@]}" chroot --userspec="$user" "$rootfs" /migrate "$@" \
    >"$work/$name.out" 2>&1 || rc=$?
  if [[ $rc != "$expected" ]]; then
    cat "$work/$name.out" >&2
    die "migrate $* exited $rc, expected $expected"
  fi
}
expect() { # NAME PATTERN: the output of run NAME holds PATTERN (an extended regex)
  grep -qE "$2" "$work/$1.out" || { cat "$work/$1.out" >&2; die "migrate's output ($1) lacks /$2/"; }
}
last=$(find fixtures/basic -name '*.sql' -printf '%f\n' | sort | tail -n 1)
highest=$((10#${last%%_*}))

pg -d postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
pg -d postgres -qc "CREATE DATABASE $db" >/dev/null

run_image 0 version --version
expect version "^migrate version: $version"
run_image 0 wait wait --driver postgres --timeout 10s
expect wait "accepts connections"
run_image 1 wait-closed wait --driver postgres --db-port 1 --timeout 1s
expect wait-closed "gave up waiting"
run_image 2 bad-flag up --no-such-flag
# The chart's command line (templates/_helpers.tpl), with the default directory from the image's variable.
run_image 0 up up --driver postgres
expect up "OK +00001_create_users.sql"
expect up "successfully migrated database to version: $highest"
applied=$(pg -d "$db" -Atc "SELECT max(version_id) FROM goose_db_version")
[[ "$applied" == "$highest" ]] || die "goose_db_version is at $applied after up, expected $highest"
run_image 0 up-again up --dir /migrations --driver postgres
expect up-again "no migrations to run. current version: $highest"
run_image 0 status status --driver postgres --exit-code
expect status "00006_touch_function.sql"
run_image 0 configmap validate --dir /configmap -v
expect configmap "00002_seed_users.sql"
step "ran from the rootfs as $user: --version, wait, wait on a closed port (exit 1), a bad flag (exit 2), up to version $highest, up again, status --exit-code, a ConfigMap-style directory"

# ---- 6. the chart's command lines -----------------------------------------------------------------------
# Every wait/migrate container's arguments in the chart's renderings (ci/snapshots, deploy/kubernetes) must
# parse: run against a closed port, each must fail to connect (exit 1), never with an argument error (2).
# wait's --timeout is shortened to 1s. One JSON array per line: the driver, then the arguments.
mapfile -t command_lines < <("$py" - "$root" <<'PY'
import glob, json, sys, yaml
root = sys.argv[1]
seen = set()
paths = glob.glob(f"{root}/deploy/helm/migrate/ci/snapshots/*.yaml") + glob.glob(f"{root}/deploy/kubernetes/*.yaml")
for path in sorted(paths):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc["kind"] not in ("Job", "Deployment"):
            continue
        spec = doc["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            if container["name"] not in ("wait", "migrate"):
                continue
            args = list(container["args"])
            if args[0] == "wait":
                args[args.index("--timeout") + 1] = "1s"
            line = json.dumps([args[args.index("--driver") + 1]] + args)
            if line not in seen:
                seen.add(line)
                print(line)
PY
)
((${#command_lines[@]} >= 6)) || die "found only ${#command_lines[@]} command lines in the chart's renderings"
for line in "${command_lines[@]}"; do
  mapfile -t words < <("$py" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$line")
  prefix=POSTGRES
  [[ ${words[0]} == clickhouse ]] && prefix=CLICKHOUSE
  db_env=("${prefix}_HOST=127.0.0.1" "${prefix}_PORT=1")
  run_image 1 chart-line "${words[@]:1}"
  expect chart-line "Connection refused|gave up waiting"
done
step "the chart's ${#command_lines[@]} distinct command lines parse (each fails only to connect to a closed port)"

note "ok: $out, $(mib "$rootfs_bytes") unpacked ($(mib "$layers_bytes") compressed), $((SECONDS - started))s in all"
