# Source this file to run the command or your own program on ONNX Runtime's GPU build
# (`--device cuda`): sets ORT_DYLIB_PATH to the libonnxruntime of `.venv-gpu` (installed by
# scripts/env/setup-onnxruntime-gpu.sh) and adds the NVIDIA CUDA and cuDNN libraries of its
# site-packages to LD_LIBRARY_PATH (ONNX Runtime's CUDA provider does not find them by itself).
# To use another environment's packages, set TILED_OCCLUSION_ORT_GPU_SITE to the folder holding
# onnxruntime/capi (the GPU build) and TILED_OCCLUSION_NVIDIA_SITE to the one holding nvidia/
# (default: the same folder) first.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# `|| true`: a shell with `set -eo pipefail` that sources this must reach the message below.
_sites="${TILED_OCCLUSION_ORT_GPU_SITE:-$(ls -d "$_root"/.venv-gpu/lib/python3*/site-packages 2>/dev/null | tail -n 1 || true)}"
_ort_lib=""
for _candidate in "$_sites"/onnxruntime/capi/libonnxruntime.so.*; do
  [ -f "$_candidate" ] && _ort_lib="$_candidate"
done
if [ -n "$_ort_lib" ]; then
  export ORT_DYLIB_PATH="$_ort_lib"
  _nvidia="${TILED_OCCLUSION_NVIDIA_SITE:-$_sites}"
  for _dir in "$_nvidia"/nvidia/*/lib "$_nvidia"/nvidia/*/*/lib; do
    [ -d "$_dir" ] && LD_LIBRARY_PATH="$_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  export LD_LIBRARY_PATH
else
  echo "onnxruntime-gpu-env.sh: no onnxruntime-gpu in ${_sites:-$_root/.venv-gpu}; run scripts/env/setup-onnxruntime-gpu.sh" >&2
fi
unset _root _sites _nvidia _ort_lib _candidate _dir
