#!/usr/bin/env bash
# Makes sure `.venv` holds PyTorch 2.13.0, the libtorch the tch backend (tch 0.26) builds
# against. Idempotent: does nothing when it is already there. About 1.5 minutes and 4.8 GB
# the first time (PyPI's torch wheel bundles the CUDA libraries).
set -euo pipefail
cd "$(dirname "$0")/../.."

TORCH_VERSION=2.13.0
if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "installing torch==$TORCH_VERSION into .venv (one time, about 1.5 minutes)"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
