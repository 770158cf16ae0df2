//! Attribution maps as pictures: channels summed, outliers clipped as Captum's visualiser
//! does, a signed red–white–green colour map blended over the photo.

use image::{Rgb, RgbImage};
use ndarray::{ArrayD, Axis};

use tiled_occlusion_onnx::Layout;

/// The attribution of one example summed over channels: `(H, W)` values, row-major.
pub fn channel_sum(attribution: &ArrayD<f32>, layout: Layout) -> (usize, usize, Vec<f32>) {
    let example = attribution.index_axis(Axis(0), 0);
    let summed = match layout {
        Layout::Nchw => example.sum_axis(Axis(0)),
        Layout::Nhwc => example.sum_axis(Axis(2)),
    };
    let (h, w) = (summed.shape()[0], summed.shape()[1]);
    (h, w, summed.iter().copied().collect())
}

/// Captum's outlier threshold: the smallest `|a|` such that the sorted `|a|` values up to it
/// hold `100 − outlier_percent` % of the total `Σ|a|`. Maps are divided by it and clipped to
/// `[−1, 1]`, so the largest `outlier_percent` % of the mass saturates.
pub fn outlier_threshold(values: &[f32], outlier_percent: f64) -> f32 {
    let mut sorted: Vec<f64> = values.iter().map(|v| f64::from(v.abs())).filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let total: f64 = sorted.iter().sum();
    if total <= 0.0 {
        return 1.0;
    }
    let target = total * (100.0 - outlier_percent) / 100.0;
    let mut sum = 0.0;
    for v in &sorted {
        sum += v;
        if sum >= target {
            return (*v as f32).max(f32::MIN_POSITIVE);
        }
    }
    sorted.last().map_or(1.0, |v| *v as f32)
}

/// The signed colour of a normalised value `t ∈ [−1, 1]`: red below 0, white at 0, green above.
pub fn signed_colour(t: f32) -> [f32; 3] {
    let t = if t.is_finite() { t.clamp(-1.0, 1.0) } else { 0.0 };
    if t >= 0.0 {
        [255.0 * (1.0 - t), 255.0 - 127.0 * t, 255.0 * (1.0 - t)]
    } else {
        [255.0 - 55.0 * -t, 255.0 * (1.0 + t), 255.0 * (1.0 + t)]
    }
}

/// The heat map of `values` (`h × w`) over `photo` (any size; the map is stretched to it):
/// the photo in grey, the colour map blended at `alpha`.
pub fn overlay(photo: &RgbImage, h: usize, w: usize, values: &[f32], outlier_percent: f64, alpha: f32) -> RgbImage {
    let threshold = outlier_threshold(values, outlier_percent);
    let (pw, ph) = photo.dimensions();
    RgbImage::from_fn(pw, ph, |x, y| {
        let p = photo.get_pixel(x, y);
        let grey = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
        let (my, mx) = ((y as usize * h) / ph as usize, (x as usize * w) / pw as usize);
        let colour = signed_colour(values[my * w + mx] / threshold);
        let mix = |c: f32| (grey * (1.0 - alpha) + c * alpha).round().clamp(0.0, 255.0) as u8;
        Rgb([mix(colour[0]), mix(colour[1]), mix(colour[2])])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_follows_the_cumulative_mass() {
        // |a| = 1, 1, 1, 97: 98% of the mass (98) is reached only at 97.
        assert_eq!(outlier_threshold(&[1.0, -1.0, 1.0, 97.0], 2.0), 97.0);
        // 10 values of 1 and one of 10 (total 20): 50% of the mass is reached at the 10th value 1.
        let mut v = vec![1.0; 10];
        v.push(10.0);
        assert_eq!(outlier_threshold(&v, 50.0), 1.0);
        assert_eq!(outlier_threshold(&[0.0, 0.0], 2.0), 1.0);
    }

    #[test]
    fn colours_are_signed() {
        assert_eq!(signed_colour(0.0), [255.0, 255.0, 255.0]);
        let g = signed_colour(1.0);
        assert!(g[1] > g[0] && g[1] > g[2]);
        let r = signed_colour(-1.0);
        assert!(r[0] > r[1] && r[0] > r[2]);
        assert_eq!(signed_colour(f32::NAN), [255.0, 255.0, 255.0]);
    }
}
