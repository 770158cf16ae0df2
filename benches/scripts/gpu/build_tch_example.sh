#!/usr/bin/env bash
# Builds backends/tch's torchscript_occlusion example against another PyTorch than the 2.13 our
# tch crate (tch 0.26) is built for: the one a machine we cannot build on has, so that the binary
# runs there on that machine's own libtorch (the device tool's GPU machines have PyTorch
# 2.11.0+cu130 and no cargo).
#
#   benches/scripts/gpu/build_tch_example.sh OUT [TORCH_VERSION]
#
# TORCH_VERSION (default 2.11.0) picks the tch release made for it (each tch release binds one
# libtorch: 0.23 is 2.10, 0.24 is 2.11, 0.26 is 2.13). PyPI's torch==TORCH_VERSION goes into
# .venv-torchTORCH_VERSION (once, about 4.6 GB: its wheel bundles the CUDA libraries, so the
# binary links libtorch_cuda and can use a GPU there). The working tree is copied under
# target/tch-torchTORCH_VERSION/, its tch requirement set to that release (Cargo.lock updated
# there, not here), and the example built in release mode. OUT gets the binary and OUT.torch the
# PyTorch version it needs; run it with that PyTorch's torch/lib on LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: build_tch_example.sh OUT [TORCH_VERSION]}
torch_version=${2:-2.11.0}
case "$torch_version" in
  2.10.0) tch_version=0.23.0 ;;
  2.11.0) tch_version=0.24.0 ;;
  2.13.0) tch_version=0.26.0 ;;
  *) echo "no tch release known for PyTorch $torch_version (known: 2.10.0, 2.11.0, 2.13.0)" >&2; exit 2 ;;
esac

venv=.venv-torch$torch_version
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$torch_version')" 2>/dev/null; then
  echo "installing torch==$torch_version into $venv (one time, a few minutes, about 4.6 GB)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$torch_version"
fi

build=target/tch-torch$torch_version
rm -rf "$build/workspace" && mkdir -p "$build/workspace"
# The working tree as git sees it (tracked and untracked, not ignored; deleted files left out).
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done |
  tar --null -T - -cf - | tar -C "$build/workspace" -xf -
sed -i "s/^tch = \"[^\"]*\"$/tch = \"=$tch_version\"/" "$build/workspace/Cargo.toml"
grep -q "^tch = \"=$tch_version\"$" "$build/workspace/Cargo.toml" ||
  { echo "the workspace's Cargo.toml has no line 'tch = \"…\"' to set" >&2; exit 1; }
(cd "$build/workspace" && cargo update --quiet -p tch --precise "$tch_version")
(
  export PATH="$PWD/$venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1 CARGO_TARGET_DIR="$PWD/$build/target"
  unset VIRTUAL_ENV LIBTORCH LIBTORCH_BYPASS_VERSION_CHECK
  cd "$build/workspace"
  cargo build --release --locked --quiet -p tiled-occlusion-tch --example torchscript_occlusion
)
cp "$build/target/release/examples/torchscript_occlusion" "$out"
echo "$torch_version" > "$out.torch"
echo "built $out for PyTorch $torch_version (tch $tch_version)"
