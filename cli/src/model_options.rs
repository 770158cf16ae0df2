//! The options every subcommand shares: which model, on which runtime and plan, and how
//! photos become its input.

use std::path::PathBuf;

use clap::Args;
use tiled_occlusion_onnx::{
    Device, InputGeometry, Layout, OnnxError, OnnxModel, OnnxOptions, PlanRequest, RuntimeChoice,
};

use crate::cli_error::{run_error, usage, CliError};
use crate::image_input::Normalization;

/// The model, its runtime and execution plan: what every subcommand shares.
#[derive(Args, Debug)]
pub struct RuntimeOptions {
    /// The ONNX model.
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: PathBuf,

    /// Which runtime runs the model: auto (ONNX Runtime when its library is found, else
    /// tract), ort (ONNX Runtime) or tract.
    #[arg(long, default_value = "auto", value_name = "auto|ort|tract", value_parser = str::parse::<RuntimeChoice>)]
    pub runtime: RuntimeChoice,

    /// Where the model runs: cpu, or cuda / cuda:N for ONNX Runtime's CUDA execution provider
    /// (needs the GPU build of ONNX Runtime: scripts/env/setup-onnxruntime-gpu.sh; tract runs
    /// on the CPU only). A GPU that cannot be used is an error, never a silent CPU run (the
    /// few operators the CUDA provider has no kernel for run on the CPU inside ONNX Runtime).
    #[arg(long, default_value = "cpu", value_name = "cpu|cuda[:N]", value_parser = str::parse::<Device>)]
    pub device: Device,

    /// On a GPU, let convolutions and matrix products round their inputs to TensorFloat-32:
    /// faster on tensor cores, maps about 1e-3 relative from f32's (default: full f32).
    #[arg(long)]
    pub tf32: bool,

    /// ONNX Runtime's library file (default: ORT_DYLIB_PATH, else the onnxruntime package of
    /// a .venv here, beside the executable or above either, else the system's).
    #[arg(long, value_name = "FILE")]
    pub ort_library: Option<PathBuf>,

    /// The model output to explain, by name (default: the first).
    #[arg(long, value_name = "NAME")]
    pub model_output: Option<String>,

    /// Cores to use in all (default: every core; on a GPU not used: 1 session of 1 intra-op
    /// thread unless --sessions or --intra-threads say otherwise).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Inference sessions running model calls at the same time (default: from --threads and
    /// --intra-threads; see docs/onnx.md).
    #[arg(long, value_name = "N")]
    pub sessions: Option<usize>,

    /// ONNX Runtime's intra-op threads per session (default: 1 when --sessions is not given;
    /// tract always uses 1).
    #[arg(long, value_name = "N")]
    pub intra_threads: Option<usize>,

    /// Occluded copies per model call (default: the plan's: on ONNX Runtime with a symbolic
    /// batch 2^16 input values' worth of rows, 1 to 16 (1 for 224×224 RGB), on a GPU 2^23
    /// values' worth, 1 to 256 (55 for 224×224 RGB); the model's fixed batch; 1 on tract).
    #[arg(long, value_name = "P")]
    pub perturbations_per_eval: Option<usize>,
}

impl RuntimeOptions {
    /// The loading options these give (softmax over the outputs when `softmax`); the input's
    /// reading is left to the caller.
    pub fn onnx_options(&self, softmax: bool) -> OnnxOptions {
        OnnxOptions {
            runtime: self.runtime,
            plan: PlanRequest {
                threads: self.threads,
                sessions: self.sessions,
                intra_threads: self.intra_threads,
                perturbations_per_eval: self.perturbations_per_eval,
                device: self.device,
            },
            output: self.model_output.clone(),
            softmax,
            ort_library: self.ort_library.clone(),
            tf32: self.tf32,
            ..OnnxOptions::default()
        }
    }

    /// Loads the model with `options`, mapping the mistakes of the command line to usage
    /// errors, and prints the runtime and plan it runs on.
    pub fn load(&self, options: &OnnxOptions) -> Result<OnnxModel, CliError> {
        self.report(OnnxModel::load(&self.model, options))
    }

    /// What [`RuntimeOptions::load`] makes of a load's outcome: the mistakes of the command
    /// line as usage errors, the runtime and plan printed.
    pub fn report(&self, loaded: Result<OnnxModel, OnnxError>) -> Result<OnnxModel, CliError> {
        let model = loaded.map_err(|e| match e {
            OnnxError::InvalidPlan { parameter, value, reason } => {
                CliError::Usage(format!("--{} {value}: {reason}", parameter.replace('_', "-")))
            }
            OnnxError::GpuOnlyOption { option, device } => CliError::Usage(format!(
                "--{option} applies to a GPU only; the device is {device} (add --device cuda or --device cuda:N, \
                 or leave --{option} out)"
            )),
            OnnxError::DeviceUnsupported { .. }
            | OnnxError::AmbiguousLayout { .. }
            | OnnxError::Channels { .. }
            | OnnxError::UnknownInputSize { .. }
            | OnnxError::InputSizeFixed { .. }
            | OnnxError::ImageRank { .. }
            | OnnxError::UnknownOutput { .. }
            | OnnxError::SeveralInputs { .. }
            | OnnxError::UnknownInput { .. }
            | OnnxError::InputGivenTwice { .. }
            | OnnxError::InputsWithoutValue { .. }
            | OnnxError::FixedInputType { .. }
            | OnnxError::FixedInputShape { .. }
            | OnnxError::ExampleShape { .. } => CliError::Usage(e.to_string()),
            other => CliError::Run(other.to_string()),
        })?;
        let outputs = model.signature().outputs.len();
        let output = if outputs > 1 {
            format!(", output `{}` of {outputs} (--model-output NAME to choose)", model.output_name())
        } else {
            String::new()
        };
        println!("model {} on {}{output}", self.model.display(), model.describe());
        Ok(model)
    }
}

/// The model, its runtime and execution plan, and how photos become its input.
#[derive(Args, Debug)]
pub struct ModelOptions {
    /// The model and how it runs. Its input: (N, C, H, W) or (N, H, W, C) with 1 or 3
    /// channels; its output (N, classes).
    #[command(flatten)]
    pub runtime: RuntimeOptions,

    /// How pixel values become model inputs.
    #[arg(long, value_enum, default_value_t = Normalization::Minus127)]
    pub normalize: Normalization,

    /// Resize the photo's shorter side to this many pixels, then centre-crop to the model's
    /// input size; 0 resizes straight to the input size. Default: 8/7 of the input size
    /// (256 for 224).
    #[arg(long, value_name = "PIXELS")]
    pub resize: Option<usize>,

    /// The model's input layout, when its shape does not tell: nchw or nhwc.
    #[arg(long, value_name = "nchw|nhwc", value_parser = str::parse::<Layout>)]
    pub layout: Option<Layout>,

    /// The input height and width, for models whose input size is not fixed.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,
}

/// The largest `--resize` and `--size`, in pixels: an 8192×8192 RGB photo is 805 MB as
/// `f32`; larger values would only exhaust the memory (100000 asked for 30–45 GB).
pub const MAX_PIXELS: usize = 8192;

impl ModelOptions {
    /// Checks the values that need no model: sizes within [`MAX_PIXELS`].
    pub fn check(&self) -> Result<(), CliError> {
        for (option, value) in [("--resize", self.resize), ("--size", self.size)] {
            if let Some(v) = value.filter(|&v| v > MAX_PIXELS) {
                return usage(format!("{option} {v}: use at most {MAX_PIXELS} pixels"));
            }
        }
        if self.size == Some(0) {
            return usage("--size 0: use at least 1 pixel");
        }
        Ok(())
    }

    /// Loads the model (softmax over its outputs when `softmax`) with its input read as an
    /// image, and prints the runtime and plan it runs on.
    pub fn load(&self, softmax: bool) -> Result<(OnnxModel, InputGeometry), CliError> {
        let model = self.runtime.load(&self.runtime.onnx_options(softmax).image(self.layout, self.size))?;
        let Some(geometry) = model.geometry() else {
            return run_error("the model's input was not read as an image");
        };
        Ok((model, geometry))
    }

    /// The shorter side to resize to (`None`: stretch to the input size).
    pub fn resize_for(&self, geometry: InputGeometry) -> Option<usize> {
        match self.resize {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some((geometry.height.max(geometry.width) * 8).div_ceil(7)),
        }
    }
}
