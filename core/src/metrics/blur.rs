//! The Gaussian blur insertion curves start from.

use crate::backend::row_major_strides;
use crate::error::{Error, Result};
use crate::metrics::MapGeometry;

/// The widest blur [`gaussian_blur`] makes, in positions: its kernel has 6001 taps.
pub const MAX_BLUR_SIGMA: f64 = 1000.0;

/// Separable Gaussian blur of one example over its spatial axes, channels kept apart:
/// `b_p = Σ_o g(o) x_{clamp(p+o)} / Σ_o g(o)` along each spatial axis in turn, with
/// `g(o) = exp(−o²/(2σ²))` for `|o| ≤ ⌈3σ⌉` and positions clamped at the edges. `σ ≤ 0`
/// returns the input. `σ` is at most [`MAX_BLUR_SIGMA`] positions: the kernel has
/// `2⌈3σ⌉ + 1` taps and every position reads all of them.
pub fn gaussian_blur(values: &[f64], geometry: &MapGeometry, sigma: f64) -> Result<Vec<f64>> {
    geometry.check(values.len(), "values")?;
    if !sigma.is_finite() || sigma > MAX_BLUR_SIGMA {
        return Err(Error::OutOfRange {
            setting: "sigma (gaussian_blur, DeletionInsertion::blur_sigma)".into(),
            value: sigma,
            allowed: "finite and at most 1000 positions (a wider blur is flat on any image)",
        });
    }
    if sigma <= 0.0 {
        return Ok(values.to_vec());
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let norm: f64 = kernel.iter().sum();
    let strides = row_major_strides(&geometry.example_shape);
    let mut current = values.to_vec();
    for axis in (0..geometry.example_shape.len()).filter(|a| Some(*a) != geometry.channel_axis) {
        let (d, s) = (geometry.example_shape[axis] as isize, strides[axis]);
        let next: Vec<f64> = (0..current.len())
            .map(|i| {
                let coordinate = ((i / s) as isize) % d;
                kernel
                    .iter()
                    .zip(-radius..=radius)
                    .map(|(k, o)| {
                        let c = (coordinate + o).clamp(0, d - 1);
                        k * current[(i as isize + (c - coordinate) * s as isize) as usize]
                    })
                    .sum::<f64>()
                    / norm
            })
            .collect();
        current = next;
    }
    Ok(current)
}
