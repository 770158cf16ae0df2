//! Progress of the model calls: a bar with rate and ETA on a terminal, plain periodic lines
//! otherwise, nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use tiled_occlusion_core::attribution::ProgressHook;

/// Reports one attribution's model calls.
pub enum ProgressReport {
    /// An indicatif bar.
    Bar(ProgressBar),
    /// A line at every 10% (for logs and pipes).
    Lines {
        /// What is running.
        label: String,
        /// Last tenth reported.
        last: usize,
        /// Start time.
        start: Instant,
    },
    /// Nothing.
    Quiet,
}

impl ProgressReport {
    /// The report for `label`: a bar when stderr is a terminal, lines otherwise.
    pub fn new(label: &str, quiet: bool) -> ProgressReport {
        if quiet {
            ProgressReport::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{msg:28} [{bar:30}] {pos}/{len} calls {per_sec} ETA {eta}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label.to_string());
            ProgressReport::Bar(bar)
        } else {
            ProgressReport::Lines { label: label.to_string(), last: 0, start: Instant::now() }
        }
    }

    /// Ends the bar.
    pub fn finish(&self) {
        if let ProgressReport::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

impl ProgressHook for ProgressReport {
    fn on_model_calls(&mut self, done: usize, total: usize) {
        match self {
            ProgressReport::Bar(bar) => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            ProgressReport::Lines { label, last, start } => {
                let tenth = (done * 10).checked_div(total).unwrap_or(10);
                if tenth > *last {
                    *last = tenth;
                    let elapsed = start.elapsed().as_secs_f64();
                    let rate = done as f64 / elapsed.max(1e-9);
                    let eta = (total - done) as f64 / rate.max(1e-9);
                    eprintln!("{label}: {done}/{total} model calls ({rate:.1}/s, ETA {eta:.0} s)");
                }
            }
            ProgressReport::Quiet => {}
        }
    }
}
