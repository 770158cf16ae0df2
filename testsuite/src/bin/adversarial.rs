//! Runs the seeded random hostile cases of `tiled_occlusion_testsuite::adversarial_random` on
//! the ndarray backend, each in a child process with a memory limit and a timeout, so that an
//! abort, a hang or a runaway allocation is reported as a failing seed rather than taking the
//! run down:
//!
//! `adversarial [--cases N] [--seed S] [--memory-mb M] [--timeout-s T]` (defaults 200, 0, 2048,
//! 20) runs the seeds `S … S + N − 1`, prints every failure with its seed and what the case
//! is, ends with
//! `N passed, F failed` and exits non-zero on any failure. `adversarial --case SEED` runs one
//! case in this process (what each child does).

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use tiled_occlusion_testsuite::adversarial_random::{describe_case, run_case};
use tiled_occlusion_testsuite::markers::NdarrayF64;

struct Options {
    cases: u64,
    seed: u64,
    memory_mb: u64,
    timeout: Duration,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { cases: 200, seed: 0, memory_mb: 2048, timeout: Duration::from_secs(20) };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        let value = value.ok_or_else(|| format!("{} needs a whole number", args[i]))?;
        match args[i].as_str() {
            "--cases" => o.cases = value,
            "--seed" => o.seed = value,
            "--memory-mb" => o.memory_mb = value,
            "--timeout-s" => o.timeout = Duration::from_secs(value),
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    Ok(o)
}

/// Runs seed `seed` in a child under `ulimit -v`; `Err` says how it failed.
fn run_child(exe: &str, seed: u64, o: &Options) -> Result<(), String> {
    let script = format!("ulimit -v {}; exec \"$0\" --case {seed}", o.memory_mb * 1024);
    let mut child = Command::new("sh")
        .args(["-c", &script, exe])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a child: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("{status}: {}", stderr.lines().last().unwrap_or("(no message)")))
                };
            }
            None if start.elapsed() > o.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s (a hang)", o.timeout.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--case" {
        let Ok(seed) = args[2].parse::<u64>() else {
            eprintln!("--case needs a seed");
            return ExitCode::from(2);
        };
        // A panic hook that prints one line: the parent shows the last line of stderr.
        std::panic::set_hook(Box::new(|info| eprintln!("panicked: {info}")));
        return match run_case::<NdarrayF64>(seed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wrong outcome: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}; usage: adversarial [--cases N] [--seed S] [--memory-mb M] [--timeout-s T]");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let mut failed = 0u64;
    for seed in options.seed..options.seed + options.cases {
        if let Err(e) = run_child(&args[0], seed, &options) {
            failed += 1;
            println!("seed {seed}: {e}\n    case: {}", describe_case::<NdarrayF64>(seed));
        }
    }
    println!(
        "{} passed, {failed} failed ({} s, memory limit {} MB, timeout {} s per case)",
        options.cases - failed,
        start.elapsed().as_secs(),
        options.memory_mb,
        options.timeout.as_secs()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
