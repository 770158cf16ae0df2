#!/usr/bin/env bash
# The side-by-side benchmark on an NVIDIA GPU, on a machine that has one, CUDA 13 drivers, cargo
# and the package registries:
#
#   ./benches/scripts/gpu.sh [RUNS]
#
# EfficientNet-Lite0 on chelsea, Occlusion window 18 strides 9 (577 evaluations) and
# TiledOcclusion window 18 k 2 (677), every tool computing the same map, medians of RUNS
# (default 3) alternating runs (benches/scripts/side_by_side.py --device cuda):
# - Captum 0.9 Occlusion on PyTorch 2.13 CUDA (best of perturbations_per_eval 16 and 64);
# - a plain Python loop over onnxruntime-gpu 1.31.1's CUDA execution provider (best of batch 16, 64);
# - our command on ONNX Runtime's CUDA provider (`--device cuda:0`, the default GPU plan);
# - our tch backend on a TorchScript trace of the network on CUDA (perturbations_per_eval 64);
# - our command on ONNX Runtime on the CPU (every core), whose map every GPU map must match to 1e-3;
# every tool in full f32 (the tch row: libtorch's default TF32 convolutions, to 1e-2), then once
# more, one run, every tool with TensorFloat-32 (--tf32, to 1e-2).
# Then our command's rows per call on the GPU (8 to 256, two sessions), to check the plan's GPU rule.
#
# Where nothing can be installed or reached (the `device` tool's machines), use
# benches/scripts/gpu/stage.sh instead (same benchmark, staged in parts; its tch row is built
# here against the machine's PyTorch, 2.11, and runs there on that libtorch).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"

command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: this script needs an NVIDIA GPU" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
./scripts/env/setup-onnxruntime-gpu.sh
.venv-gpu/bin/pip install --quiet --disable-pip-version-check \
  torch==2.13.0 captum==0.9.0 efficientnet-lite-pytorch==0.1.0 onnx==1.23.2
./scripts/env/setup-libtorch.sh
cargo build --release --locked -q -p tiled-occlusion-cli
(source scripts/env/libtorch-env.sh && cargo build --release --locked -q -p tiled-occlusion-tch --example torchscript_occlusion)
assets=$(python3 scripts/assets/assets.py demo | tail -n 1)
source scripts/env/onnxruntime-gpu-env.sh
cli=target/release/tiled-occlusion

# Each step runs whatever the one before did (a failed check still prints its table).
status=0
step() {
  "$@" || { local code=$?; echo "## failed (exit $code): $*"; status=1; }
}

echo "## side by side (medians of $runs)"
step bash -c 'source scripts/env/libtorch-env.sh && source scripts/env/onnxruntime-gpu-env.sh &&
  exec .venv-gpu/bin/python -u benches/scripts/side_by_side.py --device cuda --no-setup --cli "$1" --assets "$2" \
    --threads "$(nproc)" --runs "$3" --tch-example target/release/examples/torchscript_occlusion' _ "$cli" "$assets" "$runs"

step bash benches/scripts/gpu/rows_per_call.sh "$cli" "$assets"

echo "## side by side with TensorFloat-32 (--tf32 in every tool; one run, Occlusion only)"
step .venv-gpu/bin/python -u benches/scripts/side_by_side.py --device cuda --tf32 --quick --no-setup --cli "$cli" \
  --assets "$assets" --threads "$(nproc)"
exit "$status"
