#!/usr/bin/env bash
# The README's study: does tiling help? Every default configuration of `tiled-occlusion
# evaluate` (equal output resolution 9 on 224×224, and window 36 with k 4) on 20 photos of
# ImageNet classes with EfficientNet-Lite0, metrics averaged over the photos.
#
#   ./scripts/study/study.sh [CSV]
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
assets=$(python3 scripts/assets/assets.py study | tail -n 1)
cargo build --release --locked -q -p tiled-occlusion-cli
target/release/tiled-occlusion evaluate "$(dirname "$assets")"/study/*.jpg \
  --model "$assets/efficientnet-lite0.onnx" --csv "${1:-study.csv}" --quiet
echo "study took $((SECONDS - start)) s"
