//! `tiled-occlusion`: explain an ONNX image classifier with Occlusion and TiledOcclusion.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tiled_occlusion_cli::{evaluate, explain, explain_args, explain_tensor};

/// Explain neural networks' predictions by occlusion: ONNX image classifiers on photos, any
/// ONNX model on .npy tensors.
#[derive(Parser, Debug)]
#[command(name = "tiled-occlusion", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Explain the predictions of an ONNX image classifier on photos, with Occlusion and
    /// TiledOcclusion side by side.
    Explain(explain_args::ExplainArgs),
    /// Compare method configurations by faithfulness metrics (deletion and insertion AUC,
    /// AOPC) and map statistics (total variation, entropy, Gini) over a set of photos.
    Evaluate(evaluate::EvaluateArgs),
    /// Explain an ONNX model whose input is any tensor (time series, tables, volumes, one of
    /// several inputs) on .npy inputs, with Occlusion, TiledOcclusion or FeatureAblation; raw
    /// maps (.npy) and a summary (.json) out.
    ExplainTensor(explain_tensor::ExplainTensorArgs),
    /// Merge the parts of an explain-tensor run made with --part I/N (on other processes or
    /// machines) into its map, bit for bit the map of a single run.
    Merge(explain_tensor::MergeArgs),
}

fn main() -> ExitCode {
    // Whatever happens, one line on stderr: a panic is a bug, reported as such.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        eprintln!("error: internal error (please report it): {message}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: printed as clap prints them, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {} (see --help)", one_line(&e.to_string().replacen("error: ", "", 1)));
            return ExitCode::from(2);
        }
    };
    let outcome = match &cli.command {
        Command::Explain(args) => explain::explain(args),
        Command::Evaluate(args) => evaluate::evaluate(args),
        Command::ExplainTensor(args) => explain_tensor::run(args),
        Command::Merge(args) => explain_tensor::merge(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

/// `text` on one line: its non-empty lines, trimmed, joined by "; " (decoders end their
/// messages in a newline, clap spreads its own over several lines with a usage block).
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join("; ")
}
