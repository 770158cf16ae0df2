//! Parameters given once for all dimensions or once per dimension.

use crate::error::{Error, Result};

/// A per-dimension parameter (strides, `k`): one value for every per-example dimension, or
/// one value each.
///
/// ```
/// use tiled_occlusion_core::perturbation::PerDimension;
/// assert_eq!(PerDimension::from(2).resolve("strides", &[1, 3, 4]).unwrap(), [2, 2]);
/// assert_eq!(PerDimension::from([1, 2]).resolve("strides", &[1, 3, 4]).unwrap(), [1, 2]);
/// assert!(PerDimension::from([1, 2, 3]).resolve("strides", &[1, 3, 4]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PerDimension {
    /// The same value in every per-example dimension.
    All(usize),
    /// One value per per-example dimension.
    Each(Vec<usize>),
}

impl PerDimension {
    /// The values for an input of shape `input_shape` (batch first), checked for rank;
    /// `setting` names the setting in the error (`"strides (Occlusion::with_strides)"`).
    pub fn resolve(&self, setting: &str, input_shape: &[usize]) -> Result<Vec<usize>> {
        let rank = input_shape.len().saturating_sub(1);
        match self {
            PerDimension::All(v) => Ok(vec![*v; rank]),
            PerDimension::Each(v) if v.len() == rank => Ok(v.clone()),
            PerDimension::Each(v) => {
                let setting = setting.to_string();
                Err(Error::RankMismatch { setting, got: v.len(), expected: rank, input_shape: input_shape.to_vec() })
            }
        }
    }
}

impl From<usize> for PerDimension {
    fn from(value: usize) -> Self {
        PerDimension::All(value)
    }
}

impl From<Vec<usize>> for PerDimension {
    fn from(values: Vec<usize>) -> Self {
        PerDimension::Each(values)
    }
}

impl From<&[usize]> for PerDimension {
    fn from(values: &[usize]) -> Self {
        PerDimension::Each(values.to_vec())
    }
}

impl<const R: usize> From<[usize; R]> for PerDimension {
    fn from(values: [usize; R]) -> Self {
        PerDimension::Each(values.to_vec())
    }
}

/// Checks that a per-dimension setting `name`, set by `builder`, has one entry per
/// per-example dimension and no 0.
pub(crate) fn check_positive(name: &str, builder: &str, values: &[usize], input_shape: &[usize]) -> Result<()> {
    let rank = input_shape.len() - 1;
    if values.len() != rank {
        return Err(Error::RankMismatch {
            setting: format!("{name} ({builder})"),
            got: values.len(),
            expected: rank,
            input_shape: input_shape.to_vec(),
        });
    }
    match values.iter().position(|&v| v == 0) {
        Some(dim) => Error::check_at_least(format!("{name}[{dim}] ({builder})"), 0, 1),
        None => Ok(()),
    }
}
