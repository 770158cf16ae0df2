#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, CUDA 13 and PyTorch in python3, from the folder that
# benches/scripts/gpu/stage.sh packed and receive.sh unpacked (STAGE: python/onnxruntime = the
# onnxruntime-gpu package, wheels/, bin/tiled-occlusion, bin/torchscript_occlusion and the
# PyTorch version it was built for in bin/torchscript_occlusion.torch, assets/):
#
#   bash benches/scripts/gpu/run.sh STAGE [RUNS]
#
# Puts onnxruntime-gpu ahead of any installed onnxruntime, installs captum and
# efficientnet-lite-pytorch into STAGE/site (no index), points ORT_DYLIB_PATH at the GPU build and
# LD_LIBRARY_PATH at python3's NVIDIA CUDA and cuDNN libraries, then runs
# benches/scripts/side_by_side.py --device cuda (Captum on CUDA, the onnxruntime-gpu loop, ours
# on the CUDA provider and on the CPU, all in f32; our tch backend on python3's libtorch when
# that is the PyTorch the example was built for), our command's rows-per-call sweep on the GPU,
# and the side by side once more with TF32.
# Everything printed also goes to $OUT/gpu.md (STAGE/gpu.md when OUT is not set).
set -euo pipefail
cd "$(dirname "$0")/../../.."
stage=$(cd "${1:?usage: run.sh STAGE [RUNS]}" && pwd)
runs=${2:-3}
log=${OUT:-$stage}/gpu.md
exec > >(tee "$log") 2>&1

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$stage/site" "$stage"/wheels/*.whl
export PYTHONPATH="$stage/python:$stage/site${PYTHONPATH:+:$PYTHONPATH}"
export TILED_OCCLUSION_ORT_GPU_SITE="$stage/python"
# python3's CUDA and cuDNN wheels (nvidia/...); without them the GPU build cannot start.
nvidia_site=$(python3 -c "import os, nvidia; print(os.path.dirname(list(nvidia.__path__)[0]))")
export TILED_OCCLUSION_NVIDIA_SITE="$nvidia_site"
source scripts/env/onnxruntime-gpu-env.sh
cli="$stage/bin/tiled-occlusion"
python3 -c "import onnxruntime as o, torch; print('onnxruntime', o.__version__, o.get_available_providers(), '| torch', torch.__version__, torch.cuda.get_device_name())"
cores=$(nproc)
# The tch row: the example runs on python3's own libtorch, which must be the one it was built for.
tch_row=()
tch_example="$stage/bin/torchscript_occlusion"
if [ -x "$tch_example" ]; then
  built_for=$(cat "$tch_example.torch")
  # One import of torch (seconds of device time): its version and its lib folder.
  read -r have torch_lib < <(python3 -c "import os, torch; print(torch.__version__.split('+')[0], os.path.join(os.path.dirname(torch.__file__), 'lib'))")
  if [ "$have" = "$built_for" ]; then
    export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    tch_row=(--tch-example "$tch_example")
  else
    echo "no tch row: the example was built for PyTorch $built_for, python3 has $have (stage with DEVICE_TORCH_VERSION=$have)"
  fi
fi

# Each step runs whatever the one before did (a failed check still prints its table); the most
# wanted first, in case the machine's time runs out.
status=0
step() {
  "$@" || { local code=$?; echo "## failed (exit $code): $*"; status=1; }
}

echo "## side by side (medians of $runs)"
step python3 -u benches/scripts/side_by_side.py --device cuda --no-setup --cli "$cli" --assets "$stage/assets" \
  --threads "$cores" --runs "$runs" "${tch_row[@]}"

step bash benches/scripts/gpu/rows_per_call.sh "$cli" "$stage/assets"

echo "## side by side with TensorFloat-32 (--tf32 in every tool; one run, Occlusion only)"
step python3 -u benches/scripts/side_by_side.py --device cuda --tf32 --quick --no-setup --cli "$cli" \
  --assets "$stage/assets" --threads "$cores"
exit "$status"
