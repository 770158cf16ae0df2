//! The error type of every fallible operation in the core.

use thiserror::Error;

/// An error returned by a model, boxed so that any error type fits.
pub type ModelError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when computing an attribution.
///
/// Each variant names the offending value, so that the message alone says what to fix.
/// No function of this crate panics on user input; it returns one of these instead.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input has no batch dimension or no per-example dimension.
    #[error("input must have shape (N, d_1, ..., d_m) with m >= 1, got shape {shape:?}")]
    InputRank {
        /// The input's shape.
        shape: Vec<usize>,
    },
    /// The input has a zero-sized dimension.
    #[error("input is empty: shape {shape:?} has a zero-sized dimension")]
    EmptyInput {
        /// The input's shape.
        shape: Vec<usize>,
    },
    /// A per-dimension parameter has the wrong number of entries.
    #[error("{parameter} has {got} entries but the input has {expected} per-example dimensions (input shape {input_shape:?})")]
    RankMismatch {
        /// Which parameter (`"window"`, `"strides"`, `"k"`, ...).
        parameter: &'static str,
        /// How many entries it has.
        got: usize,
        /// How many it needs.
        expected: usize,
        /// The input's shape.
        input_shape: Vec<usize>,
    },
    /// A parameter that must be at least 1 is 0.
    #[error("{parameter}[{dim}] is 0; it must be at least 1")]
    Zero {
        /// Which parameter.
        parameter: &'static str,
        /// The per-example dimension (0-based, batch excluded).
        dim: usize,
    },
    /// An Occlusion window is larger than the input.
    #[error("window[{dim}] = {window} is larger than the input's size {size} in that dimension")]
    WindowLargerThanInput {
        /// The per-example dimension.
        dim: usize,
        /// The window size.
        window: usize,
        /// The input size.
        size: usize,
    },
    /// A stride is larger than its window, which would leave positions uncovered.
    #[error("strides[{dim}] = {stride} is larger than window[{dim}] = {window}; positions between windows would never be occluded")]
    StrideLargerThanWindow {
        /// The per-example dimension.
        dim: usize,
        /// The stride.
        stride: usize,
        /// The window size.
        window: usize,
    },
    /// A tiled window is not divisible by its `k`.
    #[error("window[{dim}] = {window} is not divisible by k[{dim}] = {k}")]
    WindowNotDivisible {
        /// The per-example dimension.
        dim: usize,
        /// The window size.
        window: usize,
        /// The upscaling factor.
        k: usize,
    },
    /// The reference tiled mode would give the model an input shorter than the window.
    #[error("reference mode: phase {phase} gives the model an input of length {length} in dimension {dim}, shorter than window[{dim}] = {window}")]
    ReferencePhaseTooShort {
        /// The per-example dimension.
        dim: usize,
        /// The phase in that dimension.
        phase: usize,
        /// The length of the model input in that dimension for that phase.
        length: usize,
        /// The window size.
        window: usize,
    },
    /// The reference tiled mode only supports scalar baselines, as the Python reference.
    #[error("reference mode supports scalar baselines only (the model sees translated inputs), got a baseline tensor of shape {shape:?}")]
    ReferenceBaselineNotScalar {
        /// The baseline's shape.
        shape: Vec<usize>,
    },
    /// `perturbations_per_eval` is 0.
    #[error("perturbations_per_eval is 0; it must be at least 1")]
    ZeroPerturbationsPerEval,
    /// The baseline tensor cannot be broadcast to the input.
    #[error("baseline of shape {baseline_shape:?} cannot be broadcast to the input's shape {input_shape:?}; use a scalar, the per-example shape, or one baseline per example")]
    BaselineShape {
        /// The baseline's shape.
        baseline_shape: Vec<usize>,
        /// The input's shape.
        input_shape: Vec<usize>,
    },
    /// A feature mask has the wrong shape.
    #[error(
        "feature mask of shape {mask_shape:?} fits neither the per-example shape nor the input's shape {input_shape:?}"
    )]
    FeatureMaskShape {
        /// The mask's shape.
        mask_shape: Vec<usize>,
        /// The input's shape.
        input_shape: Vec<usize>,
    },
    /// A feature mask's data does not match its shape.
    #[error("feature mask has {got} ids but its shape {shape:?} needs {expected}")]
    FeatureMaskLength {
        /// The mask's shape.
        shape: Vec<usize>,
        /// How many ids it has.
        got: usize,
        /// How many it needs.
        expected: usize,
    },
    /// A target index is outside the model output.
    #[error("target index {index} is out of range for output dimension {dim} of size {size} (output shape {output_shape:?})")]
    TargetOutOfRange {
        /// The index.
        index: usize,
        /// The output dimension it indexes (1 = the first after the batch).
        dim: usize,
        /// The size of that dimension.
        size: usize,
        /// The model output's shape.
        output_shape: Vec<usize>,
    },
    /// Per-example targets do not match the number of examples.
    #[error("{got} per-example targets given for {expected} examples")]
    TargetCount {
        /// How many targets were given.
        got: usize,
        /// How many examples the input has.
        expected: usize,
    },
    /// A target does not fit the rank of the model output.
    #[error("target {target} needs {needed} index(es) after the batch dimension but the model output has shape {output_shape:?}")]
    TargetRank {
        /// The target, as text.
        target: String,
        /// How many indices it needs.
        needed: usize,
        /// The model output's shape.
        output_shape: Vec<usize>,
    },
    /// A contrastive target cannot contrast a class with itself or with no other class.
    #[error("contrastive target: {reason}")]
    ContrastiveTarget {
        /// What is wrong.
        reason: String,
    },
    /// The model output's first dimension is not the number of rows it was given.
    #[error("model output has shape {output_shape:?} but the model was given {rows} rows; the first output dimension must be the batch")]
    OutputBatch {
        /// The model output's shape.
        output_shape: Vec<usize>,
        /// Rows in the model input.
        rows: usize,
    },
    /// The model output changed shape between calls.
    #[error("model output has shape {got:?} but the unperturbed call gave {expected:?} (beyond the batch dimension)")]
    OutputShapeChanged {
        /// This call's output shape.
        got: Vec<usize>,
        /// The first call's output shape.
        expected: Vec<usize>,
    },
    /// The model itself failed.
    #[error("the model failed: {0}")]
    Model(#[source] ModelError),
    /// The backend failed to build, convert or read a tensor.
    #[error("backend error: {0}")]
    Backend(String),
    /// A parameter is invalid for another reason (the message says which).
    #[error("invalid {parameter}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
