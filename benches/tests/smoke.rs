//! A smoke run of each benchmark binary (one iteration, tiny sizes), so that the commands
//! docs/performance.md gives for its tables keep working. No timing is checked here: speed is
//! measured by running the binaries themselves, in release mode.

use std::process::Command;

fn smoke(binary: &str, expected: &[&str]) {
    let out = Command::new(binary).arg("--smoke").output().expect("the benchmark binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{binary} --smoke failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in expected {
        assert!(stdout.contains(line), "{binary} --smoke printed no {line:?}:\n{stdout}");
    }
}

#[test]
fn performance_table_runs() {
    smoke(
        env!("CARGO_BIN_EXE_performance"),
        &["| MLP 784-256-10, 28×28 | Occlusion w4 s2 | 170 |", "| window 32, strides 16 |", "KiB |"],
    );
}

#[test]
fn core_overhead_runs() {
    smoke(env!("CARGO_BIN_EXE_core_overhead"), &["Per-call overhead", "Parallel scaling", "speedup"]);
}
