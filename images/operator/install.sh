#!/usr/bin/env bash
# Installs the operator into a virtualenv: the operator image's only install step, and what
# tests/system/test_operator_image.py runs without a container engine.
#   images/operator/install.sh VENV_DIR [SOURCE_DIR]     SOURCE_DIR default: the repository
set -euo pipefail
if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 VENV_DIR [SOURCE_DIR]" >&2
  exit 2
fi
venv="$1"
source_dir="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
python="${PYTHON:-python3}"
# In an image build, the CA bundle handed over as the build secret "ca" (see the Dockerfile).
if [[ -s /run/secrets/ca ]]; then
  export PIP_CERT=/run/secrets/ca
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
venv="$(cd "$venv" && pwd)"
templates="$(find "$source_dir/operator/ccp_operator/templates" -type f -name '*.j2' | wc -l)"

# Not editable (the image holds no source tree), no test extras (no pytest in the image), no
# pip cache (it would only make the image larger).
"$venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check --no-input "$source_dir"

# The console script starts, so every module it imports and every runtime dependency is there.
"$venv/bin/ccp-operator" --help >/dev/null

# The templates load from the installed copy, all of them: the package data made it into the
# wheel. Isolated mode (-I) and another working directory keep the source tree off sys.path.
cd /
"$venv/bin/python" -I - "$venv" "$templates" <<'PY'
import sys
from pathlib import Path

from ccp_operator import render

venv, expected = Path(sys.argv[1]).resolve(), int(sys.argv[2])
if venv not in Path(render.__file__).resolve().parents:
    sys.exit(f"install: error: ccp_operator comes from {render.__file__}, not from {venv}")
environment = render.environment()
names = environment.list_templates()
for name in names:
    environment.get_template(name)
if len(names) != expected:
    sys.exit(f"install: error: {len(names)} templates installed, {expected} in the source")
print(f"install: ccp-operator and its {len(names)} templates installed in {venv}")
PY
