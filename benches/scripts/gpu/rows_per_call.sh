#!/usr/bin/env bash
# Our command's attribution time on the GPU for several rows per call (Occlusion w18 s9 on
# chelsea, one run each after a warm-up), and with two sessions, to check the plan's GPU rule
# (1 session, 55 rows for 224×224):
#
#   bash benches/scripts/gpu/rows_per_call.sh CLI ASSETS
#
# with ORT_DYLIB_PATH and LD_LIBRARY_PATH set for ONNX Runtime's GPU build.
set -euo pipefail
cli=${1:?usage: rows_per_call.sh CLI ASSETS}
assets=${2:?usage: rows_per_call.sh CLI ASSETS}
work=$(mktemp -d)
explain=("$cli" explain "$assets/chelsea.png" --model "$assets/efficientnet-lite0.onnx" --runtime ort --device cuda:0
  --method occlusion --window 18 --strides 9)
echo "## rows per call of our command on the GPU (Occlusion w18 s9, attribution time, one run each after a warm-up)"
"${explain[@]}" -o "$work/warm" | head -n 1
for rows in 8 16 32 55 128 256; do
  printf "rows %s: " "$rows"
  "${explain[@]}" --perturbations-per-eval "$rows" -q -o "$work/rows-$rows" | grep -o "model calls.* s" || echo "failed"
done
# Two sessions on one GPU: one call's batch is built and copied while the other runs.
printf "rows 55, 2 sessions: "
"${explain[@]}" --sessions 2 -q -o "$work/sessions-2" | grep -o "model calls.* s" || echo "failed"
rm -rf "$work"
