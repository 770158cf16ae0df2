//! Where the metrics find positions in an example: its shape and channel axis.

use crate::backend::row_major_strides;
use crate::error::{try_with_capacity, Error, Result};

/// One example's geometry for the metrics: its per-example shape and, optionally, the axis
/// of that shape that holds channels. Positions are the other axes; a position's attribution
/// is the sum over its channels, and perturbing a position perturbs all its channels.
///
/// A geometry is valid when `Π d` fits a `usize` and is at least 1 and the channel axis (if
/// any) is an axis of `d`; every metric and method taking one checks it first
/// ([`Error::SizeOverflow`], else [`Error::InvalidSetting`] naming the field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapGeometry {
    /// `d`, the per-example shape.
    pub example_shape: Vec<usize>,
    /// The channel axis in `d`, if any.
    pub channel_axis: Option<usize>,
}

impl MapGeometry {
    /// The spatial shape: `d` without the channel axis. An invalid geometry is an error
    /// ([`Error::SizeOverflow`] when `Π d` does not fit a `usize`, [`Error::InvalidSetting`]
    /// for a `d` without elements or a channel axis outside `d`).
    ///
    /// ```
    /// use tiled_occlusion_core::metrics::MapGeometry;
    /// let g = MapGeometry { example_shape: vec![3, 8, 5], channel_axis: Some(0) };
    /// assert_eq!(g.spatial_shape().unwrap(), [8, 5]);
    /// assert!(MapGeometry { channel_axis: Some(3), ..g }.spatial_shape().is_err());
    /// ```
    pub fn spatial_shape(&self) -> Result<Vec<usize>> {
        self.check_shape()?;
        Ok(self.spatial_axes().map(|a| self.example_shape[a]).collect())
    }

    /// The channel-summed attribution per spatial position `p` (row-major over the spatial
    /// shape): `s_p = Σ_c a[p, c]`, one value per position (the attribution itself without a
    /// channel axis). `attribution` holds one example, `Π d` values row-major: a wrong length
    /// is [`Error::InvalidSetting`], as is an invalid geometry (see [`MapGeometry`]), checked
    /// before anything is allocated. Sums are plain `f64` sums: a NaN or infinite value gives
    /// a NaN or infinite sum.
    ///
    /// ```
    /// use tiled_occlusion_core::metrics::MapGeometry;
    /// // Two channels (axis 0) of two positions: [[0.1, 0.5], [0.2, -0.1]].
    /// let g = MapGeometry { example_shape: vec![2, 2], channel_axis: Some(0) };
    /// let sums = g.position_sums(&[0.1, 0.5, 0.2, -0.1]).unwrap();
    /// assert!((sums[0] - 0.3).abs() < 1e-12 && (sums[1] - 0.4).abs() < 1e-12);
    /// assert!(g.position_sums(&[0.1, 0.5]).is_err());
    /// ```
    pub fn position_sums(&self, attribution: &[f64]) -> Result<Vec<f64>> {
        self.check(attribution.len(), "attribution")?;
        let positions = self.positions()?;
        let mut sums = try_with_capacity("the position sums of a map", positions.len(), SMALLER_MAP)?;
        sums.extend((0..positions.len()).map(|p| positions.elements(p).map(|i| attribution[i]).sum::<f64>()));
        Ok(sums)
    }

    /// The axes of `d` that are not the channel axis.
    fn spatial_axes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.example_shape.len()).filter(|a| Some(*a) != self.channel_axis)
    }

    /// Where every spatial position's elements lie in an example, computed on demand (no
    /// table of `P` lists). The geometry is checked first.
    pub(crate) fn positions(&self) -> Result<Positions> {
        self.check_shape()?;
        let strides = row_major_strides(&self.example_shape);
        let spatial: Vec<usize> = self.spatial_axes().map(|a| self.example_shape[a]).collect();
        let spatial_strides = self.spatial_axes().map(|a| strides[a]).collect();
        // Each factor divides `Π d`, which fits: so do these.
        let count = spatial.iter().product();
        let (channels, channel_stride) = self.channel_axis.map_or((1, 0), |c| (self.example_shape[c], strides[c]));
        Ok(Positions { spatial, spatial_strides, count, channels, channel_stride })
    }

    /// `Π d` when the geometry is valid: `Π d` fits a `usize` and is at least 1, and the
    /// channel axis (if any) is an axis of `d`.
    fn check_shape(&self) -> Result<usize> {
        let size = Error::checked_product("the size of MapGeometry::example_shape", &self.example_shape)?;
        if size == 0 {
            return Err(Error::InvalidSetting {
                setting: "MapGeometry::example_shape".into(),
                reason: format!("{:?} has no element (a dimension of size 0, or no dimension)", self.example_shape),
            });
        }
        if let Some(c) = self.channel_axis.filter(|&c| c >= self.example_shape.len()) {
            return Err(Error::InvalidSetting {
                setting: "MapGeometry::channel_axis".into(),
                reason: format!("axis {c} for an example of shape {:?}", self.example_shape),
            });
        }
        Ok(size)
    }

    /// Checks the geometry and that `len` values (of `what`) are one example of it.
    pub(crate) fn check(&self, len: usize, what: &'static str) -> Result<()> {
        let expected = self.check_shape()?;
        if len != expected {
            return Err(Error::InvalidSetting {
                setting: what.into(),
                reason: format!("{len} values for one example of shape {:?} ({expected} expected)", self.example_shape),
            });
        }
        Ok(())
    }

    /// Checks the geometry and that a model input of shape `shape` is one example of it,
    /// `(1, d…)`.
    pub(crate) fn check_input(&self, shape: &[usize]) -> Result<()> {
        self.check_shape()?;
        if shape.first() != Some(&1) || shape[1..] != self.example_shape[..] {
            return Err(Error::InvalidSetting {
                setting: "input".into(),
                reason: format!(
                    "shape {shape:?} is not one example (1, d…) of MapGeometry::example_shape {:?}",
                    self.example_shape
                ),
            });
        }
        Ok(())
    }
}

/// What to change when a buffer the size of one map cannot be allocated.
pub(crate) const SMALLER_MAP: &str = "use a smaller example";

/// The elements of every spatial position of a valid [`MapGeometry`], computed on demand.
pub(crate) struct Positions {
    /// The spatial shape.
    spatial: Vec<usize>,
    /// The example's stride of each spatial axis.
    spatial_strides: Vec<usize>,
    /// `P = Π spatial`.
    count: usize,
    /// Channels per position (1 without a channel axis).
    channels: usize,
    /// The example's stride of the channel axis (0 without one).
    channel_stride: usize,
}

impl Positions {
    /// `P`, the number of spatial positions.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The spatial shape.
    pub(crate) fn spatial(&self) -> &[usize] {
        &self.spatial
    }

    /// The flat indices in the example of position `p < P`'s elements, one per channel.
    pub(crate) fn elements(&self, p: usize) -> impl Iterator<Item = usize> + '_ {
        let mut rest = p;
        let mut base = 0;
        for (&d, &s) in self.spatial.iter().zip(&self.spatial_strides).rev() {
            base += rest % d * s;
            rest /= d;
        }
        (0..self.channels).map(move |c| base + c * self.channel_stride)
    }
}

/// Checks that every value of a map (`what`: `"attribution"`, `"map"`) is finite: a NaN or
/// infinite attribution ranks, sums and normalises to no meaningful number, so every metric
/// of it is [`Error::InvalidSetting`], naming the first such value and how many there are.
pub(crate) fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    if let Some(first) = values.iter().position(|v| !v.is_finite()) {
        let count = values.iter().filter(|v| !v.is_finite()).count();
        return Err(Error::InvalidSetting {
            setting: what.into(),
            reason: format!(
                "value {first} is {} ({count} of its {} values are NaN or infinite); a metric needs finite attributions",
                values[first],
                values.len()
            ),
        });
    }
    Ok(())
}

/// Positions sorted by decreasing attribution (ties by index).
pub(crate) fn ranking(sums: &[f64]) -> Result<Vec<usize>> {
    let mut order = try_with_capacity("the ranking of a map's positions", sums.len(), SMALLER_MAP)?;
    order.extend(0..sums.len());
    order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]).then(a.cmp(&b)));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_setting<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Err(Error::InvalidSetting { setting, .. }) => setting,
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }

    #[test]
    fn position_sums_checks_its_arguments() {
        let g = MapGeometry { example_shape: vec![4, 4], channel_axis: None };
        assert_eq!(invalid_setting(g.position_sums(&[1.0])), "attribution");
        assert_eq!(invalid_setting(g.position_sums(&[1.0; 17])), "attribution");
        let g = MapGeometry { example_shape: vec![4, 4], channel_axis: Some(5) };
        assert_eq!(invalid_setting(g.position_sums(&[1.0; 16])), "MapGeometry::channel_axis");
        assert_eq!(invalid_setting(g.spatial_shape()), "MapGeometry::channel_axis");
        let g = MapGeometry { example_shape: vec![4, 0], channel_axis: None };
        assert_eq!(invalid_setting(g.position_sums(&[])), "MapGeometry::example_shape");
        assert_eq!(invalid_setting(g.spatial_shape()), "MapGeometry::example_shape");
        let g = MapGeometry { example_shape: vec![usize::MAX, 3], channel_axis: None };
        assert!(matches!(g.position_sums(&[1.0]), Err(Error::SizeOverflow { .. })));
        assert!(matches!(g.spatial_shape(), Err(Error::SizeOverflow { .. })));
    }

    #[test]
    fn a_huge_shape_is_checked_before_allocating() {
        // 2^40 positions: their table was built (and the allocation aborted) before any check.
        let g = MapGeometry { example_shape: vec![1 << 40], channel_axis: None };
        assert_eq!(invalid_setting(g.position_sums(&[1.0; 4])), "attribution");
        assert_eq!(g.spatial_shape().unwrap(), [1 << 40]);
    }

    #[test]
    fn position_sums_by_hand() {
        // Shape (2, 3, 2) with channels on axis 1: position (i, k) sums a[i, c, k] over c.
        let g = MapGeometry { example_shape: vec![2, 3, 2], channel_axis: Some(1) };
        let a: Vec<f64> = (0..12).map(f64::from).collect();
        assert_eq!(g.position_sums(&a).unwrap(), [6.0, 9.0, 24.0, 27.0]);
        assert_eq!(g.spatial_shape().unwrap(), [2, 2]);
        let flat = MapGeometry { example_shape: vec![2, 3], channel_axis: None };
        assert_eq!(flat.position_sums(&a[..6]).unwrap(), a[..6]);
    }

    #[test]
    fn non_finite_values_are_named() {
        assert!(check_finite("map", &[1.0, -2.0]).is_ok());
        match check_finite("map", &[1.0, f64::NAN, f64::INFINITY]) {
            Err(Error::InvalidSetting { setting, reason }) => {
                assert_eq!(setting, "map");
                assert!(reason.starts_with("value 1 is NaN (2 of its 3 values"), "{reason}");
            }
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }
}
