//! Statistics of an attribution map that need no model: smoothness, complexity, sparseness.
//!
//! Each takes a map of finite values: a NaN or infinite value has no place in a ranking, a
//! sum or a normalisation, so a map holding one is [`Error::InvalidSetting`] naming the
//! first such value (as the curves refuse such an attribution), never a number computed
//! around it. The statistics do not change when the map is scaled (`a → c·a`, `c > 0`), and
//! they are computed on `a / 2^k` with `2^k ≤ max|a|` (an exact division), so a finite map
//! whose sums would overflow `f64` still gets its value.

use crate::backend::row_major_strides;
use crate::error::{try_with_capacity, Error, Result};
use crate::metrics::geometry::check_finite;

/// Checks that `values` is a non-empty map of `shape` with finite values, and returns
/// `max |a|`.
fn check_map(values: &[f64], shape: &[usize]) -> Result<f64> {
    let expected = Error::checked_product("the size of the map's shape", shape)?;
    if values.is_empty() || values.len() != expected {
        return Err(Error::InvalidSetting {
            setting: "map".into(),
            reason: format!("{} values for a map of shape {shape:?} ({expected} expected, at least 1)", values.len()),
        });
    }
    check_finite("map", values)?;
    Ok(values.iter().fold(0.0, |m: f64, v| m.max(v.abs())))
}

/// The power of two the statistics divide the map by, from `max |a|`: `2^⌊log2 max⌋` when
/// `max ≥ 1` (so `max / scale ∈ [1, 2)` and no sum overflows), else 1. Dividing by a power of
/// two is exact (but for values below `2^−1022·scale`, which weigh nothing next to `max`), so
/// every statistic of a map whose sums fit is what it is unscaled, bit for bit.
fn scale_of(max: f64) -> f64 {
    if max >= 1.0 {
        // The exponent bits alone: the largest power of two ≤ max (max is finite).
        f64::from_bits(max.to_bits() & (0x7ff << 52))
    } else {
        1.0
    }
}

/// Normalised total variation of a map of shape `shape` (row-major): the sum of absolute
/// differences between neighbours along every axis, over the total absolute attribution,
/// `TV = Σ_axes Σ |a_{p+e_r} − a_p| / Σ |a_p|` (0 for a constant map; 0 when `Σ|a| = 0`).
/// Smoother maps score lower. A wrong length, an empty map or a NaN or infinite value is
/// [`Error::InvalidSetting`]; a shape whose size overflows is [`Error::SizeOverflow`].
///
/// ```
/// use tiled_occlusion_core::metrics::normalized_total_variation;
/// // [[1, 2], [3, 4]]: horizontal |1−2| + |3−4| = 2, vertical |1−3| + |2−4| = 4, Σ|a| = 10.
/// let tv = normalized_total_variation(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert!((tv - 0.6).abs() < 1e-12);
/// assert!(normalized_total_variation(&[f64::NAN, 1.0], &[2]).is_err());
/// ```
pub fn normalized_total_variation(values: &[f64], shape: &[usize]) -> Result<f64> {
    let max = check_map(values, shape)?;
    if max == 0.0 {
        return Ok(0.0);
    }
    let scale = scale_of(max);
    let strides = row_major_strides(shape);
    let mut variation = 0.0;
    for (&d, &s) in shape.iter().zip(&strides) {
        for (i, v) in values.iter().enumerate() {
            if (i / s) % d + 1 < d {
                variation += (values[i + s] / scale - v / scale).abs();
            }
        }
    }
    let total: f64 = values.iter().map(|v| (v / scale).abs()).sum();
    Ok(variation / total)
}

/// Entropy-based complexity: the Shannon entropy (natural log) of the normalised absolute
/// attribution, `H = −Σ p_i ln p_i`, `p_i = |a_i| / Σ|a|` (terms with `p_i = 0` count 0; 0
/// when `Σ|a| = 0`). Between 0 (all mass on one position) and `ln n` (uniform); lower is
/// simpler. An empty map or a NaN or infinite value is [`Error::InvalidSetting`].
///
/// ```
/// use tiled_occlusion_core::metrics::entropy_complexity;
/// assert_eq!(entropy_complexity(&[0.0, 5.0, 0.0]).unwrap(), 0.0);
/// assert!((entropy_complexity(&[1.0, -1.0, 1.0, -1.0]).unwrap() - 4f64.ln()).abs() < 1e-12);
/// assert!(entropy_complexity(&[f64::INFINITY, 1.0]).is_err());
/// ```
pub fn entropy_complexity(values: &[f64]) -> Result<f64> {
    let max = check_map(values, &[values.len()])?;
    if max == 0.0 {
        return Ok(0.0);
    }
    let scale = scale_of(max);
    let total: f64 = values.iter().map(|v| (v / scale).abs()).sum();
    let h: f64 = values.iter().map(|v| (v / scale).abs() / total).filter(|p| *p > 0.0).map(|p| -p * p.ln()).sum();
    // +0 rather than −0 when one position holds all the mass.
    Ok(h + 0.0)
}

/// Gini sparseness of the absolute attribution: with `x` the `|a_i|` sorted ascending
/// (1-based `i`, `n` values), `G = Σ_i (2i − n − 1) x_i / (n Σ x)`. 0 when every position has
/// the same mass (and when `Σ x = 0`), `(n − 1)/n` when one position has it all; higher is
/// sparser. An empty map or a NaN or infinite value is [`Error::InvalidSetting`].
///
/// ```
/// use tiled_occlusion_core::metrics::gini_sparseness;
/// assert_eq!(gini_sparseness(&[2.0, 2.0, 2.0]).unwrap(), 0.0);
/// assert!((gini_sparseness(&[0.0, 0.0, 0.0, -3.0]).unwrap() - 0.75).abs() < 1e-12);
/// assert!(gini_sparseness(&[f64::NAN, 1.0]).is_err());
/// ```
pub fn gini_sparseness(values: &[f64]) -> Result<f64> {
    let max = check_map(values, &[values.len()])?;
    if max == 0.0 {
        return Ok(0.0);
    }
    let scale = scale_of(max);
    let mut x = try_with_capacity("a sorted copy of the map", values.len(), "use a smaller map")?;
    x.extend(values.iter().map(|v| (v / scale).abs()));
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    let weighted: f64 = x.iter().enumerate().map(|(i, v)| (2.0 * (i as f64 + 1.0) - n - 1.0) * v).sum();
    Ok(weighted / (n * total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_variation_by_hand() {
        // 1-D [0, 3, 1]: |3−0| + |1−3| = 5 over Σ|a| = 4.
        assert!((normalized_total_variation(&[0.0, 3.0, 1.0], &[3]).unwrap() - 1.25).abs() < 1e-12);
        // 3-D 2×1×2 [[[1, 1]], [[1, 1]]]: constant → 0.
        assert_eq!(normalized_total_variation(&[1.0; 4], &[2, 1, 2]).unwrap(), 0.0);
        assert_eq!(normalized_total_variation(&[0.0; 4], &[2, 2]).unwrap(), 0.0);
        assert!(normalized_total_variation(&[1.0; 3], &[2, 2]).is_err());
    }

    #[test]
    fn gini_by_hand() {
        // |a| = [1, 2, 3] sorted: (−2·1 + 0·2 + 2·3) / (3·6) = 4/18.
        assert!((gini_sparseness(&[3.0, -1.0, 2.0]).unwrap() - 4.0 / 18.0).abs() < 1e-12);
        assert!(gini_sparseness(&[]).is_err());
    }

    #[test]
    fn entropy_by_hand() {
        // p = [0.25, 0.75]: −(0.25 ln 0.25 + 0.75 ln 0.75).
        let h = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((entropy_complexity(&[1.0, 3.0]).unwrap() - h).abs() < 1e-12);
        // All the mass on one position: +0, not −0.
        assert_eq!(entropy_complexity(&[0.0, -2.0]).unwrap().to_bits(), 0f64.to_bits());
    }

    #[test]
    fn non_finite_maps_are_errors() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let map = [1.0, bad];
            let results = [normalized_total_variation(&map, &[2]), entropy_complexity(&map), gini_sparseness(&map)];
            for (statistic, result) in ["total variation", "entropy", "Gini"].iter().zip(results) {
                match result {
                    Err(Error::InvalidSetting { setting, reason }) => {
                        assert_eq!(setting, "map");
                        assert!(reason.contains("value 1"), "{reason}");
                    }
                    other => panic!("{statistic} of {map:?}: expected InvalidSetting, got {other:?}"),
                }
            }
        }
    }

    #[test]
    fn scaling_is_exact() {
        assert_eq!((scale_of(0.5), scale_of(1.0), scale_of(3.0), scale_of(1e308)), (1.0, 1.0, 2.0, 2f64.powi(1023)));
        // [[0, 1, 2, 3], [4, …, 7], [8, …, 11], [12, …, 15]]: 12 + 48 over 120, as unscaled.
        let map: Vec<f64> = (0..16).map(f64::from).collect();
        assert_eq!(normalized_total_variation(&map, &[4, 4]).unwrap(), 60.0 / 120.0);
    }

    #[test]
    fn huge_finite_values_do_not_overflow() {
        // Σ|a| overflows f64: the statistics are scale-free, so they are computed on a / 2^1023.
        let m = 1e308;
        assert_eq!(normalized_total_variation(&[m, -m], &[2]).unwrap(), 1.0);
        assert!((entropy_complexity(&[m, m]).unwrap() - 2f64.ln()).abs() < 1e-12);
        assert!((gini_sparseness(&[0.0, m, m, m]).unwrap() - 0.25).abs() < 1e-12);
    }
}
