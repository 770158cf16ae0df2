//! Runs the seeded random hostile cases of `tiled_occlusion_testsuite::adversarial_random` on
//! the ndarray backend, each in a child process with a memory limit and a timeout, so that an
//! abort, a hang or a runaway allocation is reported as a failing seed rather than taking the
//! run down:
//!
//! `adversarial [--cases N] [--seed S] [--memory-mb M] [--timeout-s T]` (defaults 200, 0, 2048,
//! 20) runs the seeds `S … S + N − 1`, prints every failure with its seed and what the case
//! is, ends with
//! `N passed, F failed` and exits non-zero on any failure. `adversarial --case SEED` runs one
//! case in this process (what each child does); `adversarial --help` prints the usage.
//!
//! The options are checked: `N ≥ 1` and `S + N − 1` within `u64` (the seeds do not wrap),
//! `64 ≤ M ≤ 1048576` (a child needs some memory to start at all; the limit is passed to
//! `ulimit -v` in KiB), `1 ≤ T ≤ 86400`.

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

const USAGE: &str = "usage: adversarial [--cases N] [--seed S] [--memory-mb M] [--timeout-s T]
  --cases N      how many seeds to run, S ... S + N - 1 (default 200, at least 1)
  --seed S       the first seed (default 0); S + N - 1 must fit 64 bits
  --memory-mb M  each child's address-space limit in MB (default 2048, 64 to 1048576)
  --timeout-s T  each child's time limit in seconds (default 20, 1 to 86400)
  --case SEED    run one case in this process (what each child does)";

/// The smallest `--memory-mb`: below it a child cannot even start, and every seed would
/// fail for the limit rather than for the case.
const MIN_MEMORY_MB: u64 = 64;
/// The largest `--memory-mb`: 1 TiB.
const MAX_MEMORY_MB: u64 = 1 << 20;
/// The largest `--timeout-s`: a day.
const MAX_TIMEOUT_S: u64 = 86_400;

/// What the command line asks for: a run, or the usage text.
enum Request {
    Run(Options),
    Help,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut o = Options { cases: 200, seed: 0, memory_mb: 2048, timeout: Duration::from_secs(20) };
    let mut i = 0;
    while i < args.len() {
        let option = args[i].as_str();
        if option == "--help" || option == "-h" {
            return Ok(Request::Help);
        }
        if !matches!(option, "--cases" | "--seed" | "--memory-mb" | "--timeout-s") {
            return Err(format!("unknown option {option}"));
        }
        let value = match args.get(i + 1) {
            None => return Err(format!("{option} needs a whole number")),
            Some(v) => v.parse::<u64>().map_err(|_| format!("{option} needs a whole number, got {v:?}"))?,
        };
        let within = |low: u64, high: u64| {
            if (low..=high).contains(&value) {
                Ok(value)
            } else {
                Err(format!("{option} {value} is out of range: it must be from {low} to {high}"))
            }
        };
        match option {
            "--cases" => o.cases = within(1, u64::MAX)?,
            "--seed" => o.seed = value,
            "--memory-mb" => o.memory_mb = within(MIN_MEMORY_MB, MAX_MEMORY_MB)?,
            _ => o.timeout = Duration::from_secs(within(1, MAX_TIMEOUT_S)?),
        }
        i += 2;
    }
    if o.seed.checked_add(o.cases - 1).is_none() {
        return Err(format!(
            "--seed {} with --cases {} runs past the last seed {}: the seeds do not wrap",
            o.seed,
            o.cases,
            u64::MAX
        ));
    }
    Ok(Request::Run(o))
}

/// Runs `exe child_args` (`--case SEED` or `--probe`) in a child under `ulimit -v`; `Err`
/// says how it failed.
fn run_child(exe: &str, child_args: &str, o: &Options) -> Result<(), String> {
    // `parse` keeps `memory_mb` at most `MAX_MEMORY_MB`: the KiB fit easily.
    let script = format!("ulimit -v {}; exec \"$0\" {child_args}", o.memory_mb * 1024);
    let mut child = Command::new("sh")
        .args(["-c", &script, exe])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a child: {e}"))?;
    // Drained while the child runs: a child writing more than the pipe holds (64 KiB, a long
    // backtrace) blocked until the timeout and was reported as a hang.
    let drain = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut stderr = String::new();
            let _ = pipe.read_to_string(&mut stderr);
            stderr
        })
    });
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => {
                let stderr = drain.and_then(|d| d.join().ok()).unwrap_or_default();
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
    if args.len() == 2 && args[1] == "--probe" {
        return ExitCode::SUCCESS; // a child that starts and does nothing: see `main` below
    }
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
        Ok(Request::Run(o)) => o,
        Ok(Request::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // A limit that leaves a child no room to start (the libraries this build links count
    // against it) would fail every seed for the limit, not the case: refuse it up front.
    if let Err(e) = run_child(&args[0], "--probe", &options) {
        eprintln!(
            "error: --memory-mb {} / --timeout-s {} are too small: a child that does nothing cannot run under them \
             ({e})\n{USAGE}",
            options.memory_mb,
            options.timeout.as_secs()
        );
        return ExitCode::from(2);
    }
    let start = Instant::now();
    let mut failed = 0u64;
    // `parse` checked that the last seed, `seed + cases − 1`, fits.
    for seed in options.seed..=options.seed + (options.cases - 1) {
        if let Err(e) = run_child(&args[0], &format!("--case {seed}"), &options) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Request, String> {
        parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    fn options(args: &[&str]) -> Options {
        match parsed(args) {
            Ok(Request::Run(o)) => o,
            Ok(Request::Help) => panic!("{args:?}: help, not a run"),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    #[test]
    fn options_in_range_run() {
        let o = options(&[]);
        assert_eq!((o.cases, o.seed, o.memory_mb, o.timeout.as_secs()), (200, 0, 2048, 20));
        // The last seed may be u64::MAX itself: one case at the very end.
        let o = options(&["--seed", "18446744073709551615", "--cases", "1"]);
        assert_eq!((o.seed, o.cases), (u64::MAX, 1));
        let o = options(&["--memory-mb", "64", "--timeout-s", "1"]);
        assert_eq!((o.memory_mb, o.timeout.as_secs()), (64, 1));
    }

    #[test]
    fn a_child_writing_more_than_a_pipe_holds_is_not_a_hang() {
        // 200 KB on stderr, then exit 3: the pipe (64 KiB) was read only after the exit, so the
        // child blocked and was reported as a hang.
        let o = options(&["--timeout-s", "10"]);
        let outcome = run_child("/bin/sh", "-c 'yes line | head -c 200000 >&2; echo last >&2; exit 3'", &o);
        assert_eq!(outcome, Err("exit status: 3: last".to_string()));
    }

    #[test]
    fn help_is_the_usage() {
        assert!(matches!(parsed(&["--help"]), Ok(Request::Help)));
        assert!(matches!(parsed(&["--cases", "3", "-h"]), Ok(Request::Help)));
    }

    #[test]
    fn bad_options_are_named_errors() {
        let error = |args: &[&str]| match parsed(args) {
            Err(e) => e,
            Ok(_) => panic!("{args:?} accepted"),
        };
        assert_eq!(
            error(&["--seed", "18446744073709551615", "--cases", "2"]),
            "--seed 18446744073709551615 with --cases 2 runs past the last seed 18446744073709551615: the seeds do \
             not wrap"
        );
        assert_eq!(
            error(&["--memory-mb", "18446744073709551615"]),
            "--memory-mb 18446744073709551615 is out of range: it must be from 64 to 1048576"
        );
        assert_eq!(error(&["--memory-mb", "0"]), "--memory-mb 0 is out of range: it must be from 64 to 1048576");
        assert_eq!(error(&["--timeout-s", "0"]), "--timeout-s 0 is out of range: it must be from 1 to 86400");
        assert_eq!(error(&["--cases", "0"]), "--cases 0 is out of range: it must be from 1 to 18446744073709551615");
        assert_eq!(error(&["--cases", "-1"]), "--cases needs a whole number, got \"-1\"");
        assert_eq!(error(&["--cases"]), "--cases needs a whole number");
        assert_eq!(error(&["--bogus", "1"]), "unknown option --bogus");
    }
}
