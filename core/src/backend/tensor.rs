//! The tensor abstraction every backend implements.

use crate::backend::BaselineValue;
use crate::backend::RegionBatch;
use crate::error::Result;

/// A tensor framework, seen through the handful of operations the core needs.
///
/// This is the project's *tensor trait*. It is implemented by a marker type of the backend
/// crate (burn-style) rather than by the tensor type itself, because Rust's orphan rule
/// forbids a backend crate from implementing a core trait directly for a foreign type such as
/// `ndarray::ArrayD` or `candle_core::Tensor`. Users still pass and receive their framework's
/// own tensors: [`Backend::Tensor`].
///
/// Everything that is the same for every backend (schedules, masks, target selection,
/// aggregation) happens in the core on host data; a backend only reports shapes, converts to
/// and from host `f64` data, and builds the perturbed batch where the data lives.
pub trait Backend: Sized + Send + Sync + 'static {
    /// The framework's tensor type, batch first: `(N, d_1, …, d_m)`. `Send` (batches may be
    /// handed to other threads) but not necessarily `Sync`: `tch::Tensor` is not.
    type Tensor: Send;

    /// Checks that `input` is something this backend can explain (a floating-point element
    /// type, say), before any model call. The default accepts every tensor.
    fn check_input(input: &Self::Tensor) -> Result<()> {
        let _ = input;
        Ok(())
    }

    /// The tensor's shape.
    fn shape(tensor: &Self::Tensor) -> Vec<usize>;

    /// All elements as `f64`, row-major. Used for model outputs (small) and, once per call,
    /// for inputs where a method needs host data.
    fn to_f64_vec(tensor: &Self::Tensor) -> Result<Vec<f64>>;

    /// A tensor of `shape` holding `data` (row-major), with the element type and device of
    /// `like`.
    fn from_f64_slice(like: &Self::Tensor, shape: &[usize], data: &[f64]) -> Result<Self::Tensor>;

    /// The perturbed batch of one model call, of shape `(R·N, d_1, …, d_m)` for `R` regions:
    /// rows `[j·N, (j+1)·N)` are a copy of `input` whose positions in region `j` hold the
    /// baseline's value (a select, never a blend). Host backends can use
    /// [`fill_occluded_batch`](crate::backend::fill_occluded_batch); device backends can use
    /// [`RegionBatch::occlusion_mask`].
    fn occluded_batch(
        input: &Self::Tensor,
        baseline: &BaselineValue<'_, Self>,
        regions: &RegionBatch<'_>,
    ) -> Result<Self::Tensor>;
}

/// The tensor type of backend `B`.
pub type TensorOf<B> = <B as Backend>::Tensor;
