"""The side-by-side benchmark of the README and docs/performance.md: EfficientNet-Lite0 (our converter's ONNX file and,
for PyTorch, the same weights in the `efficientnet-lite-pytorch` architecture) on the demo's
chelsea photo, every tool computing the same map with the same number of threads, the tools
alternating within each run, medians over the runs:

- Captum 0.9 Occlusion on PyTorch (eager), best of perturbations_per_eval 1 and 16;
- a plain Python loop over onnxruntime (one session, `threads` intra-op threads, batches of
  16 occluded copies built with numpy, the way a user would write it);
- our command, `tiled-occlusion explain`, on tract and on ONNX Runtime (whole process: model
  loading, sessions, photo, attribution, heat maps and files), default plan for `--threads`;

for Occlusion window 18 strides 9 (577 model calls) and TiledOcclusion window 18 k 2 (677
calls; Captum has no TiledOcclusion, and its Occlusion cannot crop windows at the borders the
way our shifted tilings do, so Captum is timed on Occlusion only). Every map is checked
against ours (max relative difference ≤ 1e-4), or the script fails.

    .venv/bin/python benches/scripts/side_by_side.py [--runs 3] [--threads 2] [--quick]

On a GPU (`--device cuda`, what benches/scripts/gpu.sh runs): Captum on PyTorch CUDA (best of
perturbations_per_eval 16 and 64), the plain loop over onnxruntime-gpu's CUDA execution provider
(best of batches 16 and 64), our command on ONNX Runtime's CUDA provider (`--device cuda:0`,
default plan), and our command on ONNX Runtime on the CPU (`--threads`) as the reference map.
Every tool computes in full f32 (PyTorch's cuDNN TF32 and onnxruntime's `use_tf32` turned off,
our default), and GPU maps must agree with the CPU's to 1e-3 (cuDNN sums in another order);
`--tf32` runs every tool with TensorFloat-32 convolutions and matrix products instead (ours:
`--tf32`), checked to 1e-2. The tch row (`--tch-example`) runs libtorch's defaults, TF32
convolutions, and is checked to 1e-2 either way. The throughput is given against
`--gpu-peak-tflops` (f32 without tensor cores; default by the GPU's name, H100 SXM and H200 67).
`--no-setup --cli FILE --assets DIR` runs it where nothing may be installed or built (the
device machine of benches/scripts/gpu/).

Installs what it needs (onnxruntime through scripts/env/setup-onnxruntime.sh; captum 0.9.0,
efficientnet-lite-pytorch 0.1.0 and onnx into .venv when missing; builds the command in
release mode). Prints the table in Markdown: medians, ratios, model throughput in GFLOP/s and
as a fraction of the cores' FMA peak (network FLOPs counted from the ONNX graph:
2 × multiply-adds of every Conv, Gemm and MatMul, times the model evaluations, over the time;
peak = cores × clock × SIMD f32 lanes × FMA units × 2, with the assumptions printed), and the
machine's load average before and after: on a busy machine the times say so, and the lead
re-runs the table on a quiet one. `--quick`: one run, Occlusion only, for a smoke test.
"""

import argparse
import importlib
import importlib.util
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def ensure_packages():
    """onnxruntime (our setup script), captum, the PyTorch architecture and onnx in this
    interpreter's environment."""
    subprocess.run([str(ROOT / "scripts" / "env" / "setup-onnxruntime.sh")], check=True)
    wanted = {"captum": "captum==0.9.0", "efficientnet_lite_pytorch": "efficientnet-lite-pytorch==0.1.0",
              "onnx": "onnx==1.23.2"}
    missing = [spec for module, spec in wanted.items() if importlib.util.find_spec(module) is None]
    if missing:
        print(f"installing {' '.join(missing)} into {sys.prefix}", flush=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing], check=True)
        importlib.invalidate_caches()


# f32 without tensor cores, from NVIDIA's datasheets; the more specific names first.
GPU_F32_PEAK_TFLOPS = [("H100 PCIe", 51.2, "H100 PCIe"), ("H100 NVL", 60.0, "H100 NVL"), ("H100", 67.0, "H100 SXM"),
                       ("H200 NVL", 60.0, "H200 NVL"), ("H200", 67.0, "H200 SXM"), ("A100", 19.5, "A100"),
                       ("L40S", 91.6, "L40S"), ("L40", 90.5, "L40"), ("L4", 30.3, "L4"), ("RTX 4090", 82.6, "RTX 4090, boost clock")]


def gpu_peak(name, given=None):
    """(GFLOP/s, assumptions) of the GPU's f32 peak without tensor cores."""
    if given:
        return given * 1e3, f"{name}: {given:.1f} TFLOP/s f32 (given)"
    for key, tflops, variant in GPU_F32_PEAK_TFLOPS:
        if key in name:
            return tflops * 1e3, f"{name}: {tflops:.1f} TFLOP/s f32 without tensor cores (datasheet, {variant})"
    return float("nan"), f"{name}: peak unknown (give --gpu-peak-tflops)"


def build_command():
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "tiled-occlusion-cli"], cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "tiled-occlusion"


# --- the machine's peak -------------------------------------------------------------------

def cpu_peak(cores, clock_ghz=None, fma_units=2):
    """(GFLOP/s, assumptions): cores × clock × f32 lanes × FMA units × 2 flops per FMA."""
    flags, model, mhz = set(), "unknown CPU", None
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "flags":
                flags = set(value.split())
            elif key == "model name":
                model = value.strip()
            elif key == "cpu MHz" and mhz is None:
                mhz = float(value)
    except OSError:
        pass
    try:
        mhz = max(mhz or 0, int(open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read()) / 1000)
    except (OSError, ValueError):
        pass
    if "avx512f" in flags:
        lanes, isa = 16, "AVX-512"
    elif "avx2" in flags and "fma" in flags:
        lanes, isa = 8, "AVX2+FMA"
    else:
        lanes, isa = 4, "SSE (no FMA: a multiply and an add count as one FMA)"
    ghz = clock_ghz or (mhz or 2000) / 1000
    peak = cores * ghz * lanes * fma_units * 2
    text = (f"{model}: {cores} cores × {ghz:.2f} GHz ({'given' if clock_ghz else 'reported clock'}) × {lanes} f32 "
            f"lanes ({isa}) × {fma_units} FMA units × 2 = {peak:.0f} GFLOP/s")
    return peak, text


def network_flops(onnx_path):
    """FLOPs of one example: 2 × the multiply-adds of Conv, Gemm and MatMul, from the graph
    with inferred shapes (batch 1)."""
    import onnx
    from onnx import shape_inference
    model = onnx.load(str(onnx_path))
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    model = shape_inference.infer_shapes(model)
    shapes = {}
    for value in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        shapes[value.name] = [d.dim_value for d in value.type.tensor_type.shape.dim]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = shapes[node.input[1]]  # (Cout, Cin/group, kh, kw)
            out = shapes[node.output[0]]  # (N, Cout, H, W)
            macs += out[0] * out[1] * out[2] * out[3] * w[1] * w[2] * w[3]
        elif node.op_type in ("Gemm", "MatMul"):
            a, out = shapes[node.input[0]], shapes[node.output[0]]
            k = a[-1]
            n = 1
            for d in out:
                n *= d
            macs += n * k
    return 2 * macs


# --- the tools ----------------------------------------------------------------------------

def occlusion_windows(size, window, stride):
    """Our (and Captum's) Occlusion windows along one dimension: starts j·s for
    j < ceil((d − w) / s) + 1, cropped to the input."""
    count = -(-(size - window) // stride) + 1
    return [(j * stride, min(j * stride + window, size)) for j in range(count)]


def tiled_windows(size, window, k):
    """TiledOcclusion's shifted windows along one dimension, phase by phase: starts
    m·w − φ·(w / k) cropped to [0, d)."""
    step = window // k
    phases = []
    for phi in range(k):
        starts = range(-phi * step, size, window)
        phases.append([(max(a, 0), min(a + window, size)) for a in starts])
    return phases


def plain_loop(session_factory, x, target, regions, batch=16):
    """The plain Python loop: occlude each region (over all channels) with 0, batches of
    `batch`, the target's output drop spread over the region; returns (sum map, count map)."""
    import numpy as np
    session = session_factory()
    name = session.get_inputs()[0].name
    base = session.run(None, {name: x})[0][0, target]
    total = np.zeros(x.shape[1:], dtype=np.float64)
    count = np.zeros(x.shape[1:], dtype=np.float64)
    for start in range(0, len(regions), batch):
        chunk = regions[start:start + batch]
        xs = np.repeat(x, len(chunk), axis=0)
        for i, (ys, xs_) in enumerate(chunk):
            xs[i, :, ys[0]:ys[1], xs_[0]:xs_[1]] = 0.0
        scores = session.run(None, {name: xs})[0][:, target]
        for (ys, xs_), score in zip(chunk, scores):
            total[:, ys[0]:ys[1], xs_[0]:xs_[1]] += base - score
            count[:, ys[0]:ys[1], xs_[0]:xs_[1]] += 1
    return total, count


def relative_difference(a, b):
    import numpy as np
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--photo", default="chelsea.png")
    parser.add_argument("--clock-ghz", type=float, default=None, help="the cores' clock for the peak (default: reported)")
    parser.add_argument("--fma-units", type=int, default=2, help="FMA units per core for the peak (default 2)")
    parser.add_argument("--quick", action="store_true", help="one run, Occlusion only")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where Captum, the loop and ours run")
    parser.add_argument("--gpu-peak-tflops", type=float, default=None, help="the GPU's f32 peak (default: by its name)")
    parser.add_argument("--tf32", action="store_true",
                        help="on a GPU, every tool with TensorFloat-32 convolutions and matrix products (default: f32)")
    parser.add_argument("--no-setup", action="store_true", help="install and build nothing (needs --cli and --assets)")
    parser.add_argument("--cli", default=None, help="our command's binary (default: build it)")
    parser.add_argument("--assets", default=None, help="the demo's assets (default: scripts/assets/assets.py demo)")
    parser.add_argument("--tch-example", default=None,
                        help="backends/tch's torchscript_occlusion binary: adds our tch backend on a TorchScript "
                             "trace of the network (Occlusion only; same device, perturbations_per_eval 64 on a GPU)")
    opts = parser.parse_args()
    if opts.no_setup and not (opts.cli and opts.assets):
        parser.error("--no-setup builds and fetches nothing: give --cli and --assets")
    if opts.tf32 and opts.device != "cuda":
        parser.error("--tf32 applies to a GPU only (--device cuda)")
    if opts.quick:
        opts.runs = 1
    gpu = opts.device == "cuda"
    if not opts.no_setup:
        ensure_packages()
    import numpy as np
    import onnxruntime
    import torch
    import captum
    from captum.attr import Occlusion
    from efficientnet_lite_pytorch import EfficientNet

    cli = pathlib.Path(opts.cli) if opts.cli else build_command()
    assets = pathlib.Path(opts.assets) if opts.assets else pathlib.Path(subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "assets" / "assets.py"), "demo"],
        check=True, capture_output=True, text=True).stdout.split()[-1])
    onnx_path = assets / "efficientnet-lite0.onnx"
    work = pathlib.Path(tempfile.mkdtemp(prefix="tiled-occlusion-side-by-side-"))
    stem = pathlib.Path(opts.photo).stem
    load_before = os.getloadavg()

    def ours(runtime, method, out, device="cpu"):
        args = [str(cli), "explain", str(assets / opts.photo), "--model", str(onnx_path), "--runtime", runtime,
                "--device", device, "--window", "18", "-q", "-o", str(out)]
        if device == "cpu":
            args += ["--threads", str(opts.threads)]
        elif opts.tf32:
            args += ["--tf32"]
        args += ["--method", "occlusion", "--strides", "9"] if method == "occlusion" else ["--method", "tiled", "--k", "2"]
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        wall = time.perf_counter() - start
        attribution = float(re.search(r"model calls.* in ([\d.]+) s", done.stdout).group(1))
        plan = done.stdout.splitlines()[0]
        return wall, attribution, plan

    # The input: our command's preprocessing, written by the command itself.
    _, _, _ = ours("ort" if gpu else "tract", "occlusion", work / "warmup")
    x = np.load(work / "warmup" / f"{stem}.input.npy").astype(np.float32)
    torch.set_num_threads(opts.threads)
    net = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=str(assets / "efficientnet-lite0-57934424.pth")).eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        target = int(net(xt).argmax())
    if opts.tch_example:
        torch.jit.trace(net, xt).save(str(work / "model.pt"))
        np.save(work / "input.npy", x)
    if gpu:
        # cuDNN's TF32 convolutions are PyTorch's default; matrix products are f32 by default.
        torch.backends.cudnn.allow_tf32 = opts.tf32
        torch.backends.cuda.matmul.allow_tf32 = opts.tf32
        net, xt = net.cuda(), xt.cuda()
        assert "CUDAExecutionProvider" in onnxruntime.get_available_providers(), (
            f"onnxruntime {onnxruntime.__version__} from {onnxruntime.__file__} has no CUDA provider: "
            f"{onnxruntime.get_available_providers()}")

    def session_factory():
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = opts.threads
        options.inter_op_num_threads = 1
        # onnxruntime's CUDA provider uses TF32 unless told not to.
        providers = [("CUDAExecutionProvider", {"device_id": 0, "use_tf32": "1" if opts.tf32 else "0"})] if gpu \
            else ["CPUExecutionProvider"]
        return onnxruntime.InferenceSession(str(onnx_path), options, providers=providers)

    def captum_map(ppe):
        with torch.no_grad():
            a = Occlusion(net).attribute(xt, sliding_window_shapes=(3, 18, 18), strides=(3, 9, 9),
                                         baselines=0.0, target=target, perturbations_per_eval=ppe)
        return a.cpu().numpy()[0]  # waits for the GPU's last kernel

    def ours_tch():
        out = work / "tch.npy"
        args = [opts.tch_example, str(work / "model.pt"), str(work / "input.npy"), str(target), "3,18,18", "3,9,9",
                str(out), str(opts.threads), "--device", "cuda:0" if gpu else "cpu",
                "--perturbations-per-eval", "64" if gpu else "1"]
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return time.perf_counter() - start, float(done.stdout.split()[-1]), np.load(out)[0]

    captum_ppes = (16, 64) if gpu else (1, 16)
    loop_batches = (16, 64) if gpu else (16,)
    # (key, runtime, device): the first is the reference map.
    our_runs = [("ort", "ort", "cpu"), ("ort-cuda", "ort", "cuda:0")] if gpu else [("tract", "tract", "cpu"),
                                                                                    ("ort", "ort", "cpu")]
    if gpu:
        # Warm-up, not timed: CUDA contexts, cuDNN's algorithm search, onnxruntime's arena.
        captum_map(captum_ppes[0])

    size = x.shape[2]
    occ = occlusion_windows(size, 18, 9)
    occlusion_regions = [(ys, xs) for ys in occ for xs in occ]
    phases = tiled_windows(size, 18, 2)
    tiled_regions = [(ys, xs) for py in phases for px in phases for ys in py for xs in px]
    workloads = {"occlusion": (occlusion_regions, "Occlusion w18 s9"), "tiled": (tiled_regions, "TiledOcclusion w18 k2")}
    if opts.quick:
        del workloads["tiled"]
    if gpu:
        plain_loop(session_factory, x, target, occlusion_regions[:64], batch=64)

    times = {}
    maps = {}
    plans = {}

    def record(key, seconds):
        times.setdefault(key, []).append(seconds)

    for run in range(opts.runs):
        for method, (regions, _) in workloads.items():
            if method == "occlusion":
                for ppe in captum_ppes:
                    start = time.perf_counter()
                    maps[("captum", method)] = captum_map(ppe)
                    record(("captum", method, ppe), time.perf_counter() - start)
            for batch in loop_batches:
                start = time.perf_counter()
                total, count = plain_loop(session_factory, x, target, regions, batch=batch)
                record(("loop", method, batch), time.perf_counter() - start)
                maps[("loop", method)] = total / count
            for key, runtime, device in our_runs:
                out = work / f"{key}-{method}"
                wall, attribution, plan = ours(runtime, method, out, device)
                record((key, method), wall)
                record((key, method, "attribution"), attribution)
                plans[key] = plan
                maps[(key, method)] = np.load(out / f"{stem}.{'occlusion' if method == 'occlusion' else 'tiled'}.npy")[0]
            if opts.tch_example and method == "occlusion":
                wall, attribution, maps[("tch", method)] = ours_tch()
                record(("tch", method), wall)
                record(("tch", method, "attribution"), attribution)
        print(f"run {run + 1}/{opts.runs} done", flush=True)
    load_after = os.getloadavg()

    flops = network_flops(onnx_path)
    if gpu:
        device_name = torch.cuda.get_device_name()
        peak, peak_text = gpu_peak(device_name, opts.gpu_peak_tflops)
    else:
        device_name = "CPU"
        peak, peak_text = cpu_peak(opts.threads, opts.clock_ghz, opts.fma_units)
    med = {k: statistics.median(v) for k, v in times.items()}
    spread = {k: max(v) / min(v) for k, v in times.items()}
    where = f"on {device_name} (CPU rows: {opts.threads} threads)" if gpu else f"{opts.threads} threads everywhere"
    print(f"\nEfficientNet-Lite0, {opts.photo} (224×224), target {target}, {where}, "
          f"medians of {opts.runs} alternating runs; onnxruntime {onnxruntime.__version__}, torch {torch.__version__}, "
          f"captum {captum.__version__}")
    print(f"network: {flops / 1e9:.3f} GFLOP per image (2 × multiply-adds of Conv/Gemm/MatMul in the ONNX graph)")
    print(f"peak: {peak_text}")
    for key, _, _ in reversed(our_runs):
        print(f"ours ({key}): {plans.get(key, '?')}")
    # The tools themselves keep the load near `threads`; only the load before says whether
    # something else was running.
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} (the benchmark itself "
          f"keeps it near {opts.threads})"
          + ("; the machine was busy before the start: times are inflated" if load_before[0] > 0.5 else ""))
    reference_key = our_runs[-1][0] if not gpu else our_runs[0][0]
    # f32 on a GPU sums in another order than the CPU; TF32 rounds inputs to 10 mantissa bits.
    tolerance = (1e-2 if opts.tf32 else 1e-3) if gpu else 1e-4
    tch_tolerance = 1e-2 if gpu else 1e-4
    on = ("CUDA, TF32" if opts.tf32 else "CUDA, f32") if gpu else "PyTorch eager"
    failures = []
    for method, (regions, label) in workloads.items():
        evaluations = len(regions) + 1
        reference = maps[(reference_key, method)]
        rows = []
        if method == "occlusion":
            best = min(captum_ppes, key=lambda p: med[("captum", method, p)])
            other = [p for p in captum_ppes if p != best][0]
            captum_time = med[("captum", method, best)]
            rows.append((f"Captum 0.9 Occlusion ({on}, perturbations_per_eval {best}; {other}: "
                         f"{med[('captum', method, other)]:.2f} s)",
                         captum_time, spread[("captum", method, best)], maps[("captum", method)]))
        else:
            captum_time = None
        best_batch = min(loop_batches, key=lambda b: med[("loop", method, b)])
        loop_time = med[("loop", method, best_batch)]
        others = "".join(f"; {b}: {med[('loop', method, b)]:.2f} s" for b in loop_batches if b != best_batch)
        provider = (f"onnxruntime-gpu's CUDA provider, {'TF32' if opts.tf32 else 'f32'}" if gpu
                    else f"onnxruntime, {opts.threads} intra-op threads")
        rows.append((f"plain Python loop over {provider} (batch {best_batch}{others})", loop_time,
                     spread[("loop", method, best_batch)], maps[("loop", method)]))
        names = {"tract": "tract", "ort": f"ONNX Runtime, CPU ({opts.threads} threads)" if gpu else "ONNX Runtime",
                 "ort-cuda": f"ONNX Runtime, CUDA provider, {'TF32' if opts.tf32 else 'f32'}"}
        for key, _, _ in our_runs:
            rows.append((f"`tiled-occlusion explain` on {names[key]}, whole process (attribution alone "
                         f"{med[(key, method, 'attribution')]:.2f} s)", med[(key, method)],
                         spread[(key, method)], maps[(key, method)]))
        if (("tch", method)) in med:
            device = "CUDA, libtorch's TF32 convolutions" if gpu else f"CPU, {opts.threads} threads"
            rows.append((f"our tch backend on a TorchScript trace (libtorch {torch.__version__}, {device}), whole "
                         f"process (attribution alone {med[('tch', method, 'attribution')]:.2f} s)", med[("tch", method)],
                         spread[("tch", method)], maps[("tch", method)]))
        print(f"\n{label}: {evaluations} model evaluations")
        print(f"| tool | time | max/min over runs | vs Captum | vs plain loop | GFLOP/s | of peak | "
              f"max rel. diff to ours ({reference_key}) |")
        print("|---|---|---|---|---|---|---|---|")
        for name, seconds, sp, m in rows:
            gflops = flops * evaluations / seconds / 1e9
            diff = relative_difference(m, reference) if m is not reference else 0.0
            vs_captum = f"{captum_time / seconds:.2f}×" if captum_time else "-"
            print(f"| {name} | {seconds:.2f} s | {sp:.2f} | {vs_captum} | {loop_time / seconds:.2f}× | {gflops:.1f} | "
                  f"{gflops / peak:.1%} | {diff:.1e} |")
            if diff > (tch_tolerance if name.startswith("our tch backend") else tolerance):
                failures.append(f"{label}: {name}: map differs from ours by {diff:.2e}")
        main_key = our_runs[-1][0]
        ours_time = med[(main_key, method)]
        summary = f"ours on {names[main_key]}: {loop_time / ours_time:.2f}× the plain loop"
        if captum_time:
            summary += f", {captum_time / ours_time:.2f}× Captum"
        print(summary)
    if failures:
        raise SystemExit("maps disagree:\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
