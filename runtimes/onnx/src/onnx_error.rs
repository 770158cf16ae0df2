//! The errors of loading and running an ONNX model: each names the offending value and what
//! to do about it.

use std::path::PathBuf;

use crate::device::Device;
use crate::input_geometry::Layout;
use crate::model_signature::declared_text;
use crate::runtime_choice::Runtime;

/// What to do when ONNX Runtime's library is missing or unusable.
pub const ORT_LIBRARY_FIX: &str = "install it with `scripts/env/setup-onnxruntime.sh` (in the tiled-occlusion \
repository; or `pip install onnxruntime==1.32.0` anywhere) and set ORT_DYLIB_PATH to its \
`onnxruntime/capi/libonnxruntime.so.*`, or choose the tract runtime";

/// What to do when the ONNX Runtime loaded cannot run on a GPU.
pub const GPU_LIBRARY_FIX: &str = "a GPU needs ONNX Runtime's GPU build, its CUDA 13 and cuDNN 9 libraries \
on the library path, and an NVIDIA GPU with its driver: `scripts/env/setup-onnxruntime-gpu.sh` (in the \
tiled-occlusion repository; or `pip install onnxruntime-gpu[cuda,cudnn]==1.31.1` anywhere) installs the first \
two, and `source scripts/env/onnxruntime-gpu-env.sh` sets ORT_DYLIB_PATH to its \
`onnxruntime/capi/libonnxruntime.so.*` and LD_LIBRARY_PATH to its CUDA and cuDNN libraries";

/// What to do when ONNX Runtime's GPU build and its CUDA provider are loaded but a session
/// cannot start on the GPU.
pub const GPU_SESSION_FIX: &str = "the GPU build and its CUDA provider are loaded: check that the GPU index \
exists (`nvidia-smi -L`) and has free memory, and use fewer sessions (--sessions) or rows per call \
(--perturbations-per-eval)";

/// Everything that can go wrong when loading or running an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The model file does not exist.
    #[error("model file {} does not exist", path.display())]
    MissingModel {
        /// The path given.
        path: PathBuf,
    },
    /// The path given as the model exists but is not a regular file (a device, a pipe): a
    /// model is read whole, and a stream may never end.
    #[error("{} is not a regular file (a device or a pipe?), so it cannot be an ONNX model file", path.display())]
    ModelNotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The path given as the model is a folder.
    #[error("{} is a folder, not an ONNX model file", path.display())]
    ModelIsFolder {
        /// The path given.
        path: PathBuf,
    },
    /// The runtime cannot read or prepare the model file.
    #[error("{} is not an ONNX model {runtime} can read: {reason}", path.display())]
    UnreadableModel {
        /// The model file.
        path: PathBuf,
        /// The runtime that tried.
        runtime: Runtime,
        /// The runtime's message.
        reason: String,
    },
    /// The model declares no input.
    #[error("the model has no input; a model for attributions takes one (N, d_1, …, d_m) tensor")]
    NoInput,
    /// The model declares several inputs and the options do not say which one is explained.
    #[error("the model has {} inputs ({}); name the one to explain (`OnnxOptions::explained_input`) and hold the others fixed (`OnnxOptions::fixed_input`)", names.len(), names.join(", "))]
    SeveralInputs {
        /// The inputs' names.
        names: Vec<String>,
    },
    /// An input named in the options does not exist.
    #[error("the model has no input named `{requested}`; its inputs are {}", available.join(", "))]
    UnknownInput {
        /// The name given.
        requested: String,
        /// The inputs the model has.
        available: Vec<String>,
    },
    /// An input is given a fixed value twice, or is both explained and fixed.
    #[error("input `{name}` is {reason}; give each input once, the explained one without a fixed value")]
    InputGivenTwice {
        /// The input's name.
        name: String,
        /// "fixed twice" or "both explained and fixed".
        reason: &'static str,
    },
    /// Inputs other than the explained one have no fixed value.
    #[error("input{} {} of the model {} no value; hold {} with `OnnxOptions::fixed_input` (explained: `{explained}`)", if missing.len() == 1 { "" } else { "s" }, missing.join(", "), if missing.len() == 1 { "has" } else { "have" }, if missing.len() == 1 { "it fixed" } else { "them fixed" })]
    InputsWithoutValue {
        /// The inputs without a value.
        missing: Vec<String>,
        /// The explained input.
        explained: String,
    },
    /// A fixed input's element type is not the declared one.
    #[error("fixed input `{name}` holds {given} values but the model declares {declared}")]
    FixedInputType {
        /// The input's name.
        name: String,
        /// The declared element type.
        declared: String,
        /// The given one.
        given: String,
    },
    /// A fixed input's shape does not fit the declared one.
    #[error(
        "fixed input `{name}` of shape {shape:?} does not fit the declared {} (?: symbolic): {reason}",
        declared_text(declared)
    )]
    FixedInputShape {
        /// The input's name.
        name: String,
        /// The value's shape.
        shape: Vec<usize>,
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
        /// What does not fit.
        reason: String,
    },
    /// The model's input is not a tensor of `f32`.
    #[error("the model's input `{name}` holds {element} values; only f32 inputs are supported")]
    InputNotF32 {
        /// The input's name.
        name: String,
        /// Its declared element type.
        element: String,
    },
    /// The model declares no output.
    #[error("the model has no output")]
    NoOutput,
    /// The chosen output does not exist.
    #[error("the model has no output named `{requested}`; its outputs are {}", available.join(", "))]
    UnknownOutput {
        /// The name asked for.
        requested: String,
        /// The outputs the model has.
        available: Vec<String>,
    },
    /// An output is not `(N, classes)`.
    #[error("the model's output `{name}` has shape {shape:?} for a batch of {rows} rows; a classifier returns (N, classes) = ({rows}, classes)")]
    OutputShape {
        /// The output's name.
        name: String,
        /// The shape it had.
        shape: Vec<usize>,
        /// The rows of the batch.
        rows: usize,
    },
    /// An output is not a tensor of `f32`.
    #[error("the model's output `{name}` is not an f32 tensor ({element}); only f32 outputs are supported")]
    OutputNotF32 {
        /// The output's name.
        name: String,
        /// What it is.
        element: String,
    },
    /// The declared input has fewer than two dimensions.
    #[error("the model's input has {} dimensions ({}); it must be (N, d_1, …, d_m) with m ≥ 1", declared.len(), declared_text(declared))]
    InputRank {
        /// The declared dimensions (`None` where symbolic).
        declared: Vec<Option<usize>>,
    },
    /// An image model's input does not have four dimensions.
    #[error("the model's input has {} dimensions ({}); an image classifier takes 4: (N, C, H, W) or (N, H, W, C)", declared.len(), declared_text(declared))]
    ImageRank {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
    },
    /// The layout of an image input cannot be told from its shape.
    #[error(
        "cannot tell whether the model's input {} is NCHW or NHWC: choose the layout (--layout nchw or --layout nhwc)",
        declared_text(declared)
    )]
    AmbiguousLayout {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
    },
    /// An image input's channel dimension is not 1 or 3.
    #[error("the model's input {} read as {layout} has {} channels; images have 1 or 3 (check the layout)", declared_text(declared), channels.map_or_else(|| "a symbolic number of".to_string(), |c| c.to_string()))]
    Channels {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
        /// The layout it was read in.
        layout: Layout,
        /// The channel dimension found (`None`: symbolic).
        channels: Option<usize>,
    },
    /// Per-example dimensions are symbolic and nothing fixes them.
    #[error("the model's input {} (?: symbolic) has symbolic per-example dimensions: give the input size (--size N) or the example shape", declared_text(declared))]
    UnknownInputSize {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
    },
    /// An input size was given for an image input that declares both its height and width,
    /// one of them other than the size (nothing would take it).
    #[error(
        "the model's input {} fixes its height and width, so the input size {size} cannot apply: leave --size out",
        declared_text(declared)
    )]
    InputSizeFixed {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
        /// The size given.
        size: usize,
    },
    /// The example shape asked for contradicts the declared input.
    #[error(
        "the example shape {example:?} does not fit the model's declared input {} (?: symbolic; every dimension ≥ 1)",
        declared_text(declared)
    )]
    ExampleShape {
        /// The per-example shape asked for.
        example: Vec<usize>,
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
    },
    /// A batch given to the model does not have the model's per-example shape.
    #[error("a batch of shape {got:?} does not fit the model, whose input is (N, {})", example.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    BatchShape {
        /// The batch's shape.
        got: Vec<usize>,
        /// The per-example shape the model takes.
        example: Vec<usize>,
    },
    /// An image input declares a height or width of 0.
    #[error(
        "the model's input {} declares a height or width of 0: an image needs at least one pixel each way",
        declared_text(declared)
    )]
    EmptyImage {
        /// The declared dimensions.
        declared: Vec<Option<usize>>,
    },
    /// An input declares its batch axis as 0: every call would hold no rows.
    #[error("the model declares input `{name}` with a batch (axis {axis}) of 0 rows, so no call can hold an example; export it with a symbolic batch (N) or a batch ≥ 1")]
    ZeroBatch {
        /// The input's name.
        name: String,
        /// The batch axis.
        axis: usize,
    },
    /// A declared dimension is negative (the model file is invalid: a dimension is a size or
    /// a symbol).
    #[error("the model declares {kind} `{name}` with dimension {axis} = {value}, a negative size; a dimension is a number ≥ 0 or a symbol (re-export the model)")]
    NegativeDimension {
        /// `"input"` or `"output"`.
        kind: &'static str,
        /// The input's or output's name.
        name: String,
        /// The axis.
        axis: usize,
        /// The declared value.
        value: i64,
    },
    /// Softmax was asked for on an output with one value per example, whose softmax is 1
    /// whatever the model returns.
    #[error("softmax over the model's output `{name}` of shape {shape:?} gives 1 for every example (one value per example): softmax needs at least 2 classes; leave softmax out")]
    SoftmaxOneClass {
        /// The output's name.
        name: String,
        /// The output's shape for one example.
        shape: Vec<usize>,
    },
    /// The system refused memory for a buffer of the size asked for.
    #[error("cannot allocate {what} of shape {shape:?} ({} bytes): the system refused the memory; give a smaller example shape or input size (--size), or fewer rows per call", bytes.map_or_else(|| "more than usize::MAX".to_string(), |b| b.to_string()))]
    OutOfMemory {
        /// What the buffer is for (`"the zero example that checks the model"`, `"a call padded to the model's fixed batch"`, `"tract's copy of the input"`).
        what: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// Its size in bytes (`None` when it overflows `usize`).
        bytes: Option<usize>,
    },
    /// A product of sizes overflows `usize`.
    #[error("the input size {shape:?} overflows")]
    SizeOverflow {
        /// The shape whose element count overflows.
        shape: Vec<usize>,
    },
    /// One model call would hold more input values than [`MAX_VALUES_PER_CALL`](crate::MAX_VALUES_PER_CALL):
    /// `rows × (d_1 ⋯ d_m)` for the model's fixed batch of `rows` (1 for a symbolic batch)
    /// and the per-example shape `(d_1, …, d_m)`.
    #[error(
        "one model call would hold {rows} row{} of shape {example:?}, more than {limit} input values (the model's declared or the given input size is too large; give a smaller --size or example shape)",
        if *rows == 1 { "" } else { "s" }
    )]
    CallTooLarge {
        /// Rows per call: the model's fixed batch, or 1.
        rows: usize,
        /// The per-example shape.
        example: Vec<usize>,
        /// [`MAX_VALUES_PER_CALL`](crate::MAX_VALUES_PER_CALL).
        limit: usize,
    },
    /// An execution plan parameter is unusable.
    #[error("{parameter} = {value}: {reason}")]
    InvalidPlan {
        /// Which parameter (`"sessions"`, `"intra_threads"`, `"perturbations_per_eval"`, `"threads"`).
        parameter: &'static str,
        /// Its value.
        value: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An option that only means something on a GPU was given for the CPU.
    #[error("{option} applies to a GPU only; the device is {device} (give cuda or cuda:N, or leave {option} out)")]
    GpuOnlyOption {
        /// The option (`"tf32"`).
        option: &'static str,
        /// The device asked for.
        device: Device,
    },
    /// The runtime cannot run on the device asked for.
    #[error("{runtime} runs on the CPU only; the device {device} needs ONNX Runtime (runtime ort) with its CUDA execution provider")]
    DeviceUnsupported {
        /// The device asked for.
        device: Device,
        /// The runtime asked for.
        runtime: Runtime,
    },
    /// The ONNX Runtime library loaded cannot run the model on the device asked for: it was
    /// built without the device's execution provider, or the provider failed to start (no GPU,
    /// no driver, CUDA or cuDNN libraries missing), or a session could not start on it.
    #[error("ONNX Runtime {version} ({}) cannot run on {device}: {reason}; {fix}", path.display())]
    DeviceUnavailable {
        /// The device asked for.
        device: Device,
        /// The library file.
        path: PathBuf,
        /// Its version.
        version: String,
        /// Why.
        reason: String,
        /// What to do ([`GPU_LIBRARY_FIX`], or [`GPU_SESSION_FIX`] when the provider started but
        /// a session did not).
        fix: &'static str,
    },
    /// The runtime asked for is not part of this build.
    #[error("this build has no {runtime} runtime (the crate feature `{feature}` is off)")]
    RuntimeNotBuilt {
        /// The runtime asked for.
        runtime: Runtime,
        /// The feature that would add it.
        feature: &'static str,
    },
    /// No ONNX Runtime library was found.
    #[error("ONNX Runtime's library was not found (looked for {}); {fix}", looked.join(", "))]
    OrtLibraryMissing {
        /// Every place looked at, in order.
        looked: Vec<String>,
        /// What to do ([`ORT_LIBRARY_FIX`]; [`GPU_LIBRARY_FIX`] on a GPU, see [`OnnxError::for_device`]).
        fix: &'static str,
    },
    /// The library found is older than this build needs.
    #[error("{} is ONNX Runtime {found}; this build needs 1.{minimum_minor} or newer: {fix}", path.display())]
    OrtLibraryTooOld {
        /// The library file.
        path: PathBuf,
        /// The version it reports.
        found: String,
        /// The oldest minor version `1.x` supported.
        minimum_minor: u32,
        /// What to do ([`ORT_LIBRARY_FIX`]; [`GPU_LIBRARY_FIX`] on a GPU, see [`OnnxError::for_device`]).
        fix: &'static str,
    },
    /// The file exists but is not a usable ONNX Runtime library.
    #[error("{} cannot be loaded as ONNX Runtime: {reason}; {fix}", path.display())]
    OrtLibraryUnusable {
        /// The library file.
        path: PathBuf,
        /// Why.
        reason: String,
        /// What to do ([`ORT_LIBRARY_FIX`]; [`GPU_LIBRARY_FIX`] on a GPU, see [`OnnxError::for_device`]).
        fix: &'static str,
    },
    /// ONNX Runtime is already loaded from another file in this process.
    #[error("ONNX Runtime is already loaded from {} in this process; it cannot switch to {}", loaded.display(), requested.display())]
    OrtLibraryConflict {
        /// The library loaded first.
        loaded: PathBuf,
        /// The one asked for now.
        requested: PathBuf,
    },
    /// The runtime failed while preparing or running the model.
    #[error("{runtime} failed to {action}: {reason}")]
    Runtime {
        /// Which runtime.
        runtime: Runtime,
        /// What it was doing (`"run the model"`, `"create a session"`, …).
        action: &'static str,
        /// Its message.
        reason: String,
    },
}

impl OnnxError {
    /// This error as seen by a run on `device`: on a GPU, a missing, too old or unusable
    /// library's fix is [`GPU_LIBRARY_FIX`] (the CPU build that [`ORT_LIBRARY_FIX`] installs
    /// would only fail again with [`OnnxError::DeviceUnavailable`]); anything else is unchanged.
    pub fn for_device(mut self, device: Device) -> OnnxError {
        if device.is_gpu() {
            if let OnnxError::OrtLibraryMissing { fix, .. }
            | OnnxError::OrtLibraryTooOld { fix, .. }
            | OnnxError::OrtLibraryUnusable { fix, .. } = &mut self
            {
                *fix = GPU_LIBRARY_FIX;
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{OnnxError, GPU_LIBRARY_FIX, ORT_LIBRARY_FIX};
    use crate::device::Device;

    #[test]
    fn a_gpu_run_names_the_gpu_build_as_the_fix_for_a_missing_library() {
        let missing = || OnnxError::OrtLibraryMissing { looked: vec!["here".into()], fix: ORT_LIBRARY_FIX };
        let too_old = || OnnxError::OrtLibraryTooOld {
            path: PathBuf::from("libonnxruntime.so.1.20.0"),
            found: "1.20.0".into(),
            minimum_minor: 24,
            fix: ORT_LIBRARY_FIX,
        };
        let unusable = || OnnxError::OrtLibraryUnusable {
            path: PathBuf::from("libonnxruntime.so.1.32.0"),
            reason: "not a shared library".into(),
            fix: ORT_LIBRARY_FIX,
        };
        for (error, gpu) in [
            (missing(), true),
            (too_old(), true),
            (unusable(), true),
            (missing(), false),
            (too_old(), false),
            (unusable(), false),
        ] {
            let device = if gpu { Device::Cuda(1) } else { Device::Cpu };
            let text = error.for_device(device).to_string();
            let (wanted, unwanted) =
                if gpu { (GPU_LIBRARY_FIX, ORT_LIBRARY_FIX) } else { (ORT_LIBRARY_FIX, GPU_LIBRARY_FIX) };
            assert!(text.contains(wanted) && !text.contains(unwanted), "{device}: {text}");
        }
        let other = OnnxError::MissingModel { path: PathBuf::from("m.onnx") };
        assert_eq!(other.for_device(Device::Cuda(0)).to_string(), "model file m.onnx does not exist");
    }
}
