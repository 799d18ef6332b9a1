#!/usr/bin/env bash
# The model downloads against the OLDEST huggingface_hub that pyproject.toml allows.
#
# sam3_canvas/models/download.py uses only public huggingface_hub API; the lower bound in
# pyproject.toml is the oldest release that has all of it (HfApi.get_paths_info arrived in
# 0.20.0). This installs exactly that release in a throwaway venv (no torch/transformers:
# transformers needs a newer hub) and runs the download tests there, against the local
# stand-in hub (tests/hubserver.py). The main CI (.ci/run) covers the newest release.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN=$(sed -n 's/^ *"huggingface_hub>=\([0-9][0-9.]*\).*/\1/p' pyproject.toml)
if [ -z "$MIN" ]; then
  echo "min_versions.sh: no \"huggingface_hub>=X\" line in pyproject.toml" >&2
  exit 2
fi
VENV=${SAM3_MINVER_VENV:-/tmp/sam3-minver}
PY=${PYTHON:-python3}

rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -e . onnxruntime pytest pytest-timeout "huggingface_hub==$MIN"
"$VENV/bin/python" - "$MIN" <<'PY'
import sys, huggingface_hub
from packaging.version import Version
assert Version(huggingface_hub.__version__) == Version(sys.argv[1]), huggingface_hub.__version__
print(f"huggingface_hub {huggingface_hub.__version__} (the minimum in pyproject.toml)")
PY
export QT_QPA_PLATFORM=offscreen
"$VENV/bin/python" -m pytest tests/e2e/test_download.py -q -p no:cacheprovider
