//! The options of `tiled-occlusion explain`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::model_options::ModelOptions;

/// Which methods to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodChoice {
    /// TiledOcclusion only.
    Tiled,
    /// Occlusion only.
    Occlusion,
    /// Both, side by side.
    Both,
}

/// TiledOcclusion's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeChoice {
    /// Shifted windows over the untouched input (the default).
    Shifted,
    /// The Python reference implementation's numbers.
    Reference,
}

/// `tiled-occlusion explain IMAGE… --model MODEL.onnx [options]`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Photos to explain (PNG or JPEG).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,

    /// The model and its input conventions.
    #[command(flatten)]
    pub classifier: ModelOptions,

    /// Which methods to run.
    #[arg(long, value_enum, default_value_t = MethodChoice::Both)]
    pub method: MethodChoice,

    /// Window size: one number for height and width (covering every channel), or one per
    /// input dimension in the model's layout (e.g. 3,18,18).
    #[arg(long, default_value = "18", value_name = "N|C,H,W")]
    pub window: String,

    /// TiledOcclusion's tilings per dimension: one number for height and width (1 for the
    /// channels), or one per dimension (e.g. 1,2,2). The window must be divisible by it.
    #[arg(long, default_value = "2", value_name = "N|C,H,W")]
    pub k: String,

    /// Occlusion's strides: one number for height and width (the window's channel size for
    /// the channels), or one per dimension. Default: window / k, the tiled map's resolution.
    #[arg(long, value_name = "N|C,H,W")]
    pub strides: Option<String>,

    /// TiledOcclusion's mode.
    #[arg(long, value_enum, default_value_t = ModeChoice::Shifted)]
    pub mode: ModeChoice,

    /// The value occluded inputs take, in the model's input space (after normalisation):
    /// 0 is mid-grey with minus127 and the mean colour with imagenet.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = baseline_value)]
    pub baseline: f64,

    /// What to explain: `top1` (the predicted class), a class id, or a class name from the
    /// labels file.
    #[arg(long, default_value = "top1")]
    pub target: String,

    /// Explain the softmax probability of the target instead of the model's raw output.
    #[arg(long)]
    pub softmax: bool,

    /// Class names: one per line, or a JSON list.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Heat maps above this share of the attribution mass saturate (Captum's outlier_perc).
    #[arg(long, default_value_t = 2.0, value_name = "PERCENT")]
    pub outlier_percent: f64,

    /// Output folder.
    #[arg(long, short, default_value = "tiled-occlusion-out", value_name = "DIR")]
    pub output: PathBuf,

    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses a scalar `--baseline`: a number that is finite as the model's `f32` (NaN, ±inf and
/// values beyond ±3.4·10³⁸, which become infinite in `f32`, would make every occluded score,
/// and so the whole map, NaN or infinite).
///
/// ```
/// use tiled_occlusion_cli::explain_args::baseline_value;
/// assert_eq!(baseline_value("-0.5"), Ok(-0.5));
/// assert!(baseline_value("nan").is_err() && baseline_value("inf").is_err() && baseline_value("1e39").is_err());
/// ```
pub fn baseline_value(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (v as f32).is_finite() => Ok(v),
        Ok(v) => Err(format!("{v} is not a finite f32 value (the model's inputs are f32, |v| ≤ {:e})", f32::MAX)),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}
