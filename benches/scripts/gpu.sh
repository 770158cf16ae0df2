#!/usr/bin/env bash
# NOT YET RUN: prepared for a machine with an NVIDIA GPU and CUDA 12 drivers; nobody has run it
# (our machine has no GPU), so its numbers are not in docs/performance.md yet.
#
# The side-by-side workload (EfficientNet-Lite0, chelsea, Occlusion window 18 strides 9, 577
# evaluations) on the GPU, next to the same workload on the CPU:
# - a plain Python loop over onnxruntime-gpu 1.32.0's CUDA execution provider (batch 16 and 64);
# - Captum 0.9 Occlusion on PyTorch CUDA (perturbations_per_eval 16 and 64);
# - for reference, our command on ONNX Runtime (CPU), as in side_by_side.py.
# Every map is checked against our command's (max relative difference ≤ 1e-3 on the GPU, whose
# convolutions round differently). onnxruntime-gpu and onnxruntime cannot share a Python
# environment, so the GPU wheel goes into its own, `.venv-gpu` (with torch and captum).
#
#   ./benches/scripts/gpu.sh [RUNS]
#
# Still missing (say so with the numbers): our command on the CUDA provider (tiled-occlusion-onnx
# has no execution-provider option yet; `ort`'s `cuda` feature would add it) and the tch backend
# on CUDA (backends/tch/examples/torchscript_occlusion.rs takes no device yet).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"

command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: this script needs an NVIDIA GPU" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

if [ ! -x .venv-gpu/bin/python ]; then
  python3 -m venv .venv-gpu
  .venv-gpu/bin/pip install --quiet --disable-pip-version-check \
    onnxruntime-gpu==1.32.0 torch==2.13.0 captum==0.9.0 efficientnet-lite-pytorch==0.1.0
fi
./scripts/env/setup-onnxruntime.sh
cargo build --release --locked -q -p tiled-occlusion-cli
assets=$(python3 scripts/assets/assets.py demo | tail -n 1)
work=$(mktemp -d)
start=$SECONDS
target/release/tiled-occlusion explain "$assets/chelsea.png" --model "$assets/efficientnet-lite0.onnx" \
  --runtime ort --method occlusion --window 18 --strides 9 -q -o "$work/ours" | tail -n 2
echo "our command on ONNX Runtime (CPU), whole process: $((SECONDS - start)) s"

.venv-gpu/bin/python - "$assets" "$work" "$runs" <<'PY'
import pathlib, statistics, sys, time
import numpy as np, onnxruntime, torch
from captum.attr import Occlusion
from efficientnet_lite_pytorch import EfficientNet

assets, work, runs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
x = np.load(work / "ours" / "chelsea.input.npy").astype(np.float32)
ours = np.load(work / "ours" / "chelsea.occlusion.npy")[0]
target = 282
starts = [j * 9 for j in range(-(-(224 - 18) // 9) + 1)]
regions = [((a, min(a + 18, 224)), (b, min(b + 18, 224))) for a in starts for b in starts]
assert "CUDAExecutionProvider" in onnxruntime.get_available_providers(), onnxruntime.get_available_providers()
session = onnxruntime.InferenceSession(str(assets / "efficientnet-lite0.onnx"),
                                       providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
name = session.get_inputs()[0].name

def ort_loop(batch):
    base = session.run(None, {name: x})[0][0, target]
    total = np.zeros(x.shape[1:]); count = np.zeros(x.shape[1:])
    for s in range(0, len(regions), batch):
        chunk = regions[s:s + batch]
        xs = np.repeat(x, len(chunk), axis=0)
        for i, ((y0, y1), (x0, x1)) in enumerate(chunk):
            xs[i, :, y0:y1, x0:x1] = 0.0
        scores = session.run(None, {name: xs})[0][:, target]
        for ((y0, y1), (x0, x1)), v in zip(chunk, scores):
            total[:, y0:y1, x0:x1] += base - v; count[:, y0:y1, x0:x1] += 1
    return total / count

net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(assets / "efficientnet-lite0-57934424.pth")).eval().cuda()
xt = torch.from_numpy(x).cuda()

def captum(ppe):
    with torch.no_grad():
        a = Occlusion(net).attribute(xt, sliding_window_shapes=(3, 18, 18), strides=(3, 9, 9), baselines=0.0,
                                     target=target, perturbations_per_eval=ppe)
    torch.cuda.synchronize()
    return a[0].cpu().numpy()

tools = {"onnxruntime-gpu CUDA loop, batch 16": lambda: ort_loop(16),
         "onnxruntime-gpu CUDA loop, batch 64": lambda: ort_loop(64),
         "Captum 0.9, PyTorch CUDA, perturbations_per_eval 16": lambda: captum(16),
         "Captum 0.9, PyTorch CUDA, perturbations_per_eval 64": lambda: captum(64)}
for f in tools.values():
    f()  # warm-up: CUDA contexts, cuDNN autotuning
times = {k: [] for k in tools}
maps = {}
for _ in range(runs):
    for k, f in tools.items():
        t = time.perf_counter(); maps[k] = f(); times[k].append(time.perf_counter() - t)
print(f"\n{torch.cuda.get_device_name()}: Occlusion w18 s9, 577 evaluations, medians of {runs} alternating runs")
print("| tool | time | max rel. diff to ours (CPU) |\n|---|---|---|")
worst = 0.0
for k in tools:
    d = float(np.abs(maps[k] - ours).max() / np.abs(ours).max()); worst = max(worst, d)
    print(f"| {k} | {statistics.median(times[k]):.2f} s | {d:.1e} |")
if worst > 1e-3:
    raise SystemExit(f"a GPU map differs from ours by {worst:.2e}")
PY
