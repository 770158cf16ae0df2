//! Shared helpers of the `tiled-occlusion` benchmark binaries: timing with medians.

use std::time::Instant;

/// Seconds taken by one call of `f`.
pub fn seconds(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// The median of `values` (the mean of the two middle values for an even count; `NaN` when
/// empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs every workload `runs` times, alternating between them so that they share the
/// machine's noise, and returns the median seconds of each.
pub fn alternating_medians(runs: usize, workloads: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(runs); workloads.len()];
    for _ in 0..runs {
        for (w, t) in workloads.iter_mut().zip(&mut times) {
            t.push(seconds(&mut **w));
        }
    }
    times.iter().map(|t| median(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}

/// A backend whose tensors carry a shape and no input data, so that an attribution on it
/// costs only what the core does per model call (scheduling regions, selecting the target,
/// accumulating the drops into the map) and nothing for building batches.
pub mod shape_only {
    use tiled_occlusion_core::backend::{Backend, BaselineValue, RegionBatch};
    use tiled_occlusion_core::Result;

    /// The marker type of the shape-only backend.
    pub struct ShapeOnly;

    /// A tensor of [`ShapeOnly`]: a shape and, for model outputs and maps, its values.
    pub struct ShapeTensor {
        /// The shape.
        pub shape: Vec<usize>,
        /// The values (empty for inputs and perturbed batches).
        pub data: Vec<f64>,
    }

    impl Backend for ShapeOnly {
        type Tensor = ShapeTensor;

        fn shape(tensor: &ShapeTensor) -> Vec<usize> {
            tensor.shape.clone()
        }

        fn to_f64_vec(tensor: &ShapeTensor) -> Result<Vec<f64>> {
            Ok(tensor.data.clone())
        }

        fn from_f64_slice(_like: &ShapeTensor, shape: &[usize], data: &[f64]) -> Result<ShapeTensor> {
            Ok(ShapeTensor { shape: shape.to_vec(), data: data.to_vec() })
        }

        fn occluded_batch(
            _input: &ShapeTensor,
            _baseline: &BaselineValue<'_, Self>,
            regions: &RegionBatch<'_>,
        ) -> Result<ShapeTensor> {
            Ok(ShapeTensor { shape: regions.batch_shape(), data: Vec::new() })
        }
    }

    /// A model of the shape-only backend that scores every row 0.
    pub fn zero_model(batch: &ShapeTensor) -> std::result::Result<ShapeTensor, String> {
        let rows = batch.shape.first().copied().unwrap_or(0);
        Ok(ShapeTensor { shape: vec![rows], data: vec![0.0; rows] })
    }
}
