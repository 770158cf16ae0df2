//! `tiled-occlusion evaluate`: faithfulness metrics of several method configurations over a
//! set of photos, as a table of means and standard deviations (and a CSV of every number).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use tiled_occlusion_core::metrics::{
    entropy_complexity, gini_sparseness, normalized_total_variation, DeletionInsertion, MapGeometry,
    RegionPerturbation, Score, MAX_BLUR_SIGMA,
};
use tiled_occlusion_core::{Attribution, Baseline, Inputs, Target};

use crate::cli_error::{run_error, usage, CliError};
use crate::image_input::prepare;
use crate::method_config::{MethodConfig, STUDY_CONFIGS};
use crate::model_options::ModelOptions;
use crate::progress_report::ProgressReport;

/// `tiled-occlusion evaluate IMAGE… --model MODEL.onnx [options]`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Photos (PNG or JPEG).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// The model and its input conventions.
    #[command(flatten)]
    pub classifier: ModelOptions,
    /// A method configuration, `occlusion:WINDOW:STRIDES`, `tiled:WINDOW:K` or
    /// `tiled-reference:WINDOW:K` (sizes over height and width, all channels); repeat for
    /// several. Default: the five of docs/study.md.
    #[arg(long = "config", value_name = "METHOD:W:S|K")]
    pub configs: Vec<String>,
    /// Deletion/insertion steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// The insertion start's Gaussian blur, in pixels.
    #[arg(long, default_value_t = 5.0)]
    pub blur: f64,
    /// AOPC patch side in pixels, at most the input's largest side (a patch wider than a side
    /// is cropped to it) [default: 16, or that side when smaller].
    #[arg(long)]
    pub patch: Option<usize>,
    /// AOPC: number of patches removed, at most the patches the input holds [default: 20, or
    /// that many when fewer].
    #[arg(long)]
    pub regions: Option<usize>,
    /// The value occluded and deleted inputs take (after normalisation).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = crate::explain_args::baseline_value)]
    pub baseline: f64,
    /// Also write every per-image number to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// AOPC's patch side when `--patch` is not given (or the input's largest side when smaller).
pub const DEFAULT_PATCH: usize = 16;

/// AOPC's patches removed when `--regions` is not given (or all the input holds when fewer).
pub const DEFAULT_REGIONS: usize = 20;

const METRICS: [&str; 6] = ["deletion AUC ↓", "insertion AUC ↑", "AOPC ↑", "total variation ↓", "entropy ↓", "Gini ↑"];

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Runs the command.
pub fn evaluate(args: &EvaluateArgs) -> Result<(), CliError> {
    // Every value, the CSV file and every photo are checked before the first model call, so
    // a mistake never throws away metrics already computed.
    if args.steps == 0 || args.patch == Some(0) || args.regions == Some(0) {
        return usage("--steps, --patch and --regions must be at least 1");
    }
    if !(args.blur.is_finite() && (0.0..=MAX_BLUR_SIGMA).contains(&args.blur)) {
        return usage(format!("--blur {}: use a value in [0, {MAX_BLUR_SIGMA}] pixels", args.blur));
    }
    args.classifier.check()?;
    if let Some(path) = &args.csv {
        std::fs::write(path, "").or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))?;
    }
    let (mut model, geometry) = args.classifier.load(false)?;
    let per_eval = model.plan().perturbations_per_eval;
    let texts: Vec<String> = if args.configs.is_empty() {
        STUDY_CONFIGS.iter().map(|s| s.to_string()).collect()
    } else {
        args.configs.clone()
    };
    let configs = texts.iter().map(|t| MethodConfig::parse(t, geometry, per_eval)).collect::<Result<Vec<_>, _>>()?;
    // The same configurations one perturbation per call, to count the model evaluations.
    let single = texts.iter().map(|t| MethodConfig::parse(t, geometry, 1)).collect::<Result<Vec<_>, _>>()?;
    let resize = args.classifier.resize_for(geometry);
    let map_geometry =
        MapGeometry { example_shape: geometry.example_shape(), channel_axis: Some(geometry.channel_axis()) };
    let spatial = map_geometry.spatial_shape()?;
    let positions: usize = spatial.iter().product();
    if args.steps > positions {
        return usage(format!("--steps {}: use at most the {positions} pixels of the model's input", args.steps));
    }
    // AOPC's patches tile the input; a patch wider than the input or more regions than patches
    // were clamped in silence, and the table named an AOPC that was not computed.
    // The defaults shrink to a small input; values given are refused. A patch wider than one
    // side is cropped to it (one patch across that side); wider than every side, it is the
    // whole input.
    let side = spatial.iter().copied().max().unwrap_or(1).max(1);
    let patch = match args.patch {
        Some(p) if p > side => {
            return usage(format!("--patch {p}: use at most the model input's largest side, {side} pixels"))
        }
        Some(p) => p,
        None => DEFAULT_PATCH.min(side),
    };
    let patches: usize = spatial.iter().map(|d| d.div_ceil(patch)).product();
    let regions = match args.regions {
        Some(r) if r > patches => {
            return usage(format!(
                "--regions {r}: the input holds {patches} patches of {patch} pixels; remove at most that many"
            ))
        }
        Some(r) => r,
        None => DEFAULT_REGIONS.min(patches),
    };
    for path in &args.images {
        prepare(path, geometry, args.classifier.normalize, resize)?;
    }
    let curves = DeletionInsertion {
        steps: args.steps,
        baseline: args.baseline,
        blur_sigma: args.blur,
        batch: 4,
        score: Score::Probability,
    };
    let aopc = RegionPerturbation { patch, regions, baseline: args.baseline, batch: 4, score: Score::Probability };
    // values[config][metric] over images
    let mut values = vec![vec![Vec::new(); METRICS.len()]; configs.len()];
    let mut calls = vec![0usize; configs.len()];
    let mut csv =
        String::from("image,config,model_calls,deletion_auc,insertion_auc,aopc,total_variation,entropy,gini\n");
    for path in &args.images {
        let prepared = prepare(path, geometry, args.classifier.normalize, resize)?;
        let scores = model.classify(&prepared.input).map_err(|e| CliError::Run(e.to_string()))?;
        if scores.iter().any(|v| !v.is_finite()) {
            return run_error(format!(
                "the model's scores for {} are not all finite (NaN or infinite)",
                path.display()
            ));
        }
        let target = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
        let inputs = Inputs::new(&prepared.input)
            .with_baseline(Baseline::Scalar(args.baseline))
            .with_target(Target::Class(target));
        for (c, config) in configs.iter().enumerate() {
            calls[c] = single[c].method.model_calls(prepared.input.shape())?;
            let mut report = ProgressReport::new(&format!("{} {}", path.display(), config.label), args.quiet);
            let map = config.method.attribute_with_progress(&mut model, &inputs, &mut report)?;
            report.finish();
            // The metrics of a map with NaN or infinite values are not numbers to average.
            let non_finite = crate::non_finite::count(&map);
            if non_finite > 0 {
                return run_error(format!(
                    "the {} map of {} holds {non_finite} NaN or infinite values (the model gave non-finite scores for some occluded copies): no metric of it can be trusted",
                    config.label,
                    path.display()
                ));
            }
            let a: Vec<f64> = map.iter().map(|v| f64::from(*v)).collect();
            let sums = map_geometry.position_sums(&a)?;
            let numbers = [
                curves.deletion(&mut model, &prepared.input, &a, &map_geometry, target)?.auc,
                curves.insertion(&mut model, &prepared.input, &a, &map_geometry, target)?.auc,
                aopc.aopc(&mut model, &prepared.input, &a, &map_geometry, target)?,
                normalized_total_variation(&sums, &spatial)?,
                entropy_complexity(&sums)?,
                gini_sparseness(&sums)?,
            ];
            let _ = writeln!(
                csv,
                "{},{},{},{}",
                path.display(),
                config.label,
                calls[c],
                numbers.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(",")
            );
            for (m, v) in numbers.into_iter().enumerate() {
                values[c][m].push(v);
            }
        }
    }
    println!("{} images; mean ± standard deviation over images", args.images.len());
    println!("| config | model calls | {} |", METRICS.join(" | "));
    println!("|---|---|{}", "---|".repeat(METRICS.len()));
    for (c, config) in configs.iter().enumerate() {
        let cells: Vec<String> = values[c]
            .iter()
            .map(|v| {
                let (m, s) = mean_std(v);
                format!("{m:.4} ± {s:.4}")
            })
            .collect();
        println!("| {} | {} | {} |", config.label, calls[c], cells.join(" | "));
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, csv).or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
