#!/usr/bin/env bash
# Creates (or refreshes) the project's virtualenv: the operator with its test extras, the local
# cluster tool (hack/) and the Galera agent, all editable.
#   hack/venv.sh [VENV_DIR]     default: .venv in the repository
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.venv}"
python="${PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || { echo "venv: error: $python is not installed (need Python >= 3.11)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "venv: error: $("$python" --version 2>&1) is too old (need Python >= 3.11)" >&2; exit 1; }

if [[ ! -x "$venv/bin/python" ]]; then
  echo "venv: creating $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]" -e "$root/hack" -e "$root/images/galera"
touch "$venv/.installed"
echo "venv: ready ($("$venv/bin/python" --version), $venv)"
