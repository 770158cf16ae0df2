#!/usr/bin/env bash
# Makes sure `.venv` holds onnxruntime 1.32.0 (the PyPI wheel), whose
# `onnxruntime/capi/libonnxruntime.so.*` the command and the tiled-occlusion-onnx crate load at
# run time (`source scripts/env/onnxruntime-env.sh` points ORT_DYLIB_PATH at it; the command also
# finds it by itself from a checkout). Idempotent: does nothing when it is already there. About
# 10 s and 90 MB the first time (pip's cache makes later installs quick).
set -euo pipefail
cd "$(dirname "$0")/../.."

ORT_VERSION=1.32.0
if [ -x .venv/bin/python ] && .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('onnxruntime') != '$ORT_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "installing onnxruntime==$ORT_VERSION into .venv (one time, about 10 s)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "onnxruntime==$ORT_VERSION"
