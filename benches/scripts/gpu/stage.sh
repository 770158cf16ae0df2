#!/usr/bin/env bash
# Prepares the GPU side-by-side benchmark for a machine that can reach nothing (the `device`
# tool's machines: an NVIDIA GPU, its driver, CUDA 13 libraries and PyTorch in python3, no
# package index, at most 64 MiB sent per call). Run here, on a machine with the registries:
#
#   benches/scripts/gpu/stage.sh
#
# It builds our command (release) and backends/tch's torchscript_occlusion example against the
# device machine's PyTorch (build_tch_example.sh; DEVICE_TORCH_VERSION, default 2.11.0), fetches
# the demo's assets, downloads onnxruntime-gpu 1.31.1
# (the CUDA 13 build for Python 3.12), captum 0.9.0 and efficientnet-lite-pytorch 0.1.0, packs
# the onnxruntime package (without its TensorRT provider), the two other wheels, the binaries and
# the assets into one xz archive, and splits it into parts of at most 56 MiB, each in its own
# folder `.gpu/pK/` (ignored by git) with the checksums of all parts. Then, on the device
# machine, one call per part, back to back (the machine stays warm 30 s between calls), each
# with `carry: [".gpu/pK"]` and the command
#
#   bash benches/scripts/gpu/receive.sh
#
# which moves the part out of the working tree (into /var/tmp/tiled-occlusion-gpu, kept while the
# machine is warm) and, once every part is there and its checksum matches, unpacks them and runs
# benches/scripts/gpu/run.sh: the benchmark, written to $OUT. The parts are listed at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
stage=.gpu
part_size=$((56 * 1024 * 1024))
ORT_GPU_VERSION=1.31.1
DEVICE_TORCH_VERSION=${DEVICE_TORCH_VERSION:-2.11.0}

rm -rf "$stage" && mkdir -p "$stage/tree/python" "$stage/tree/wheels" "$stage/tree/bin" "$stage/tree/assets" "$stage/download"
cargo build --release --locked -q -p tiled-occlusion-cli
cp target/release/tiled-occlusion "$stage/tree/bin/"
# Our tch backend, built for the device machine's PyTorch (2.11.0+cu130, read there on
# 2026-11-17; run.sh checks it) and run there on its libtorch.
bash benches/scripts/gpu/build_tch_example.sh "$stage/tree/bin/torchscript_occlusion" "$DEVICE_TORCH_VERSION"
assets=$(python3 scripts/assets/assets.py demo | tail -n 1)
cp "$assets"/efficientnet-lite0.onnx "$assets"/efficientnet-lite0-57934424.pth "$assets"/chelsea.png "$stage/tree/assets/"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$stage/download" \
  "onnxruntime-gpu==$ORT_GPU_VERSION" captum==0.9.0 efficientnet-lite-pytorch==0.1.0
mv "$stage"/download/captum-*.whl "$stage"/download/efficientnet_lite_pytorch-*.whl "$stage/tree/wheels/"
python3 - "$stage/download" "$stage/tree/python" <<'PY'
import pathlib, sys, zipfile
download, target = map(pathlib.Path, sys.argv[1:])
wheel = next(download.glob("onnxruntime_gpu-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        # The TensorRT provider is not used; the tools, transformers and quantization code neither.
        if info.filename.startswith("onnxruntime/") and "tensorrt" not in info.filename:
            z.extract(info, target)
for so in (target / "onnxruntime" / "capi").glob("*.so*"):
    so.chmod(0o755)
PY
rm -rf "$stage/download"
echo "packing (xz, a few minutes on 2 cores)"
tar -C "$stage/tree" -cf - . | xz -6 -T0 > "$stage/bundle.tar.xz"
rm -rf "$stage/tree"
split -b "$part_size" -d -a 1 "$stage/bundle.tar.xz" "$stage/part-"
rm "$stage/bundle.tar.xz"
parts=("$stage"/part-*)
(cd "$stage" && sha256sum part-* > SUMS)
k=0
for part in "${parts[@]}"; do
  k=$((k + 1))
  mkdir -p "$stage/p$k"
  mv "$part" "$stage/p$k/"
  cp "$stage/SUMS" "$stage/p$k/"
done
rm "$stage/SUMS"
echo "staged $k parts under $root/$stage:"
du -sh "$stage"/p* | sed 's/^/  /'
echo "on the device machine, one call per part, back to back:"
for j in $(seq 1 "$k"); do
  echo "  run(carry=[\".gpu/p$j\"], command=\"bash benches/scripts/gpu/receive.sh\")"
done
echo "and to run it again while the machine is warm, nothing carried:"
echo "  run(command=\"bash benches/scripts/gpu/receive.sh\")"
