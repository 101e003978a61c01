#!/usr/bin/env bash
# Checks the Helm chart deploy/helm/migrate offline (no cluster, no helm binary): helm lint --strict, the
# value matrix rendered and checked, every manifest validated with kubernetes-validate --strict against
# Kubernetes 1.29 to 1.33, values that must be refused (values.schema.json), yamllint, and the snapshots of
# the renderings (ci/snapshots: the defaults and each case) and the plain manifests in deploy/kubernetes
# compared with the chart's renderings.
# The work is scripts/helm_check.py, in one Python process.
#
# Usage: scripts/helm-check.sh            check (exit 1 on any failure)
#        scripts/helm-check.sh --update   rewrite ci/snapshots/*.yaml and deploy/kubernetes/*.yaml (then commit them)
#
# Installs its PyPI tools once into .tools/k8s-venv (idempotent: later runs only check the versions):
# helm-python-sdk (Helm 4 as a library), kubernetes-validate (schemas 1.25 to 1.37), yamllint.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/k8s-venv"
requirements=(helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 yamllint==1.38.0)

installed() {
  [ -x "$venv/bin/python" ] || return 1
  local requirement
  for requirement in "${requirements[@]}"; do
    [ "$("$venv/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "${requirement%%==*}" 2>/dev/null)" = "${requirement#*==}" ] || return 1
  done
}

if ! installed; then
  echo "helm-check: installing ${requirements[*]} into $venv" >&2
  python3 -m venv "$venv" >&2 || { echo "helm-check: cannot create the venv $venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}" >&2 \
    || { echo "helm-check: pip could not install ${requirements[*]}" >&2; exit 1; }
  installed || { echo "helm-check: ${requirements[*]} still not importable from $venv" >&2; exit 1; }
fi
exec "$venv/bin/python" "$root/scripts/helm_check.py" "$@"
