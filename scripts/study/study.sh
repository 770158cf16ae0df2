#!/usr/bin/env bash
# The study of docs/study.md: does tiling help? Every default configuration of `tiled-occlusion
# evaluate` (equal output resolution 9 on 224×224, and window 36 with k 4) on PHOTOS (default
# 20, at most 100) photos of ImageNet classes with EfficientNet-Lite0, metrics averaged over the
# photos, on ONNX Runtime when its library is there (installed into .venv here), tract otherwise.
#
#   ./scripts/study/study.sh [CSV [PHOTOS [EVALUATE OPTIONS…]]]
#   ./scripts/study/study.sh study.csv 100 --runtime ort
set -euo pipefail
cd "$(dirname "$0")/../.."
csv="${1:-study.csv}"
photos="${2:-20}"
shift $(( $# < 2 ? $# : 2 ))
start=$SECONDS
assets=$(python3 scripts/assets/assets.py study "$photos" | tail -n 1)
./scripts/env/setup-onnxruntime.sh
# shellcheck source=../env/onnxruntime-env.sh
source scripts/env/onnxruntime-env.sh
cargo build --release --locked -q -p tiled-occlusion-cli
images=()
for ((i = 0; i < photos; i++)); do
  images+=("$(dirname "$assets")/study/$(printf 'photo%02d.jpg' "$i")")
done
target/release/tiled-occlusion evaluate "${images[@]}" \
  --model "$assets/efficientnet-lite0.onnx" --csv "$csv" --quiet "$@"
echo "study took $((SECONDS - start)) s"
