#!/usr/bin/env bash
# Our command's attribution time on the GPU for several rows per call (Occlusion w18 s9 on
# chelsea), and with two sessions, to check the plan's GPU rule (1 session, 55 rows for
# 224×224). Each setting runs twice, each run a new process: a run's first call at each batch
# shape includes cuDNN's algorithm search for it, in both runs alike, so the two times show the
# noise and the settings compare like for like.
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
echo "## rows per call of our command on the GPU (Occlusion w18 s9, attribution time of two runs)"
# The plan chosen by default, from the command's first line (the whole output goes to a file:
# a pipe closed early would end the command).
"${explain[@]}" -o "$work/default" > "$work/default.log" 2>&1 || { cat "$work/default.log"; exit 1; }
sed -n 1p "$work/default.log"
# `model calls … in T s` of one run, or why it failed.
attribution_time() {
  local log=$work/run.log
  if "$@" -q > "$log" 2>&1; then
    grep -m 1 -o "model calls[^,]* in [0-9.]* s" "$log" || echo "no time in: $(tail -n 1 "$log")"
  else
    echo "failed: $(tail -n 1 "$log")"
  fi
}
for rows in 8 16 32 55 128 256; do
  for run in 1 2; do
    printf "rows %s, run %s: %s\n" "$rows" "$run" \
      "$(attribution_time "${explain[@]}" --perturbations-per-eval "$rows" -o "$work/rows-$rows")"
  done
done
# Two sessions on one GPU: one call's batch is built and copied while the other runs.
for run in 1 2; do
  printf "rows 55, 2 sessions, run %s: %s\n" "$run" "$(attribution_time "${explain[@]}" --sessions 2 -o "$work/sessions-2")"
done
rm -rf "$work"
