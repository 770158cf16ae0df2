//! Feature masks: which positions FeatureAblation occludes together.

use crate::error::{Error, Result};

/// Integer group ids per position: of the per-example shape `d` (a leading 1 allowed), shared
/// by every example, or of the input's shape `(N, d…)`, one map per example. Row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureMask {
    shape: Vec<usize>,
    ids: Vec<i64>,
}

impl FeatureMask {
    /// A mask of `shape` holding `ids` row-major; an error if the lengths differ.
    pub fn new(shape: impl Into<Vec<usize>>, ids: impl Into<Vec<i64>>) -> Result<Self> {
        let (shape, ids) = (shape.into(), ids.into());
        let expected: usize = shape.iter().product();
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
}
