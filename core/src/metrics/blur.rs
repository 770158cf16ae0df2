//! The Gaussian blur insertion curves start from.

use crate::backend::row_major_strides;
use crate::error::{Error, Result};
use crate::metrics::MapGeometry;

/// The widest blur [`gaussian_blur`] makes, in positions: its kernel has 6001 taps.
pub const MAX_BLUR_SIGMA: f64 = 1000.0;

/// Separable Gaussian blur of one example over its spatial axes, channels kept apart:
/// `b_p = Σ_o g(o) x_{clamp(p+o)} / Σ_o g(o)` along each spatial axis in turn, with
/// `g(o) = exp(−o²/(2σ²))` (`g(0) = 1`) for `|o| ≤ ⌈3σ⌉` and positions clamped at the edges.
/// Taps whose weight `g(o)` is 0 in `f64` (`o²/(2σ²) > ~745`) are left out, so a `σ` so small
/// that every neighbour weighs 0 (below about 0.026 positions, down to the smallest
/// subnormal) returns the input exactly, as `σ ≤ 0` does. `σ` is at most [`MAX_BLUR_SIGMA`]
/// positions: the kernel has up to `2⌈3σ⌉ + 1` taps and every position reads all of them; a
/// NaN or infinite `σ`, or one above that, is [`Error::OutOfRange`]. `values` holds one
/// example of `geometry` (`Π d` values, row-major), else [`Error::InvalidSetting`].
///
/// ```
/// use tiled_occlusion_core::metrics::{gaussian_blur, MapGeometry};
/// let g = MapGeometry { example_shape: vec![3], channel_axis: None };
/// // σ = 1/3: weights e^{−4.5}, 1, e^{−4.5} (|o| ≤ 1), edges clamped.
/// let b = gaussian_blur(&[0.0, 3.0, 0.0], &g, 1.0 / 3.0).unwrap();
/// let (e, n) = ((-4.5f64).exp(), 1.0 + 2.0 * (-4.5f64).exp());
/// assert!((b[1] - 3.0 / n).abs() < 1e-12 && (b[0] - 3.0 * e / n).abs() < 1e-12);
/// assert_eq!(gaussian_blur(&[0.0, 3.0, 0.0], &g, 1e-200).unwrap(), [0.0, 3.0, 0.0]);
/// ```
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
    // g(0) is 1 whatever σ: −0/(2σ²) is NaN once 2σ² underflows to 0 (σ below ~1.5e-162).
    let two_variance = 2.0 * sigma * sigma;
    let weight = |o: isize| if o == 0 { 1.0 } else { (-(o * o) as f64 / two_variance).exp() };
    // g decreases with |o|: the taps left are those up to the last one that weighs something.
    let radius = (0..=(3.0 * sigma).ceil() as isize).take_while(|&o| weight(o) > 0.0).last().unwrap_or(0);
    if radius == 0 {
        return Ok(values.to_vec());
    }
    let kernel: Vec<f64> = (-radius..=radius).map(weight).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_sigma_returns_the_input() {
        let geometry = MapGeometry { example_shape: vec![3], channel_axis: None };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for values in [[1.0, 2.0, 3.0], [1.0, f64::INFINITY, 3.0]] {
            // 1e-200 and the smallest subnormal: 2σ² underflows to 0; 0.01: every tap but the
            // centre weighs exp(−5000) = 0, the kernel's radius is 0.
            for sigma in [1e-200, 5e-324, 1e-162, 0.01] {
                let blurred = gaussian_blur(&values, &geometry, sigma).unwrap();
                assert_eq!(bits(&blurred), bits(&values), "σ = {sigma:e}: {blurred:?}");
            }
        }
    }
}
