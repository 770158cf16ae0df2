//! Where the metrics find positions in an example: its shape and channel axis.

use crate::backend::row_major_strides;
use crate::error::{Error, Result};

/// One example's geometry for the metrics: its per-example shape and, optionally, the axis
/// of that shape that holds channels. Positions are the other axes; a position's attribution
/// is the sum over its channels, and perturbing a position perturbs all its channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapGeometry {
    /// `d`, the per-example shape.
    pub example_shape: Vec<usize>,
    /// The channel axis in `d`, if any.
    pub channel_axis: Option<usize>,
}

impl MapGeometry {
    /// The spatial shape: `d` without the channel axis.
    pub fn spatial_shape(&self) -> Vec<usize> {
        self.example_shape.iter().enumerate().filter(|(i, _)| Some(*i) != self.channel_axis).map(|(_, d)| *d).collect()
    }

    pub(crate) fn channels(&self) -> usize {
        self.channel_axis.map_or(1, |c| self.example_shape[c])
    }

    /// For every spatial position (row-major), the flat indices of its elements.
    pub(crate) fn position_elements(&self) -> Vec<Vec<usize>> {
        let strides = row_major_strides(&self.example_shape);
        let spatial_axes: Vec<usize> =
            (0..self.example_shape.len()).filter(|i| Some(*i) != self.channel_axis).collect();
        let spatial = self.spatial_shape();
        let count: usize = spatial.iter().product();
        let spatial_strides = row_major_strides(&spatial);
        (0..count)
            .map(|p| {
                let base: usize = spatial_axes
                    .iter()
                    .enumerate()
                    .map(|(k, &axis)| (p / spatial_strides[k]) % spatial[k] * strides[axis])
                    .sum();
                match self.channel_axis {
                    Some(c) => (0..self.channels()).map(|ch| base + ch * strides[c]).collect(),
                    None => vec![base],
                }
            })
            .collect()
    }

    /// The channel-summed attribution per spatial position.
    pub fn position_sums(&self, attribution: &[f64]) -> Vec<f64> {
        self.position_elements().iter().map(|els| els.iter().map(|&i| attribution[i]).sum()).collect()
    }

    pub(crate) fn check(&self, len: usize, what: &'static str) -> Result<()> {
        let expected = Error::checked_product("the size of MapGeometry::example_shape", &self.example_shape)?;
        if expected == 0 {
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
        if len != expected {
            return Err(Error::InvalidSetting {
                setting: what.into(),
                reason: format!("{len} values for one example of shape {:?} ({expected} expected)", self.example_shape),
            });
        }
        Ok(())
    }
}

/// Positions sorted by decreasing attribution (ties by index).
pub(crate) fn ranking(sums: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sums.len()).collect();
    order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]).then(a.cmp(&b)));
    order
}
