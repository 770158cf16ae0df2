//! What a backend gives the suite: how to make its tensors, and how exact it is.

use tiled_occlusion_core::backend::{Backend, TensorOf};

/// A backend under test: a [`Backend`] plus a way to make its tensors from host data.
///
/// A backend crate implements this for a marker type (one per element type or device it
/// wants tested) and stamps out the suite with [`backend_conformance_tests!`](crate::backend_conformance_tests).
/// The project's backends have theirs in [`markers`](crate::markers).
pub trait TestBackend: 'static {
    /// The backend.
    type B: Backend;

    /// A short name for messages, such as `"ndarray-f64"`.
    const NAME: &'static str;

    /// Relative tolerance when two computations of the same attribution are compared:
    /// about `1e-10` for `f64`, `1e-4` for `f32`.
    const TOLERANCE: f64;

    /// A tensor of `shape` holding row-major `data`, in this backend's element type and device.
    fn tensor(shape: &[usize], data: &[f64]) -> Result<TensorOf<Self::B>, String>;

    /// Why this marker cannot run here (its device is absent, or this build cannot reach
    /// it), or `None` when it can: the default, right for host and CPU markers. The suite's
    /// tests of an unavailable marker are skipped with this message (see [`run`]).
    fn skip_reason() -> Option<String> {
        None
    }
}

/// Runs `test` for marker `T`, or prints why `T` is skipped here (its
/// [`TestBackend::skip_reason`]) and returns: every test the suite stamps out goes through it,
/// so CUDA markers compile everywhere and run where a device exists.
pub fn run<T: TestBackend>(test: impl FnOnce()) {
    match T::skip_reason() {
        Some(reason) => eprintln!("{}: skipped: {reason}", T::NAME),
        None => test(),
    }
}

/// An attribution method of any kind on the backend under test.
pub type BoxedMethod<T> = Box<dyn tiled_occlusion_core::Attribution<<T as TestBackend>::B>>;

/// Reads a tensor back as `f64`, for comparisons.
pub fn host<T: TestBackend>(tensor: &TensorOf<T::B>) -> Vec<f64> {
    match T::B::to_f64_vec(tensor) {
        Ok(v) => v,
        Err(e) => panic!("{}: cannot read a tensor back: {e}", T::NAME),
    }
}

/// Makes a tensor, panicking with the backend's name on failure (for tests).
pub fn tensor<T: TestBackend>(shape: &[usize], data: &[f64]) -> TensorOf<T::B> {
    match T::tensor(shape, data) {
        Ok(t) => t,
        Err(e) => panic!("{}: cannot make a tensor of shape {shape:?}: {e}", T::NAME),
    }
}

/// `max_i |a_i − b_i|`, with `NaN` where either is `NaN` at the same index unequally.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).map(|(x, y)| if x.is_nan() && y.is_nan() { 0.0 } else { (x - y).abs() }).fold(0.0, |m, d| {
        if d.is_nan() {
            f64::NAN
        } else {
            m.max(d)
        }
    })
}

/// Whether `a` and `b` agree within `tolerance · max(1, max |b|)`.
pub fn close(a: &[f64], b: &[f64], tolerance: f64) -> bool {
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(a, b);
    diff <= tolerance * scale
}
