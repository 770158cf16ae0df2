"""Side by side with Captum on EfficientNet-Lite0: the same weights (in PyTorch through the
`efficientnet-lite-pytorch` architecture), the same photo and input tensor, window 18,
strides 9, perturbations_per_eval 1, target = the top class, alternating the tools in one run.

    .venv/bin/pip install efficientnet-lite-pytorch==0.1.0      # once (no dependencies)
    cargo build --release -p tiled-occlusion-cli
    source scripts/libtorch-env.sh && cargo build --release -p tiled-occlusion-tch --example torchscript_occlusion
    .venv/bin/python scripts/compare_with_captum.py [--runs 3] [--threads 2]

Compares, with the same number of model calls:
- Captum Occlusion (PyTorch, `threads` intra-op threads) against our command (tract, every
  core in parallel) and against our tch backend on a TorchScript export of the same network
  (libtorch with the same `threads`);
- the maps: max relative difference of ours to Captum's.
Prints a table of medians and ratios. The assets come from `python3 scripts/assets.py demo`.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from captum.attr import Occlusion

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--photo", default="chelsea.png")
    opts = parser.parse_args()
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise SystemExit("install the architecture first: .venv/bin/pip install efficientnet-lite-pytorch==0.1.0")
    assets = pathlib.Path(subprocess.run([sys.executable, str(ROOT / "scripts" / "assets.py"), "demo"],
                                         check=True, capture_output=True, text=True).stdout.split()[-1])
    cli = ROOT / "target" / "release" / "tiled-occlusion"
    tch_bin = ROOT / "target" / "release" / "examples" / "torchscript_occlusion"
    for binary in (cli, tch_bin):
        if not binary.is_file():
            raise SystemExit(f"{binary} is missing: build it first (see this script's docstring)")
    torch.set_num_threads(opts.threads)
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(assets / "efficientnet-lite0-57934424.pth")).eval()

    work = pathlib.Path(tempfile.mkdtemp(prefix="tiled-occlusion-captum-"))
    cli_args = [str(cli), "explain", str(assets / opts.photo), "--model", str(assets / "efficientnet-lite0.onnx"),
                "--method", "occlusion", "--window", "18", "--strides", "9", "-q", "-o", str(work / "cli")]
    subprocess.run(cli_args, check=True, capture_output=True)
    stem = pathlib.Path(opts.photo).stem
    x = torch.from_numpy(np.load(work / "cli" / f"{stem}.input.npy"))
    with torch.no_grad():
        logits = model(x)
    target = int(logits.argmax())
    traced = torch.jit.trace(model, x)
    traced.save(str(work / "model.pt"))
    np.save(work / "input.npy", x.numpy())

    def captum():
        return Occlusion(model).attribute(x, sliding_window_shapes=(3, 18, 18), strides=(3, 9, 9), baselines=0.0,
                                          target=target, perturbations_per_eval=1)

    def ours_cli():
        subprocess.run(cli_args, check=True, capture_output=True)

    def ours_tch():
        out = subprocess.run([str(tch_bin), str(work / "model.pt"), str(work / "input.npy"), str(target), "3,18,18",
                              "3,9,9", str(work / "tch.npy"), str(opts.threads)],
                             check=True, capture_output=True, text=True, env=os.environ)
        return float(out.stdout.split()[-1])

    times = {"captum": [], "cli": [], "tch": [], "tch_attr": []}
    reference = None
    for _ in range(opts.runs):
        start = time.perf_counter()
        with torch.no_grad():
            reference = captum()
        times["captum"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ours_cli()
        times["cli"].append(time.perf_counter() - start)
        start = time.perf_counter()
        times["tch_attr"].append(ours_tch())
        times["tch"].append(time.perf_counter() - start)

    ref = reference.numpy()
    scale = np.abs(ref).max()
    cli_map = np.load(work / "cli" / f"{stem}.occlusion.npy")
    tch_map = np.load(work / "tch.npy")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"EfficientNet-Lite0, {opts.photo}, target {target}, Occlusion window 18 strides 9, 577 model calls, "
          f"{opts.runs} alternating runs (medians), torch {torch.__version__}, {opts.threads} threads")
    print("| tool | wall time | Captum / tool | max relative difference to Captum's map |")
    print("|---|---|---|---|")
    print(f"| Captum 0.9.0 (PyTorch) | {med['captum']:.2f} s | 1.00 | - |")
    print(f"| tiled-occlusion command (tract, parallel), whole process | {med['cli']:.2f} s | "
          f"{med['captum'] / med['cli']:.2f}× | {np.abs(cli_map - ref).max() / scale:.2e} |")
    print(f"| tiled-occlusion tch backend (TorchScript), whole process | {med['tch']:.2f} s | "
          f"{med['captum'] / med['tch']:.2f}× | {np.abs(tch_map - ref).max() / scale:.2e} |")
    print(f"| tiled-occlusion tch backend, attribution only | {med['tch_attr']:.2f} s | "
          f"{med['captum'] / med['tch_attr']:.2f}× | |")
    print("The Python TiledOcclusion reference is not available here (not on a registry we reach), "
          "so the reference-vs-ours rows are not measured.")


if __name__ == "__main__":
    main()
