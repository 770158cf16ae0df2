//! Feature masks: which positions FeatureAblation occludes together.

use crate::error::{try_with_capacity, Error, Result};

/// How a [`FeatureMask`] applies to an input ([`FeatureMask::layout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskLayout {
    /// One map for every example.
    Shared,
    /// One map per example.
    PerExample,
}

/// Integer group ids per position: of the per-example shape `d` (a leading 1 allowed), shared
/// by every example, or of the input's shape `(N, d…)`, one map per example. Row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureMask {
    shape: Vec<usize>,
    ids: Vec<i64>,
}

impl FeatureMask {
    /// A mask of `shape` holding `ids` row-major; an error if the lengths differ
    /// ([`Error::FeatureMaskLength`]) or the shape's product overflows ([`Error::SizeOverflow`];
    /// it wrapped, and `[2^63, 2]` took an empty list of ids).
    ///
    /// ```
    /// use tiled_occlusion_core::{Error, FeatureMask};
    /// assert!(FeatureMask::new([2, 2], vec![0, 0, 1, 1]).is_ok());
    /// assert!(matches!(FeatureMask::new([1 << 63, 2], vec![]), Err(Error::SizeOverflow { .. })));
    /// ```
    pub fn new(shape: impl Into<Vec<usize>>, ids: impl Into<Vec<i64>>) -> Result<Self> {
        let (shape, ids) = (shape.into(), ids.into());
        let expected = Error::checked_product("the positions of a feature mask", &shape)?;
        if ids.len() != expected {
            return Err(Error::FeatureMaskLength { shape, got: ids.len(), expected });
        }
        Ok(FeatureMask { shape, ids })
    }

    /// The mask's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The ids, row-major.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// How this mask applies to an input of shape `input_shape = (N, d…)`: shared when of
    /// shape `d` or `(1, d…)` (checked first), one map per example when of shape `(N, d…)`,
    /// else [`Error::FeatureMaskShape`].
    pub fn layout(&self, input_shape: &[usize]) -> Result<MaskLayout> {
        let example_shape = input_shape.get(1..).unwrap_or_default();
        if self.shape == example_shape || (self.shape.first() == Some(&1) && self.shape[1..] == *example_shape) {
            Ok(MaskLayout::Shared)
        } else if self.shape == input_shape {
            Ok(MaskLayout::PerExample)
        } else {
            Err(Error::FeatureMaskShape { mask_shape: self.shape.clone(), input_shape: input_shape.to_vec() })
        }
    }

    /// The mask of the input whose every example is repeated `times` times in place: map `n`
    /// becomes maps `[n·times, (n+1)·times)`, shape `(N·times, d…)`.
    pub fn repeat_interleave(&self, times: usize) -> Result<FeatureMask> {
        let Some((&examples, example_shape)) = self.shape.split_first() else {
            return Ok(self.clone());
        };
        let size: usize = example_shape.iter().product();
        let mut shape = vec![Error::checked_product("the rows of a repeated feature mask", &[examples, times])?];
        shape.extend_from_slice(example_shape);
        let values = Error::checked_product("a repeated feature mask", &shape)?;
        let mut ids = try_with_capacity("a repeated feature mask", values, "lower the samples per call")?;
        for map in self.ids.chunks(size.max(1)) {
            for _ in 0..times {
                ids.extend_from_slice(map);
            }
        }
        Ok(FeatureMask { shape, ids })
    }
}
