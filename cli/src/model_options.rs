//! The options every subcommand shares: which model, and how photos become its input.

use std::path::PathBuf;

use clap::Args;

use crate::cli_error::{usage, CliError};
use crate::image_input::{InputGeometry, Layout, Normalization};
use crate::onnx_model::OnnxClassifier;

/// The model and its input conventions.
#[derive(Args, Debug)]
pub struct ModelOptions {
    /// The ONNX image classifier: input (N, C, H, W) or (N, H, W, C) with 1 or 3 channels,
    /// output (N, classes).
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: PathBuf,

    /// How pixel values become model inputs.
    #[arg(long, value_enum, default_value_t = Normalization::Minus127)]
    pub normalize: Normalization,

    /// Resize the photo's shorter side to this many pixels, then centre-crop to the model's
    /// input size; 0 resizes straight to the input size. Default: 8/7 of the input size
    /// (256 for 224).
    #[arg(long, value_name = "PIXELS")]
    pub resize: Option<usize>,

    /// The model's input layout, when its shape does not tell.
    #[arg(long, value_enum)]
    pub layout: Option<Layout>,

    /// The input height and width, for models whose input size is not fixed.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Threads evaluating the model (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl ModelOptions {
    /// Loads the model.
    pub fn load(&self) -> Result<OnnxClassifier, CliError> {
        OnnxClassifier::load(&self.model, self.layout, self.size)
    }

    /// The shorter side to resize to (`None`: stretch to the input size).
    pub fn resize_for(&self, geometry: InputGeometry) -> Option<usize> {
        match self.resize {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some((geometry.height.max(geometry.width) * 8).div_ceil(7)),
        }
    }

    /// `--threads`, or every core.
    pub fn thread_count(&self) -> Result<usize, CliError> {
        match self.threads {
            Some(0) => usage("--threads 0: use at least 1"),
            Some(n) => Ok(n),
            None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        }
    }
}
