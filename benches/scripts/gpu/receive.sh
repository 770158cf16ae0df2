#!/usr/bin/env bash
# On the device machine: takes the part of the GPU benchmark this call carried (.gpu/pK, made by
# benches/scripts/gpu/stage.sh) out of the working tree into /var/tmp/tiled-occlusion-gpu (kept
# while the machine stays warm), and once every part listed in SUMS is there and matches,
# unpacks them, drops the parts and runs benches/scripts/gpu/run.sh. Safe to repeat: a part
# already received is kept, a damaged one is reported, and a call that carries nothing after the
# unpacking runs run.sh again on what was unpacked (a rerun costs no transfer). Arguments go to
# run.sh (`receive.sh 1`: one run instead of three, where device time is short).
set -euo pipefail
cd "$(dirname "$0")/../../.."
store=/var/tmp/tiled-occlusion-gpu
if [ ! -d "$store/parts" ]; then
  # The first call on this machine: what it has, so that a wrong image shows before the last part.
  echo "machine: $(nvidia-smi -L 2>&1 | head -n 1); $(nproc) cores"
  python3 -c "
for m in ('torch', 'onnxruntime', 'nvidia', 'onnx', 'numpy', 'PIL'):
    try:
        print(f'  python3 {m}:', getattr(__import__(m), '__version__', 'present'))
    except Exception as e:
        print(f'  python3 {m}: {type(e).__name__}: {e}')
" 2>&1 || echo "  python3 did not run"
fi
mkdir -p "$store/parts"
for dir in .gpu/p*; do
  [ -d "$dir" ] || continue
  cp "$dir"/SUMS "$store/parts/SUMS"
  for part in "$dir"/part-*; do
    [ -f "$part" ] && mv "$part" "$store/parts/"
  done
done
if [ ! -f "$store/parts/SUMS" ]; then
  if [ -f "$store/stage/.unpacked" ]; then
    echo "nothing carried; running again on the stage unpacked before"
    exec bash benches/scripts/gpu/run.sh "$store/stage" "$@"
  fi
  echo "no part carried: name .gpu/pK in carry (see stage.sh)" >&2
  exit 2
fi
cd "$store/parts"
want=$(wc -l < SUMS)
# The parts SUMS names (a part left from an earlier, larger staging is not one of them).
mapfile -t parts < <(awk '{print $2}' SUMS)
have=0
for part in "${parts[@]}"; do
  [ -f "$part" ] && have=$((have + 1))
done
if [ "$have" -lt "$want" ]; then
  echo "received $have of $want parts: $(ls part-* 2>/dev/null | tr '\n' ' ')"
  exit 0
fi
sha256sum --quiet -c SUMS
echo "all $want parts received; unpacking"
rm -rf "$store/stage" && mkdir -p "$store/stage"
cat "${parts[@]}" | xz -d | tar -C "$store/stage" -xf -
# Parts of a later staging must not meet these: they go once unpacked.
rm -f "${parts[@]}" SUMS
touch "$store/stage/.unpacked"
cd - >/dev/null
exec bash benches/scripts/gpu/run.sh "$store/stage" "$@"
