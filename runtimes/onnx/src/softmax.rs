//! Softmax over the rows of a `(N, classes)` output.

use ndarray::{ArrayD, Axis};

/// Softmax of each row of `scores` `(N, …)`: `p_c = exp(y_c − max y) / Σ_k exp(y_k − max y)`,
/// where a row is all the values of one example (axis 0): for `(N, classes)` the classes; an
/// output of more dimensions is normalised over each example's values together; for `(N,)`
/// each row is one value, whose softmax is 1 (so [`OnnxModel::load`](crate::OnnxModel::load)
/// refuses softmax on an output of one value per example).
///
/// `−∞` entries of a row with a finite maximum get 0. A row that is no distribution's logits,
/// holding NaN or `+∞` or `−∞` only, gives NaN in every entry rather than a made-up
/// distribution (a one-hot or uniform row would be finite and hide a model that misbehaves;
/// NaN maps are reported by the command and the callers).
///
/// A 0-dimensional array is returned unchanged.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// let y = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![0.0f32, 2.0f32.ln()]).unwrap();
/// let p = tiled_occlusion_onnx::softmax_rows(&y);
/// assert!((p[[0, 0]] - 1.0 / 3.0).abs() < 1e-6 && (p[[0, 1]] - 2.0 / 3.0).abs() < 1e-6);
/// let inf = f32::INFINITY;
/// let y = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![0.0, -inf, inf, 0.0, -inf, -inf]).unwrap();
/// let p = tiled_occlusion_onnx::softmax_rows(&y).into_raw_vec_and_offset().0;
/// assert_eq!(p[..2], [1.0, 0.0]);
/// assert!(p[2..].iter().all(|v| v.is_nan()));
/// ```
pub fn softmax_rows(scores: &ArrayD<f32>) -> ArrayD<f32> {
    let mut out = scores.clone();
    if out.ndim() == 0 {
        return out;
    }
    for mut row in out.axis_iter_mut(Axis(0)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // NaN (which `max` skips), +∞, or −∞ only: no distribution (a row of no entries has
        // nothing to fill).
        if row.iter().any(|v| v.is_nan()) || !max.is_finite() {
            row.fill(f32::NAN);
            continue;
        }
        row.mapv_inplace(|v| (v - max).exp());
        let sum: f32 = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    out
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::softmax_rows;

    #[test]
    fn rows_sum_to_one_and_keep_their_order() {
        let y = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1000.0, 999.0, 0.0, -1.0, 0.0, 1.0]).unwrap();
        let p = softmax_rows(&y);
        for r in 0..2 {
            let sum: f32 = (0..3).map(|c| p[[r, c]]).sum();
            assert!((sum - 1.0).abs() < 1e-6, "row {r} sums to {sum}");
        }
        assert!(p[[0, 0]] > p[[0, 1]] && p[[0, 1]] > p[[0, 2]]);
        let e = std::f32::consts::E;
        assert!((p[[1, 2]] / p[[1, 1]] - e).abs() < 1e-5);
    }

    #[test]
    fn nan_stays_nan() {
        let y = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![f32::NAN, 1.0]).unwrap();
        assert!(softmax_rows(&y).iter().any(|v| v.is_nan()));
    }

    #[test]
    fn rows_that_are_no_logits_are_nan_throughout() {
        let (i, n) = (f32::INFINITY, f32::NAN);
        // +∞, −∞ only, NaN: NaN in every entry; −∞ beside finite values: 0.
        let y =
            ArrayD::from_shape_vec(IxDyn(&[4, 3]), vec![i, 0.0, 0.0, -i, -i, -i, n, 1.0, 1.0, 1.0, -i, 1.0]).unwrap();
        let p = softmax_rows(&y).into_raw_vec_and_offset().0;
        assert!(p[..9].iter().all(|v| v.is_nan()), "{p:?}");
        assert_eq!(p[9..], [0.5, 0.0, 0.5]);
    }

    #[test]
    fn a_row_is_every_value_of_one_example() {
        // (N,): one value per row, softmax 1; (N, 2, 2): normalised over the four values.
        let p = softmax_rows(&ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, -5.0, 7.0]).unwrap());
        assert_eq!(p.into_raw_vec_and_offset().0, [1.0, 1.0, 1.0]);
        let y = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![0.0; 4]).unwrap();
        assert_eq!(softmax_rows(&y).into_raw_vec_and_offset().0, [0.25; 4]);
        assert_eq!(softmax_rows(&ArrayD::<f32>::zeros(IxDyn(&[2, 0]))).len(), 0);
    }
}
