//! The error type of every fallible operation in the core and the backends.

use thiserror::Error;

/// An error returned by a model, boxed so that any error type fits.
pub type ModelError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when computing an attribution.
///
/// One variant per kind of mistake, grouped by what is wrong: the input, a method's settings,
/// the target, the model, the device or the backend. Each message names the offending value
/// and the builder method or argument that set it (`NoiseTunnel::with_samples is 0; it must
/// be at least 1`), so that the message alone says what to fix. No function of the project
/// panics on user input; it returns one of these instead.
///
/// Failures of a framework or a model keep their cause: [`Error::Model`] and
/// [`Error::Backend`] return it from [`source`](std::error::Error::source) (and show it in
/// the message too, for callers that print only the message).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    // ---- The input and its baseline ----
    /// The input has no batch dimension (it is 0-d).
    #[error("input must have shape (N, d_1, ..., d_m) with a batch dimension N (m >= 0), got shape {shape:?}")]
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
    /// The input's element type is not one the backend explains (an integer or boolean
    /// tensor, say).
    #[error("{backend}: input element type {found} is not supported; use {supported}")]
    UnsupportedElementType {
        /// The backend (`"candle"`, `"tch"`).
        backend: &'static str,
        /// The input's element type, as the framework names it.
        found: String,
        /// The element types the backend explains.
        supported: &'static str,
    },
    /// The baseline tensor cannot be broadcast to the input.
    #[error("baseline of shape {baseline_shape:?} cannot be broadcast to the input's shape {input_shape:?}; use a scalar, the per-example shape, or one baseline per example")]
    BaselineShape {
        /// The baseline's shape.
        baseline_shape: Vec<usize>,
        /// The input's shape.
        input_shape: Vec<usize>,
    },

    // ---- A method's settings ----
    /// A count or size is smaller than it may be: every "must be at least N" of the project.
    #[error("{setting} is {value}; it must be at least {minimum}")]
    TooSmall {
        /// The setting, as the user wrote it: the builder method or argument, with the entry
        /// for per-dimension settings (`"NoiseTunnel::with_samples"`,
        /// `"strides[1] (Occlusion::with_strides)"`).
        setting: String,
        /// The value given.
        value: usize,
        /// The smallest value allowed.
        minimum: usize,
    },
    /// A count or size is larger than it may be (threads, samples, steps: limits that keep a
    /// run from exhausting the machine). The limit is documented where the setting is.
    #[error("{setting} is {value}; it must be at most {maximum}")]
    TooLarge {
        /// The setting, as the user wrote it (`"Parallel::with_threads"`).
        setting: String,
        /// The value given.
        value: usize,
        /// The largest value allowed.
        maximum: usize,
    },
    /// A product or sum of sizes the user chose does not fit in a `usize` (the number of
    /// windows, positions or rows of a run): the run could never finish, and its arithmetic
    /// would wrap.
    #[error("{what} overflows: {detail}")]
    SizeOverflow {
        /// The quantity (`"the number of windows of TiledOcclusion"`).
        what: String,
        /// The sizes it was computed from.
        detail: String,
    },
    /// A buffer the settings call for cannot be allocated on this machine (the allocator
    /// refused it): the settings ask for more memory than there is, and nothing was run.
    #[error("{what} needs {values} values ({bytes} bytes), more than this machine can allocate; {hint}")]
    TooLargeToAllocate {
        /// The buffer (`"a NoiseTunnel batch"`).
        what: String,
        /// Its number of values.
        values: usize,
        /// Its size in bytes (saturating).
        bytes: usize,
        /// What to change (`"lower NoiseTunnel::with_samples_batch_size"`).
        hint: &'static str,
    },
    /// A real-valued setting is outside its range (a negative or non-finite standard
    /// deviation, say).
    #[error("{setting} is {value}; it must be {allowed}")]
    OutOfRange {
        /// The setting, as the user wrote it (`"the input noise stdev (NoiseTunnel::with_stdev)"`).
        setting: String,
        /// The value given.
        value: f64,
        /// The values allowed (`"finite and ≥ 0"`).
        allowed: &'static str,
    },
    /// A per-dimension setting has the wrong number of entries.
    #[error(
        "{setting} has {got} entries but the input has {expected} per-example dimensions (input shape {input_shape:?})"
    )]
    RankMismatch {
        /// The setting (`"window (Occlusion::new)"`, `"k (TiledOcclusion::new)"`, …).
        setting: String,
        /// How many entries it has.
        got: usize,
        /// How many it needs.
        expected: usize,
        /// The input's shape.
        input_shape: Vec<usize>,
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
    /// A setting does not fit the others or the call, for a reason the message gives
    /// (reference mode with mean aggregation, given noise of the wrong length, …).
    #[error("{setting}: {reason}")]
    InvalidSetting {
        /// The setting, as the user wrote it.
        setting: String,
        /// What is wrong with it.
        reason: String,
    },

    // ---- The target ----
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

    // ---- The model ----
    /// The model output's first dimension is not the number of rows it was given.
    #[error(
        "model output has shape {output_shape:?} but the model was given {rows} rows; the first output dimension must \
         be the batch (an output that does not grow with the batch needs perturbations_per_eval = 1)"
    )]
    OutputBatch {
        /// The model output's shape.
        output_shape: Vec<usize>,
        /// Rows in the model input.
        rows: usize,
    },
    /// The model gives one output for the whole batch (its first dimension is not the number of
    /// examples: Captum's aggregation mode), and the run cannot be read that way.
    #[error(
        "the model's output of shape {output_shape:?} for {examples} example(s) is one output for the whole batch \
         (its first dimension is not the number of examples), which {reason}"
    )]
    BatchLevelOutput {
        /// The unperturbed output's shape.
        output_shape: Vec<usize>,
        /// Examples in the input.
        examples: usize,
        /// What cannot be done with it.
        reason: String,
    },
    /// The model output changed shape between calls.
    #[error("model output has shape {got:?} but the unperturbed call gave {expected:?} (beyond the batch dimension)")]
    OutputShapeChanged {
        /// This call's output shape.
        got: Vec<usize>,
        /// The first call's output shape.
        expected: Vec<usize>,
    },
    /// The model itself failed: it returned an error, or, run by `Parallel` (whose threads
    /// catch them), it panicked; the model's error is the source. A panic in a model called on
    /// the caller's thread (`FnModel`, a backend's own models) unwinds to the caller, as any
    /// panic of a callback does.
    #[error("the model failed: {0}")]
    Model(#[source] ModelError),
    /// A method needs the model's parameters, and the model does not expose them.
    #[error("{method} needs a model that exposes its parameters (Forward::parameters returns None); use a backend's parameter-exposing model")]
    ModelWithoutParameters {
        /// The method (`"FusionGrad"`).
        method: &'static str,
    },
    /// A gradient method's model is not differentiable with respect to its input.
    #[error("{backend}: the model's output is not connected to its input in the autograd graph ({hint}); gradient methods need a differentiable model")]
    NotDifferentiable {
        /// The backend.
        backend: &'static str,
        /// What usually causes it with this backend.
        hint: &'static str,
    },

    // ---- The device and the backend ----
    /// A device the user named cannot be used: not a device name, not supported by this
    /// build, or not present. The framework's error, if any, is the source.
    #[error("device {device:?}: {reason}{}", source_suffix(.source.as_deref()))]
    Device {
        /// The device as the user wrote it (`"cuda:1"`).
        device: String,
        /// What is wrong.
        reason: String,
        /// The framework's error, when it gave one.
        #[source]
        source: Option<ModelError>,
    },
    /// The tensor framework failed to build, convert or read a tensor; its error is the
    /// source. Made with [`Error::backend`].
    #[error("{context}: {source}")]
    Backend {
        /// What the backend was doing, starting with its name (`"candle: building the
        /// perturbed batch"`).
        context: String,
        /// The framework's error.
        #[source]
        source: ModelError,
    },
}

impl Error {
    /// A failure of the tensor framework, keeping its error as the
    /// [`source`](std::error::Error::source): `context` says what the backend was doing
    /// (starting with the backend's name), `source` is the framework's error, or a message
    /// when the framework gave none. Every backend reports its failures through this.
    ///
    /// ```
    /// use std::error::Error as _;
    /// use tiled_occlusion_core::Error;
    ///
    /// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "model.pt");
    /// let e = Error::backend("tch: loading the TorchScript model", io);
    /// assert_eq!(e.to_string(), "tch: loading the TorchScript model: model.pt");
    /// assert!(e.source().unwrap().downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn backend(context: impl Into<String>, source: impl Into<ModelError>) -> Error {
        Error::Backend { context: context.into(), source: source.into() }
    }

    /// A count or size below its minimum (see [`Error::TooSmall`]), or `Ok` when it is not.
    pub(crate) fn check_at_least(setting: impl Into<String>, value: usize, minimum: usize) -> Result<()> {
        if value < minimum {
            return Err(Error::TooSmall { setting: setting.into(), value, minimum });
        }
        Ok(())
    }
}

impl Error {
    /// A count or size above its maximum (see [`Error::TooLarge`]), or `Ok` when it is not.
    pub(crate) fn check_at_most(setting: impl Into<String>, value: usize, maximum: usize) -> Result<()> {
        if value > maximum {
            return Err(Error::TooLarge { setting: setting.into(), value, maximum });
        }
        Ok(())
    }

    /// `Π factors`, or [`Error::SizeOverflow`] naming `what` when it does not fit a `usize`.
    pub(crate) fn checked_product(what: &str, factors: &[usize]) -> Result<usize> {
        factors.iter().try_fold(1usize, |acc, &f| acc.checked_mul(f)).ok_or_else(|| Error::SizeOverflow {
            what: what.to_string(),
            detail: format!("the product of {factors:?} is larger than {}", usize::MAX),
        })
    }
}

/// The hint of [`Error::TooLargeToAllocate`] for a perturbed batch: what to change when one
/// model call's batch is too large.
pub(crate) const PER_EVAL_HINT: &str = "lower perturbations_per_eval";

/// A vector with room for `values` elements, or [`Error::TooLargeToAllocate`] naming `what`
/// and `hint` when the allocator refuses (instead of the abort a plain allocation would be):
/// how the core and the host backends allocate every buffer whose size a user controls.
///
/// ```
/// use tiled_occlusion_core::{try_with_capacity, Error};
/// let small: Vec<f64> = try_with_capacity("a buffer", 16, "ask for less").unwrap();
/// assert!(small.capacity() >= 16);
/// let huge = try_with_capacity::<f64>("a buffer", usize::MAX / 4, "ask for less");
/// assert!(matches!(huge, Err(Error::TooLargeToAllocate { .. })));
/// ```
pub fn try_with_capacity<T>(what: &str, values: usize, hint: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    try_reserve(&mut v, what, values, hint)?;
    Ok(v)
}

/// `values` copies of `value`, allocated fallibly ([`Error::TooLargeToAllocate`] naming `what`
/// and `hint` when the allocator refuses, see [`try_with_capacity`]): zeroed sums, masks and
/// divisors of a size the settings or the model chose.
pub(crate) fn try_filled<T: Clone>(what: &str, values: usize, value: T, hint: &'static str) -> Result<Vec<T>> {
    let mut v = try_with_capacity(what, values, hint)?;
    v.resize(values, value);
    Ok(v)
}

/// Room in `v` for `values` more elements, or [`Error::TooLargeToAllocate`] naming `what` and
/// `hint` when the allocator refuses (see [`try_with_capacity`]).
///
/// ```
/// use tiled_occlusion_core::try_reserve;
/// let mut v = vec![1u8];
/// try_reserve(&mut v, "a buffer", 8, "ask for less").unwrap();
/// assert!(v.capacity() >= 9);
/// assert!(try_reserve(&mut v, "a buffer", usize::MAX, "ask for less").is_err());
/// ```
pub fn try_reserve<T>(v: &mut Vec<T>, what: &str, values: usize, hint: &'static str) -> Result<()> {
    v.try_reserve_exact(values).map_err(|_| Error::TooLargeToAllocate {
        what: what.to_string(),
        values,
        bytes: values.saturating_mul(std::mem::size_of::<T>()),
        hint,
    })
}

/// `": <source>"`, or nothing.
fn source_suffix(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> String {
    source.map(|s| format!(": {s}")).unwrap_or_default()
}

/// The result type of the core and the backends.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::Error;

    #[test]
    fn backend_and_model_errors_keep_their_source() {
        let e = Error::backend("ndarray: making a tensor", std::fmt::Error);
        assert_eq!(e.to_string(), format!("ndarray: making a tensor: {}", std::fmt::Error));
        assert!(e.source().and_then(|s| s.downcast_ref::<std::fmt::Error>()).is_some());
        let message = Error::backend("tch: restoring the parameters", "restore called before save");
        assert_eq!(message.source().map(|s| s.to_string()).as_deref(), Some("restore called before save"));
        let model = Error::Model(Box::new(std::fmt::Error));
        assert!(model.source().and_then(|s| s.downcast_ref::<std::fmt::Error>()).is_some());
        let device = Error::Device { device: "cuda:3".into(), reason: "not present".into(), source: None };
        assert!(device.source().is_none());
        assert_eq!(device.to_string(), "device \"cuda:3\": not present");
    }

    #[test]
    fn every_minimum_has_one_shape() {
        let e = Error::check_at_least("NoiseTunnel::with_samples", 0, 1).unwrap_err();
        assert_eq!(e.to_string(), "NoiseTunnel::with_samples is 0; it must be at least 1");
        assert!(Error::check_at_least("IntegratedGradients::with_steps", 2, 2).is_ok());
        let e = Error::check_at_most("Parallel::with_threads", 5000, 1024).unwrap_err();
        assert_eq!(e.to_string(), "Parallel::with_threads is 5000; it must be at most 1024");
    }

    #[test]
    fn products_of_sizes_are_checked() {
        assert_eq!(Error::checked_product("positions", &[3, 4, 5]).unwrap(), 60);
        assert_eq!(Error::checked_product("positions", &[]).unwrap(), 1);
        let e = Error::checked_product("positions", &[1 << 40, 1 << 30]).unwrap_err();
        assert!(matches!(e, Error::SizeOverflow { .. }), "{e:?}");
        assert!(e.to_string().starts_with("positions overflows: the product of [1099511627776, 1073741824]"), "{e}");
    }
}
