//! Everything [`OnnxModel::load`](crate::OnnxModel::load) can be told: the runtime, the
//! execution plan, the input shape, the explained input and the fixed values of the others,
//! the output, and where ONNX Runtime's library is.

use std::path::PathBuf;

use crate::device::Device;
use crate::execution_plan::PlanRequest;
use crate::fixed_input::FixedInput;
use crate::input_geometry::Layout;
use crate::input_spec::InputSpec;
use crate::runtime_choice::RuntimeChoice;

/// How to load an ONNX model; [`OnnxOptions::default`] is ONNX Runtime when its library is
/// found (tract otherwise), the default plan, the declared input shape and the first output.
///
/// ```
/// use tiled_occlusion_onnx::{OnnxOptions, RuntimeChoice};
///
/// let options = OnnxOptions::default()
///     .runtime(RuntimeChoice::Tract)
///     .image(None, Some(16))
///     .sessions(2)
///     .perturbations_per_eval(4)
///     .softmax(true);
/// assert_eq!(options.plan.sessions, Some(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnnxOptions {
    /// The runtime.
    pub runtime: RuntimeChoice,
    /// The parts of the execution plan fixed by the caller.
    pub plan: PlanRequest,
    /// How the per-example input shape is decided.
    pub input: InputSpec,
    /// The input explained, by name (default: the only input without a fixed value).
    pub explained_input: Option<String>,
    /// The values of the model's other inputs, held fixed in every call.
    pub fixed_inputs: Vec<FixedInput>,
    /// The output used, by name (default: the first).
    pub output: Option<String>,
    /// Whether the model's outputs go through a softmax over each row before they are
    /// returned: `p_c = exp(y_c − max y) / Σ_k exp(y_k − max y)`.
    pub softmax: bool,
    /// ONNX Runtime's library file, before `ORT_DYLIB_PATH` and the `.venv` search (see
    /// [`load_ort_library`](crate::load_ort_library)).
    pub ort_library: Option<PathBuf>,
    /// On a GPU, whether convolutions and matrix products may round their inputs to
    /// TensorFloat-32 (10 of f32's 23 mantissa bits; faster on tensor cores, maps about 1e-3
    /// relative from f32's). Default `false`: full f32, maps like the CPU's. On the CPU,
    /// [`OnnxError::GpuOnlyOption`](crate::OnnxError::GpuOnlyOption).
    pub tf32: bool,
}

impl OnnxOptions {
    /// The runtime.
    pub fn runtime(mut self, runtime: RuntimeChoice) -> Self {
        self.runtime = runtime;
        self
    }

    /// The cores to use in all (default: every core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.plan.threads = Some(threads);
        self
    }

    /// Where the calls run (default: the CPU; a GPU needs ONNX Runtime's GPU build, see
    /// [`Device`]).
    pub fn device(mut self, device: Device) -> Self {
        self.plan.device = device;
        self
    }

    /// Inference sessions running calls at the same time.
    pub fn sessions(mut self, sessions: usize) -> Self {
        self.plan.sessions = Some(sessions);
        self
    }

    /// Intra-op threads per session (ONNX Runtime only).
    pub fn intra_threads(mut self, threads: usize) -> Self {
        self.plan.intra_threads = Some(threads);
        self
    }

    /// Rows per model call, suggested to the attribution methods through
    /// [`ExecutionPlan::perturbations_per_eval`](crate::ExecutionPlan::perturbations_per_eval).
    pub fn perturbations_per_eval(mut self, rows: usize) -> Self {
        self.plan.perturbations_per_eval = Some(rows);
        self
    }

    /// The per-example input shape `(d_1, …, d_m)`.
    pub fn example_shape(mut self, shape: impl Into<Vec<usize>>) -> Self {
        self.input = InputSpec::Example(shape.into());
        self
    }

    /// Reads the input as an image (NCHW or NHWC, 1 or 3 channels), with the layout and the
    /// size where the model does not declare them.
    pub fn image(mut self, layout: Option<Layout>, size: Option<usize>) -> Self {
        self.input = InputSpec::Image { layout, size };
        self
    }

    /// Explains the input named `name` (needed when several inputs have no fixed value).
    pub fn explained_input(mut self, name: impl Into<String>) -> Self {
        self.explained_input = Some(name.into());
        self
    }

    /// Holds one more input of the model at a value (see [`FixedInput`]): every input but the
    /// explained one needs one.
    pub fn fixed_input(mut self, input: FixedInput) -> Self {
        self.fixed_inputs.push(input);
        self
    }

    /// Uses the output named `name`.
    pub fn output(mut self, name: impl Into<String>) -> Self {
        self.output = Some(name.into());
        self
    }

    /// Softmax over each output row.
    pub fn softmax(mut self, softmax: bool) -> Self {
        self.softmax = softmax;
        self
    }

    /// ONNX Runtime's library file.
    pub fn ort_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.ort_library = Some(path.into());
        self
    }

    /// TensorFloat-32 convolutions and matrix products on a GPU (see [`OnnxOptions::tf32`]).
    pub fn tf32(mut self, tf32: bool) -> Self {
        self.tf32 = tf32;
        self
    }
}
