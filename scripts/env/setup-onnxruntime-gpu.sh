#!/usr/bin/env bash
# Makes sure `.venv-gpu` holds ONNX Runtime's GPU build, onnxruntime-gpu 1.31.1 (CUDA 13, cuDNN 9;
# the newest GPU wheel on PyPI, a minor version behind the CPU build's 1.32.0) with the NVIDIA
# CUDA and cuDNN wheels it needs, for `--device cuda` (the tiled-occlusion-onnx crate's
# `Device::Cuda`). Then `source scripts/env/onnxruntime-gpu-env.sh` points ORT_DYLIB_PATH at its
# library and LD_LIBRARY_PATH at the CUDA libraries. A separate environment: onnxruntime and
# onnxruntime-gpu cannot be installed side by side. Idempotent; about 1.5 GB the first time.
# Needs an NVIDIA driver for CUDA 13 at run time, not to install.
set -euo pipefail
cd "$(dirname "$0")/../.."

ORT_GPU_VERSION=1.31.1
if [ -x .venv-gpu/bin/python ] && .venv-gpu/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('onnxruntime-gpu') != '$ORT_GPU_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "installing onnxruntime-gpu[cuda,cudnn]==$ORT_GPU_VERSION into .venv-gpu (one time, about 1.5 GB)"
[ -x .venv-gpu/bin/python ] || python3 -m venv .venv-gpu
.venv-gpu/bin/pip install --quiet --disable-pip-version-check "onnxruntime-gpu[cuda,cudnn]==$ORT_GPU_VERSION"
