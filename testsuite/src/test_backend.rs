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

/// `|x − y|` of one element pair, never `NaN`: `0` when both are `NaN` or both are the same
/// value (equal infinities included), `∞` when exactly one is `NaN`.
pub fn abs_diff(x: f64, y: f64) -> f64 {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => 0.0,
        (true, false) | (false, true) => f64::INFINITY,
        (false, false) if x == y => 0.0,
        (false, false) => (x - y).abs(),
    }
}

/// `e`, or `∞` where it is `NaN`: for folding errors with `f64::max`, which drops a `NaN`.
pub fn nan_as_inf(e: f64) -> f64 {
    if e.is_nan() {
        f64::INFINITY
    } else {
        e
    }
}

/// `max_i |a_i − b_i|` by [`abs_diff`]: `∞` when the lengths differ or an element is `NaN`
/// where the other is not, so a `NaN` result never passes a tolerance; two `NaN`s at the same
/// index count as equal. Never `NaN`.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).map(|(&x, &y)| abs_diff(x, y)).fold(0.0, f64::max)
}

/// The first index where exactly one of `a` and `b` is `NaN`, for messages.
pub fn first_nan_mismatch(a: &[f64], b: &[f64]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x.is_nan() != y.is_nan())
}

/// The number of elements of `shape`, checked: an error when the product overflows `usize`
/// or a dimension does not fit `i64` (what tensor libraries index with), or when it is not
/// `len`, the number of data values. Every marker of [`markers`](crate::markers) checks its
/// shapes with it before making a tensor.
pub fn checked_elements(shape: &[usize], len: usize) -> Result<usize, String> {
    if let Some(d) = shape.iter().find(|&&d| i64::try_from(d).is_err()) {
        return Err(format!("shape {shape:?}: dimension {d} does not fit a signed 64-bit size"));
    }
    let elements = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?}: the number of elements overflows"))?;
    if elements != len {
        return Err(format!("shape {shape:?} has {elements} elements, but the data has {len} values"));
    }
    Ok(elements)
}

/// Whether `a` and `b` agree within `tolerance · max(1, max |b|)`, the scale taken over the
/// finite values of `b` (an infinite expected value made the bound infinite, and anything, a
/// NaN included, passed; infinities must match exactly, by [`abs_diff`]).
pub fn close(a: &[f64], b: &[f64], tolerance: f64) -> bool {
    let scale = b.iter().filter(|v| v.is_finite()).fold(1.0_f64, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(a, b);
    diff <= tolerance * scale
}

/// The length of each row of a row-major matrix of `len` values in `rows` rows: an error when `rows`
/// is 0 or does not divide `len` (what the markers' polynomial models check).
pub fn row_length(len: usize, rows: usize) -> Result<usize, String> {
    match len.checked_div(rows) {
        Some(columns) if columns * rows == len => Ok(columns),
        _ => Err(format!("{len} values are not {rows} rows of equal length")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_diff_keeps_nan_and_lengths() {
        let nan = f64::NAN;
        // A NaN where a number is expected, at any position, is an infinite error.
        assert_eq!(max_abs_diff(&[nan, nan, nan, nan], &[5.0; 4]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[1.0, nan, 3.0], &[1.0, 2.0, 3.0]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[1.0, 2.0, 3.0], &[1.0, 2.0, nan]), f64::INFINITY);
        // A NaN after a larger difference is not forgotten by the fold (the old bug).
        assert_eq!(max_abs_diff(&[nan, 7.0], &[1.0, 1.0]), f64::INFINITY);
        // Both NaN: equal.
        assert_eq!(max_abs_diff(&[nan, 2.0], &[nan, 2.5]), 0.5);
        // Equal infinities are equal, opposite ones infinitely apart.
        assert_eq!(max_abs_diff(&[f64::INFINITY], &[f64::INFINITY]), 0.0);
        assert_eq!(max_abs_diff(&[f64::INFINITY], &[f64::NEG_INFINITY]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[1.0, 2.0], &[1.0]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[1.0, -2.0], &[1.5, -2.0]), 0.5);
        assert_eq!(first_nan_mismatch(&[1.0, 2.0, nan], &[1.0, 2.0, 3.0]), Some(2));
        // An infinite expected value does not widen the bound to infinity (anything passed).
        assert!(!close(&[nan, 0.0], &[1.0, f64::INFINITY], 1e-4));
        assert!(!close(&[2.0, f64::INFINITY], &[1.0, f64::INFINITY], 1e-4));
        assert!(close(&[1.0, f64::INFINITY], &[1.0, f64::INFINITY], 1e-4));
        assert_eq!(first_nan_mismatch(&[nan, 2.0], &[nan, 3.0]), None);
        assert!(!close(&[nan], &[1.0], 1e-4));
        assert!(close(&[nan, 1.0], &[nan, 1.0], 1e-4));
    }

    #[test]
    fn checked_elements_refuses_overflow_huge_dims_and_wrong_lengths() {
        assert_eq!(checked_elements(&[2, 3], 6), Ok(6));
        assert_eq!(checked_elements(&[], 1), Ok(1));
        assert_eq!(checked_elements(&[0, 5], 0), Ok(0));
        assert_eq!(
            checked_elements(&[4294967296, 4294967296, 2], 1),
            Err("shape [4294967296, 4294967296, 2]: the number of elements overflows".into())
        );
        assert_eq!(
            checked_elements(&[usize::MAX, 4], 4),
            Err(format!("shape [{}, 4]: dimension {} does not fit a signed 64-bit size", usize::MAX, usize::MAX))
        );
        assert_eq!(checked_elements(&[1, 4], 3), Err("shape [1, 4] has 4 elements, but the data has 3 values".into()));
    }
}
