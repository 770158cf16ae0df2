//! Statistics of an attribution map that need no model: smoothness, complexity, sparseness.

use crate::backend::row_major_strides;
use crate::error::{Error, Result};

fn check_len(values: &[f64], shape: &[usize]) -> Result<()> {
    let expected = Error::checked_product("the size of the map's shape", shape)?;
    if values.is_empty() || values.len() != expected {
        return Err(Error::InvalidSetting {
            setting: "map".into(),
            reason: format!("{} values for a map of shape {shape:?} ({expected} expected, at least 1)", values.len()),
        });
    }
    Ok(())
}

/// Normalised total variation of a map of shape `shape` (row-major): the sum of absolute
/// differences between neighbours along every axis, over the total absolute attribution,
/// `TV = Σ_axes Σ |a_{p+e_r} − a_p| / Σ |a_p|` (0 for a constant map; 0 when `Σ|a| = 0`).
/// Smoother maps score lower.
///
/// ```
/// use tiled_occlusion_core::metrics::normalized_total_variation;
/// // [[1, 2], [3, 4]]: horizontal |1−2| + |3−4| = 2, vertical |1−3| + |2−4| = 4, Σ|a| = 10.
/// let tv = normalized_total_variation(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert!((tv - 0.6).abs() < 1e-12);
/// ```
pub fn normalized_total_variation(values: &[f64], shape: &[usize]) -> Result<f64> {
    check_len(values, shape)?;
    let strides = row_major_strides(shape);
    let mut variation = 0.0;
    for (&d, &s) in shape.iter().zip(&strides) {
        for (i, v) in values.iter().enumerate() {
            if (i / s) % d + 1 < d {
                variation += (values[i + s] - v).abs();
            }
        }
    }
    let total: f64 = values.iter().map(|v| v.abs()).sum();
    Ok(if total > 0.0 { variation / total } else { 0.0 })
}

/// Entropy-based complexity: the Shannon entropy (natural log) of the normalised absolute
/// attribution, `H = −Σ p_i ln p_i`, `p_i = |a_i| / Σ|a|` (terms with `p_i = 0` count 0).
/// Between 0 (all mass on one position) and `ln n` (uniform); lower is simpler.
///
/// ```
/// use tiled_occlusion_core::metrics::entropy_complexity;
/// assert_eq!(entropy_complexity(&[0.0, 5.0, 0.0]).unwrap(), 0.0);
/// assert!((entropy_complexity(&[1.0, -1.0, 1.0, -1.0]).unwrap() - 4f64.ln()).abs() < 1e-12);
/// ```
pub fn entropy_complexity(values: &[f64]) -> Result<f64> {
    check_len(values, &[values.len()])?;
    let total: f64 = values.iter().map(|v| v.abs()).sum();
    if total <= 0.0 {
        return Ok(0.0);
    }
    Ok(values.iter().map(|v| v.abs() / total).filter(|p| *p > 0.0).map(|p| -p * p.ln()).sum())
}

/// Gini sparseness of the absolute attribution: with `x` the `|a_i|` sorted ascending
/// (1-based `i`, `n` values), `G = Σ_i (2i − n − 1) x_i / (n Σ x)`. 0 when every position has
/// the same mass, `(n − 1)/n` when one position has it all; higher is sparser.
///
/// ```
/// use tiled_occlusion_core::metrics::gini_sparseness;
/// assert_eq!(gini_sparseness(&[2.0, 2.0, 2.0]).unwrap(), 0.0);
/// assert!((gini_sparseness(&[0.0, 0.0, 0.0, -3.0]).unwrap() - 0.75).abs() < 1e-12);
/// ```
pub fn gini_sparseness(values: &[f64]) -> Result<f64> {
    check_len(values, &[values.len()])?;
    let mut x: Vec<f64> = values.iter().map(|v| v.abs()).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    if total <= 0.0 {
        return Ok(0.0);
    }
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
    }
}
