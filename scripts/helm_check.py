#!/usr/bin/env python3
"""Checks the Helm chart in deploy/helm/migrate offline, in one process; run by scripts/helm-check.sh.

1. `helm lint --strict` (Helm 4 as a library, PyPI helm-python-sdk) with each value set of the matrix.
2. Renders the matrix (deploy/helm/migrate/ci/*-values.yaml and the defaults) and the plain manifests'
   value sets (deploy/kubernetes/values/*.yaml), and checks what each must contain (hooks, waves,
   security context, the wait-then-up commands, the variables migrate reads, no shell anywhere).
3. Validates every rendered manifest with kubernetes-validate in strict mode (unknown fields and wrong
   types fail) against Kubernetes 1.29 to 1.33; the PrometheusRule (a CRD, which kubernetes-validate has
   no schema for) against a small schema of its own here. A manifest broken on purpose must fail.
4. Every file in ci/invalid/ must be refused by the chart (values.schema.json or a template's `fail`).
5. yamllint on the chart's YAML files and on everything rendered.
6. The rendering of each case (the defaults included) equals its snapshot ci/snapshots/CASE.yaml, and each
   deploy/kubernetes/*.yaml equals its rendering; `--update` rewrites them instead.

Exit 0 when every check passed, 1 otherwise (each failure is printed).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import helm_python as helm
import jsonschema
import yaml
from kubernetes_validate import utils as kv
from yamllint import config as yamllint_config
from yamllint import linter as yamllint_linter

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy/helm/migrate"
CI = CHART / "ci"
# The rendering of each case of the matrix; scripts/image.sh runs their command lines with the image.
SNAPSHOTS = CI / "snapshots"
PLAIN = ROOT / "deploy/kubernetes"
KUBE_VERSIONS = ["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"]
RELEASE, NAMESPACE = "billing", "apps"
PLAIN_RELEASE = "myservice"
PLAIN_HEADER = """\
# Generated from the Helm chart deploy/helm/migrate with deploy/kubernetes/values/{name}: do not edit by
# hand; change the chart or the values, then run scripts/helm-check.sh --update.
# For `kubectl apply -n NAMESPACE -f`: replace "myservice" (the names, the Secret {secret}) and the image.
"""
# The order `helm install` creates kinds in, for a stable, readable output.
KIND_ORDER = ["ServiceAccount", "ConfigMap", "Job", "Deployment", "PrometheusRule"]

# kubernetes-validate reads the schema files again for every resource: read each once.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)

PROMETHEUS_RULE_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string"},
                            "interval": {"type": "string"},
                            "rules": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["alert", "expr"],
                                    "properties": {
                                        "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                        "expr": {"type": "string", "minLength": 1},
                                        "for": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h|d|w|y)$"},
                                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                        "annotations": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

YAMLLINT_RULES = """
extends: default
rules:
  line-length: {max: %s}
  document-start: disable
  indentation: {spaces: 2, indent-sequences: whatever}
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
"""
YAMLLINT_CONFIG = yamllint_config.YamlLintConfig(YAMLLINT_RULES % 120)
# Renderings hold lines no one wrote (an image digest, a folded description): no line-length there.
YAMLLINT_RENDERED = yamllint_config.YamlLintConfig(YAMLLINT_RULES % 100000)


class Dumper(yaml.SafeDumper):
    """Block style as kubectl writes it: sequences indented under their key, multi-line strings as `|`."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, _str)


def dump(document: dict) -> str:
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, width=1000)


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checks = 0

    def check(self, ok: bool, what: str) -> bool:
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print(f"FAIL {what}", file=sys.stderr)
        return ok


def load_values(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def render(chart: helm.Chart, values: dict, release: str = RELEASE) -> tuple[str, list[dict], str]:
    """The rendered manifests as one YAML stream (helm template's layout), parsed, and NOTES.txt."""
    manifests = chart.render(values, name=release, namespace=NAMESPACE, is_install=True)
    notes = ""
    documents = []
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for document in yaml.safe_load_all(text):
            if document:
                documents.append((path, document))
    documents.sort(key=lambda pd: (KIND_ORDER.index(pd[1]["kind"]), pd[1]["metadata"]["name"]))
    stream = "".join(
        f"---\n# Source: {path}\n{dump(document)}"
        for path, document in documents
    )
    return stream, [document for _, document in documents], notes


def by_kind(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def pod_spec(documents: list[dict]) -> dict:
    workload = by_kind(documents, "Job") + by_kind(documents, "Deployment")
    return workload[0]["spec"]["template"]["spec"]


def env_of(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


def check_common(c: Checker, case: str, documents: list[dict]) -> None:
    """What every rendering must hold: the security context, wait before up, no shell."""
    spec = pod_spec(documents)
    pod_sc = spec.get("securityContext", {})
    c.check(pod_sc.get("runAsNonRoot") is True and pod_sc.get("runAsUser") == 65532, f"{case}: pod runs as 65532, non-root")
    c.check(pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{case}: seccomp RuntimeDefault")
    c.check(spec.get("automountServiceAccountToken") is False, f"{case}: no service account token mounted")
    migrate_containers = [x for x in spec.get("initContainers", []) + spec["containers"] if x["name"] in ("wait", "migrate")]
    # Fleet mode has no wait container: each of its targets connects on its own.
    fleet = case == "fleet"
    c.check(len(migrate_containers) == (1 if fleet else 2), f"{case}: a wait and a migrate container")
    for container in migrate_containers:
        where = f"{case}: container {container['name']}"
        sc = container.get("securityContext", {})
        c.check(sc.get("readOnlyRootFilesystem") is True, f"{where}: read-only root filesystem")
        c.check(sc.get("allowPrivilegeEscalation") is False, f"{where}: no privilege escalation")
        c.check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: drops ALL capabilities")
        c.check("command" not in container, f"{where}: the image's entrypoint runs (no shell, no command)")
        c.check("limits" in container.get("resources", {}), f"{where}: has resource limits")
    names = [x["name"] for x in migrate_containers]
    c.check(names == (["migrate"] if fleet else ["wait", "migrate"]), f"{case}: wait runs before migrate, got {names}")
    args = {x["name"]: x["args"] for x in migrate_containers}
    c.check(fleet or args.get("wait", [None])[0] == "wait", f"{case}: the wait container runs `migrate wait`")
    c.check(args.get("migrate", [None])[0] in ("up", "up-by-one"), f"{case}: the migrate container runs `migrate up`")
    text = yaml.safe_dump(documents)
    for word in ("sed ", "/bin/sh", "bash"):
        c.check(word not in text, f"{case}: no {word.strip()!r} anywhere")


def check_hooks(c: Checker, case: str, doc: dict, wave: str, helm_weight: str | None = None) -> None:
    annotations = doc["metadata"].get("annotations", {})
    what = f"{case}: {doc['kind']} {doc['metadata']['name']}"
    c.check(annotations.get("argocd.argoproj.io/hook") == "PreSync", f"{what}: ArgoCD PreSync hook")
    c.check(annotations.get("argocd.argoproj.io/sync-wave") == wave, f"{what}: sync wave {wave}, got {annotations.get('argocd.argoproj.io/sync-wave')}")
    c.check("BeforeHookCreation" in annotations.get("argocd.argoproj.io/hook-delete-policy", ""), f"{what}: BeforeHookCreation")
    c.check(annotations.get("helm.sh/hook") == "pre-install,pre-upgrade", f"{what}: Helm pre-install,pre-upgrade hook")
    c.check(annotations.get("helm.sh/hook-weight") == (helm_weight or wave), f"{what}: Helm hook weight")
    c.check(annotations.get("helm.sh/hook-delete-policy") == "before-hook-creation", f"{what}: Helm before-hook-creation")


def check_default(c: Checker, documents: list[dict], notes: str) -> None:
    case = "default"
    c.check([d["kind"] for d in documents] == ["Job"], f"{case}: exactly one Job, got {[d['kind'] for d in documents]}")
    job = by_kind(documents, "Job")[0]
    c.check(job["metadata"]["name"] == f"{RELEASE}-migrate", f"{case}: the Job is <release>-migrate")
    check_hooks(c, case, job, "-2")
    spec = job["spec"]
    c.check(spec.get("ttlSecondsAfterFinished") == 300, f"{case}: ttlSecondsAfterFinished 300")
    c.check(spec.get("backoffLimit") == 3, f"{case}: backoffLimit 3")
    c.check(isinstance(spec.get("activeDeadlineSeconds"), int), f"{case}: activeDeadlineSeconds set")
    rules = spec.get("podFailurePolicy", {}).get("rules", [])
    c.check(any(r["action"] == "FailJob" and 2 in r["onExitCodes"]["values"] for r in rules), f"{case}: exit 2 fails the Job at once")
    pod = spec["template"]["spec"]
    c.check(pod.get("restartPolicy") == "Never", f"{case}: restartPolicy Never")
    env = env_of(pod["containers"][0])
    for var in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DATABASE"):
        ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef", {})
        c.check(ref.get("name") == f"{RELEASE}-db" and ref.get("key") == var, f"{case}: {var} from the Secret {RELEASE}-db")
    c.check(not any(k.startswith("MIGRATE_") for k in env), f"{case}: no placeholder variables by default")
    c.check(pod["containers"][0]["args"] == ["up", "--dir", "/migrations", "--driver", "postgres"], f"{case}: migrate up --dir /migrations --driver postgres, got {pod['containers'][0]['args']}")
    c.check(f"kubectl logs -n {NAMESPACE} job/{RELEASE}-migrate" in notes, f"{case}: NOTES.txt says how to read the Job's logs")


def check_postgres(c: Checker, documents: list[dict]) -> None:
    case = "postgres-job"
    job = by_kind(documents, "Job")[0]
    sa = by_kind(documents, "ServiceAccount")
    c.check(len(sa) == 1, f"{case}: a ServiceAccount")
    if sa:
        check_hooks(c, case, sa[0], "-3")
        c.check(job["spec"]["template"]["spec"].get("serviceAccountName") == sa[0]["metadata"]["name"], f"{case}: the Job runs as it")
    pod = job["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    c.check(args[args.index("--db-param") + 1] == "sslmode=require", f"{case}: --db-param sslmode=require")
    c.check(args[args.index("--timeout") + 1] == "10m", f"{case}: --timeout 10m")
    c.check(pod["containers"][0]["image"] == "registry.example.com/billing/migrations:2026.12.1", f"{case}: the service's image")
    c.check(env_of(pod["initContainers"][0])["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "billing-postgres", f"{case}: the wait container has the credentials too")


def check_clickhouse(c: Checker, documents: list[dict]) -> None:
    case = "clickhouse-job"
    cms = by_kind(documents, "ConfigMap")
    if not c.check(len(cms) == 1, f"{case}: a ConfigMap of SQL"):
        return
    cm = cms[0]
    check_hooks(c, case, cm, "-4")
    c.check(sorted(cm["data"]) == ["00001_create_events.sql", "00002_add_source.sql"], f"{case}: the ConfigMap holds both files")
    c.check(cm["data"]["00001_create_events.sql"].startswith("-- +goose Up\n"), f"{case}: the SQL is kept verbatim")
    pod = by_kind(documents, "Job")[0]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    c.check(volumes.get("migrations", {}).get("configMap", {}).get("name") == cm["metadata"]["name"], f"{case}: the ConfigMap is a volume")
    container = pod["containers"][0]
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    c.check(mounts.get("/migrations", {}).get("name") == "migrations", f"{case}: mounted at /migrations")
    env = env_of(container)
    c.check(env.get("CLICKHOUSE_USERNAME", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("key") == "CLICKHOUSE_USERNAME", f"{case}: CLICKHOUSE_USERNAME from the Secret")
    c.check(env.get("CLICKHOUSE_DATABASE", {}).get("value") == "events", f"{case}: CLICKHOUSE_DATABASE as a plain value")
    c.check("POSTGRES_HOST" not in env, f"{case}: no POSTGRES_* variables")
    c.check(container["args"][container["args"].index("--driver") + 1] == "clickhouse", f"{case}: --driver clickhouse")


def check_init_container(c: Checker, documents: list[dict]) -> None:
    case = "init-container"
    c.check([d["kind"] for d in documents] == ["Deployment"], f"{case}: only a Deployment, got {[d['kind'] for d in documents]}")
    deployment = by_kind(documents, "Deployment")[0]
    c.check(deployment["spec"]["replicas"] == 3, f"{case}: 3 replicas")
    pod = deployment["spec"]["template"]["spec"]
    c.check([x["name"] for x in pod["initContainers"]] == ["wait", "migrate"], f"{case}: init containers wait, migrate")
    c.check([x["name"] for x in pod["containers"]] == ["notes"], f"{case}: the application container runs after them")
    c.check("annotations" not in deployment["metadata"] or not any("hook" in k for k in deployment["metadata"]["annotations"]), f"{case}: no hook annotations")
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    c.check(all(labels.get(k) == v for k, v in selector.items()), f"{case}: the selector matches the pod labels")


def check_fleet(c: Checker, documents: list[dict]) -> None:
    case = "fleet"
    job = by_kind(documents, "Job")[0]
    spec = job["spec"]
    c.check(spec.get("completionMode") == "Indexed", f"{case}: an Indexed Job")
    c.check(spec.get("completions") == 4 and spec.get("parallelism") == 4, f"{case}: 4 completions, 4 at once")
    pod = spec["template"]["spec"]
    c.check("initContainers" not in pod, f"{case}: no wait container (each target connects itself)")
    container = pod["containers"][0]
    args = container["args"]
    c.check(args == ["up", "--all", "--jobs", "8", "--services", "auth,billing"], f"{case}: the command line, got {args}")
    env = env_of(container)
    for var, value in [("MIGRATE_SHARDS", "4"), ("MIGRATE_CONFIG", "/migrations/migrate.toml"), ("MIGRATE_ENVIRONMENT", "prod")]:
        c.check(env.get(var, {}).get("value") == value, f"{case}: {var}={value}")


def check_all_features(c: Checker, documents: list[dict]) -> None:
    case = "all-features"
    kinds = [d["kind"] for d in documents]
    c.check(kinds == ["ServiceAccount", "Job", "PrometheusRule"], f"{case}: ServiceAccount, Job, PrometheusRule; got {kinds}")
    job = by_kind(documents, "Job")[0]
    c.check(job["metadata"]["name"] == "analytics-migrate", f"{case}: fullnameOverride names the Job")
    check_hooks(c, case, job, "-1")
    for sa in by_kind(documents, "ServiceAccount"):
        check_hooks(c, case, sa, "-2")
        c.check(sa["metadata"]["name"] == "analytics-migrator", f"{case}: the ServiceAccount's name")
    c.check("HookSucceeded" in job["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"], f"{case}: the delete policy is configurable")
    c.check(job["metadata"]["annotations"].get("example.com/owner") == "data", f"{case}: extra Job annotations")
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    expected = ["up-by-one", "--dir", "/migrations", "--driver", "clickhouse", "--db-param", "secure=true", "--table",
                "analytics.goose_db_version", "--timeout", "30m", "--lock-wait", "10m", "--allow-missing", "--verbose",
                "--no-lint", "--clickhouse-cluster", "prod", "--clickhouse-cluster-strict", "--clickhouse-ddl-timeout", "5m",
                "--allow-changed"]
    c.check(args == expected, f"{case}: the command line, got {args}")
    wait_args = pod["initContainers"][0]["args"]
    c.check(wait_args[-2:] == ["--timeout", "2m"], f"{case}: wait --timeout 2m, got {wait_args}")
    env = env_of(container)
    c.check(env["CLICKHOUSE_HOST"]["valueFrom"]["secretKeyRef"]["key"] == "host", f"{case}: key names are configurable")
    c.check(env["CLICKHOUSE_PORT"].get("value") == "9440", f"{case}: the port as a plain value")
    for var, value in [("MIGRATE_ENVIRONMENT", "prod"), ("MIGRATE_BACKUP_DIR", "/backups"),
                       ("MIGRATE_METRICS_PUSH", "http://pushgateway.monitoring:9091"), ("MIGRATE_SERVICE", "analytics"),
                       ("ENVSUB_REPLICAS", "2")]:
        c.check(env.get(var, {}).get("value") == value, f"{case}: {var}={value}")
    volumes = {v["name"]: v for v in pod["volumes"]}
    c.check(volumes.get("backups", {}).get("persistentVolumeClaim", {}).get("claimName") == "analytics-backups", f"{case}: the backup volume")
    c.check(volumes.get("migrations", {}).get("configMap", {}).get("name") == "analytics-sql", f"{case}: an existing ConfigMap")
    c.check({m["mountPath"] for m in container["volumeMounts"]} == {"/migrations", "/backups", "/etc/migrate/ca"}, f"{case}: the mounts")
    c.check(pod["containers"][0]["image"].endswith("@sha256:" + "0123456789abcdef" * 4), f"{case}: the image by digest")
    rules = by_kind(documents, "PrometheusRule")
    if rules:
        rule = rules[0]["spec"]["groups"][0]["rules"][0]
        c.check(rule["alert"] == "MigrationFailed" and rule["expr"] == 'migration_failure_total{service="analytics"} > 0', f"{case}: the alert, got {rule}")
        c.check(rules[0]["metadata"]["labels"].get("release") == "kube-prometheus-stack", f"{case}: the rule's labels")
    spec = job["spec"]
    c.check((spec["ttlSecondsAfterFinished"], spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (3600, 1, 1800), f"{case}: ttl, backoff, deadline")


def validate(c: Checker, case: str, documents: list[dict]) -> None:
    for document in documents:
        what = f"{case}: {document['kind']}/{document['metadata']['name']}"
        if document["kind"] == "PrometheusRule":
            try:
                jsonschema.validate(document, PROMETHEUS_RULE_SCHEMA)
                c.check(True, what)
            except jsonschema.ValidationError as error:
                c.check(False, f"{what}: {error.message} at {list(error.absolute_path)}")
            continue
        for version in KUBE_VERSIONS:
            try:
                kv.validate(document, version, strict=True)
                c.check(True, what)
            except kv.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                c.check(False, f"{what} against Kubernetes {version}: {path}: {error.message}")
            except kv.SchemaNotFoundError as error:
                c.check(False, f"{what} against Kubernetes {version}: no schema: {error.message}")


def validator_has_teeth(c: Checker, documents: list[dict]) -> None:
    """kubernetes-validate must refuse a Job with a wrong type and one with an unknown field."""
    job = yaml.safe_load(yaml.safe_dump(by_kind(documents, "Job")[0]))
    job["spec"]["backoffLimit"] = "three"
    unknown = yaml.safe_load(yaml.safe_dump(by_kind(documents, "Job")[0]))
    unknown["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True  # sic: the wrong case
    for broken, what in [(job, "backoffLimit: three"), (unknown, "an unknown field")]:
        try:
            kv.validate(broken, KUBE_VERSIONS[0], strict=True)
            c.check(False, f"kubernetes-validate accepted a Job with {what}")
        except kv.ValidationError:
            c.check(True, "")


def refused(c: Checker, chart: helm.Chart) -> None:
    files = sorted((CI / "invalid").glob("*.yaml"))
    c.check(len(files) >= 4, "ci/invalid holds the negative cases")
    for path in files:
        try:
            chart.render(load_values(path), name=RELEASE, namespace=NAMESPACE, is_install=True)
            c.check(False, f"ci/invalid/{path.name}: rendered, but must be refused")
        except (helm.HelmValuesError, helm.HelmRenderError) as error:
            message = str(error)
            print(f"  refused as it must be: ci/invalid/{path.name}: {message.splitlines()[0][:160]}")
            c.check(True, path.name)
            if "backoff" in path.name:
                c.check("backoffLimit" in message, f"ci/invalid/{path.name}: the error names backoffLimit: {message}")


def yamllint(c: Checker, name: str, text: str, conf: yamllint_config.YamlLintConfig = YAMLLINT_CONFIG) -> None:
    problems = [p for p in yamllint_linter.run(text, conf) if p.level == "error"]
    c.check(not problems, f"yamllint {name}: " + "; ".join(f"{p.line}:{p.column} {p.message} ({p.rule})" for p in problems))


def compare(c: Checker, path: Path, text: str, update: bool) -> None:
    rel = path.relative_to(ROOT)
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"  updated {rel}")
        return
    if not path.exists():
        c.check(False, f"{rel} is missing: run scripts/helm-check.sh --update and commit it")
        return
    old = path.read_text()
    if old != text:
        import difflib

        diff = "".join(list(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(rel), "rendered"))[:60])
        c.check(False, f"{rel} differs from the chart's rendering (scripts/helm-check.sh --update rewrites it):\n{diff}")
    else:
        c.check(True, str(rel))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the snapshots and deploy/kubernetes/*.yaml")
    options = parser.parse_args()
    started = time.monotonic()
    c = Checker()
    chart = helm.Chart.load(str(CHART))

    cases = {"default": {}}
    for path in sorted(CI.glob("*-values.yaml")):
        cases[path.name.removesuffix("-values.yaml")] = load_values(path)
    c.check(set(cases) == {"default", "postgres-job", "clickhouse-job", "init-container", "all-features", "fleet"}, f"the matrix: {sorted(cases)}")

    print("helm lint --strict")
    for case, values in cases.items():
        for kube in (KUBE_VERSIONS[0], KUBE_VERSIONS[-1]):
            report = helm.lint(str(CHART), values, strict=True, kube_version="v" + kube)
            bad = [m for m in report["messages"] if m["severity"] >= 2] + [{"error": e} for e in report["errors"]]
            c.check(not bad, f"helm lint --strict ({case}, {kube}): {bad}")

    print("render and check the matrix")
    rendered = {}
    for case, values in cases.items():
        stream, documents, notes = render(chart, values)
        rendered[case] = (stream, documents)
        check_common(c, case, documents)
        c.check(bool(notes.strip()), f"{case}: NOTES.txt renders")
    check_default(c, rendered["default"][1], render(chart, {})[2])
    check_postgres(c, rendered["postgres-job"][1])
    check_clickhouse(c, rendered["clickhouse-job"][1])
    check_init_container(c, rendered["init-container"][1])
    check_all_features(c, rendered["all-features"][1])
    check_fleet(c, rendered["fleet"][1])

    print("plain manifests (deploy/kubernetes)")
    plain_values = sorted((PLAIN / "values").glob("*.yaml"))
    c.check(len(plain_values) >= 3, "deploy/kubernetes/values holds the plain manifests' value sets")
    for path in plain_values:
        values = load_values(path)
        stream, documents, _ = render(chart, values, release=PLAIN_RELEASE)
        case = f"deploy/kubernetes/{path.name}"
        check_common(c, case, documents)
        text = yaml.safe_dump(documents)
        c.check("helm.sh/" not in text and "Helm" not in text, f"{case}: no Helm labels or hooks in plain manifests")
        secret = values.get("database", {}).get("secretName") or f"{PLAIN_RELEASE}-db"
        rendered[case] = (stream, documents)
        compare(c, PLAIN / path.name, PLAIN_HEADER.format(name=path.name, secret=secret) + stream, options.update)

    print(f"kubernetes-validate --strict against {KUBE_VERSIONS[0]} to {KUBE_VERSIONS[-1]}")
    for case, (_, documents) in rendered.items():
        validate(c, case, documents)
    validator_has_teeth(c, rendered["default"][1])

    print("values that must be refused (ci/invalid)")
    refused(c, chart)

    print("yamllint")
    for path in sorted(CHART.rglob("*.yaml")) + sorted((PLAIN / "values").glob("*.yaml")):
        if "templates" in path.parts or "snapshots" in path.parts:
            continue  # Go templates are not YAML, and renderings are linted below.
        yamllint(c, str(path.relative_to(ROOT)), path.read_text())
    for case, (stream, _) in rendered.items():
        yamllint(c, f"rendering of {case}", stream, YAMLLINT_RENDERED)

    print("snapshots (ci/snapshots)")
    for case in cases:
        compare(c, SNAPSHOTS / f"{case}.yaml", rendered[case][0], options.update)

    took = time.monotonic() - started
    if c.failures:
        print(f"helm_check: {len(c.failures)} of {c.checks} checks failed ({took:.1f}s)", file=sys.stderr)
        return 1
    print(f"helm_check: {c.checks} checks passed ({took:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
