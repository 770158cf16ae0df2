//! Softmax over the rows of a `(N, classes)` output.

use ndarray::{ArrayD, Axis};

/// Softmax of each row of `scores` `(N, classes)`: `p_c = exp(y_c − max y) / Σ_k exp(y_k − max y)`.
///
/// Rows holding NaN give NaN, and rows of −∞ only give NaN (there is no distribution to take).
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// let y = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![0.0f32, 2.0f32.ln()]).unwrap();
/// let p = tiled_occlusion_onnx::softmax_rows(&y);
/// assert!((p[[0, 0]] - 1.0 / 3.0).abs() < 1e-6 && (p[[0, 1]] - 2.0 / 3.0).abs() < 1e-6);
/// ```
pub fn softmax_rows(scores: &ArrayD<f32>) -> ArrayD<f32> {
    let mut out = scores.clone();
    if out.ndim() == 0 {
        return out;
    }
    for mut row in out.axis_iter_mut(Axis(0)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
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
}
