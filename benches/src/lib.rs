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
