# Source this file to run the command, the tiled-occlusion-onnx crate's tests or your own program
# on the ONNX Runtime in `.venv` (installed by scripts/env/setup-onnxruntime.sh):
# `source scripts/env/onnxruntime-env.sh` sets ORT_DYLIB_PATH to its libonnxruntime.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_ort_lib=""
for _candidate in "$_root"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so* \
                  "$_root"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime*.dylib; do
  [ -f "$_candidate" ] && _ort_lib="$_candidate"
done
if [ -n "$_ort_lib" ]; then
  export ORT_DYLIB_PATH="$_ort_lib"
else
  echo "onnxruntime-env.sh: no onnxruntime in $_root/.venv; run scripts/env/setup-onnxruntime.sh" >&2
fi
unset _root _ort_lib _candidate
