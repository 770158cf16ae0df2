#!/usr/bin/env bash
# The project's one test command: formatting, lints, docs, every test and doctest, and the
# conformance runner on the golden fixtures. Needs only a Rust toolchain (rustup adds rustfmt
# and clippy when they are missing).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    step "installing $component"
    rustup component add "$component"
  fi
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "cargo test (unit, property, fixture, example and doc tests)"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

step "conformance runner on the golden fixtures"
for backend in ndarray ndarray-f32; do
  cargo run --release --locked -q -p tiled-occlusion-testsuite --bin conformance -- \
    --backend "$backend" testsuite/fixtures/captum-fixtures.json | tail -n 1
done

step "all checks passed"
