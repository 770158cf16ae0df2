"""Side by side with Captum on EfficientNet-Lite0: the same weights (in PyTorch through the
`efficientnet-lite-pytorch` architecture), the same photo and input tensor, window 18,
strides 9, perturbations_per_eval 1, target = the top class, alternating the tools in one run.

    .venv/bin/pip install efficientnet-lite-pytorch==0.1.0      # once (no dependencies)
    cargo build --release -p tiled-occlusion-cli
    source scripts/env/libtorch-env.sh && cargo build --release -p tiled-occlusion-tch --example torchscript_occlusion
    .venv/bin/python benches/scripts/compare_with_captum.py [--runs 3] [--threads 2] [--reference DIR]

Compares, with the same number of model calls:
- Captum Occlusion (PyTorch, `threads` intra-op threads) against our command (tract, every
  core in parallel) and against our tch backend on a TorchScript export of the same network
  (libtorch with the same `threads`; and `parallel_torchscript`: `threads` calls side by side
  on one intra-op thread each, the same number of threads);
- the maps: max relative difference of ours to Captum's;
- with `--reference DIR` (the folder holding the Python TiledOcclusion reference's
  `attribution.py`, as for `shared/conformance/gen_fixtures.py`; it is not on a registry, so
  it is not fetched and not part of this repository): the reference's TiledOcclusion
  (window 18, k 2) against our command in reference mode, whose map must equal the
  reference's (checked: the script fails above 1e-4 relative), and in the default mode.
Prints a table of medians and ratios. The assets come from `python3 scripts/assets/assets.py demo`.
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

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--photo", default="chelsea.png")
    parser.add_argument("--reference", type=pathlib.Path, default=None,
                        help="folder holding the Python TiledOcclusion reference's attribution.py")
    opts = parser.parse_args()
    reference_tiled = None
    if opts.reference is not None:
        sys.path.insert(0, str(opts.reference))
        from attribution import TiledOcclusion as reference_tiled
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise SystemExit("install the architecture first: .venv/bin/pip install efficientnet-lite-pytorch==0.1.0")
    assets = pathlib.Path(subprocess.run([sys.executable, str(ROOT / "scripts" / "assets" / "assets.py"), "demo"],
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

    def ours_tch(parallel=False):
        out_npy = work / ("tch_parallel.npy" if parallel else "tch.npy")
        out = subprocess.run([str(tch_bin), str(work / "model.pt"), str(work / "input.npy"), str(target), "3,18,18",
                              "3,9,9", str(out_npy), str(opts.threads)] + (["parallel"] if parallel else []),
                             check=True, capture_output=True, text=True, env=os.environ)
        return float(out.stdout.split()[-1])

    tiled_args = [str(cli), "explain", str(assets / opts.photo), "--model", str(assets / "efficientnet-lite0.onnx"),
                  "--method", "tiled", "--window", "3,18,18", "--k", "1,2,2", "-q"]

    def python_reference():
        with torch.no_grad():
            return reference_tiled(model).attribute(x, target=target, k=(1, 2, 2), window=(3, 18, 18), baselines=0.0,
                                                    show_progress=False)

    def ours_tiled(mode):
        subprocess.run(tiled_args + ["--mode", mode, "-o", str(work / mode)], check=True, capture_output=True)

    times = {"captum": [], "cli": [], "tch": [], "tch_attr": [], "tch_parallel": [], "tch_parallel_attr": [],
             "python_reference": [], "reference": [], "shifted": []}
    reference = None
    reference_map = None
    for _ in range(opts.runs):
        if reference_tiled is not None:
            start = time.perf_counter()
            reference_map = python_reference()
            times["python_reference"].append(time.perf_counter() - start)
            for mode in ("reference", "shifted"):
                start = time.perf_counter()
                ours_tiled(mode)
                times[mode].append(time.perf_counter() - start)
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
        start = time.perf_counter()
        times["tch_parallel_attr"].append(ours_tch(parallel=True))
        times["tch_parallel"].append(time.perf_counter() - start)

    ref = reference.numpy()
    scale = np.abs(ref).max()
    cli_map = np.load(work / "cli" / f"{stem}.occlusion.npy")
    tch_map = np.load(work / "tch.npy")
    med = {k: statistics.median(v) for k, v in times.items() if v}
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
    tch_parallel_map = np.load(work / "tch_parallel.npy")
    print(f"| tiled-occlusion tch backend, parallel_torchscript ({opts.threads} calls side by side, 1 libtorch "
          f"thread each), whole process | {med['tch_parallel']:.2f} s | {med['captum'] / med['tch_parallel']:.2f}× | "
          f"{np.abs(tch_parallel_map - ref).max() / scale:.2e} |")
    print(f"| tiled-occlusion tch backend, parallel_torchscript, attribution only | {med['tch_parallel_attr']:.2f} s | "
          f"{med['captum'] / med['tch_parallel_attr']:.2f}× | |")
    if reference_map is None:
        print("(The Python TiledOcclusion reference rows need --reference DIR.)")
        return
    pyref = reference_map.numpy()
    ours_ref = np.load(work / "reference" / f"{stem}.tiled.npy")
    ours_shifted = np.load(work / "shifted" / f"{stem}.tiled.npy")
    ref_diff = np.abs(ours_ref - pyref).max() / np.abs(pyref).max()
    print(f"\nTiledOcclusion window 18 k 2, {opts.runs} alternating runs (medians)")
    print("| tool | wall time | reference / tool | max relative difference to the reference's map |")
    print("|---|---|---|---|")
    print(f"| Python TiledOcclusion reference (Captum Occlusion per phase, PyTorch) | {med['python_reference']:.2f} s "
          f"| 1.00 | - |")
    print(f"| tiled-occlusion command, reference mode, whole process | {med['reference']:.2f} s | "
          f"{med['python_reference'] / med['reference']:.2f}× | {ref_diff:.2e} |")
    print(f"| tiled-occlusion command, default mode, whole process | {med['shifted']:.2f} s | "
          f"{med['python_reference'] / med['shifted']:.2f}× | (a different map by design) |")
    if not ref_diff < 1e-4:
        raise SystemExit(f"reference mode does not reproduce the Python reference: {ref_diff:.2e} relative")


if __name__ == "__main__":
    main()
