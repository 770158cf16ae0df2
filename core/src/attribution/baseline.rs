//! Baselines: the values occluded positions take.

use crate::backend::{Backend, BaselineValue, TensorOf};
use crate::error::{Error, Result};

/// What an occluded position is replaced with.
///
/// - `Scalar(v)`: every occluded element becomes `v` (the default is `0`);
/// - `Tensor(b)`: a tensor broadcastable to the input `(N, d…)`: the per-example shape `d`
///   (a leading 1 allowed), one baseline per example `(N, d…)`, or any shape that broadcasts
///   with NumPy's rules, such as a per-channel `(C, 1, 1)` for images.
///
/// Values are used per position: an occluded element at position `p` takes `B[p]`. This is
/// a select, not Captum's blend `X·(1−M) + B·M`, so an occluded `inf` or `NaN` input becomes
/// the baseline rather than `NaN`.
pub enum Baseline<'a, B: Backend> {
    /// One value for every position.
    Scalar(f64),
    /// A tensor broadcastable to the input.
    Tensor(&'a TensorOf<B>),
}

impl<B: Backend> Clone for Baseline<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend> Copy for Baseline<'_, B> {}

impl<B: Backend> std::fmt::Debug for Baseline<'_, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Baseline::Scalar(v) => write!(f, "Baseline::Scalar({v})"),
            Baseline::Tensor(t) => write!(f, "Baseline::Tensor(shape {:?})", B::shape(t)),
        }
    }
}

impl<B: Backend> Default for Baseline<'_, B> {
    fn default() -> Self {
        Baseline::Scalar(0.0)
    }
}

/// A baseline checked against an input, possibly expanded from a broadcastable shape.
pub(crate) enum ResolvedBaseline<'a, B: Backend> {
    Scalar(f64),
    Borrowed { tensor: &'a TensorOf<B>, per_example: bool },
    Owned { tensor: TensorOf<B>, per_example: bool },
}

impl<'a, B: Backend> ResolvedBaseline<'a, B> {
    /// Checks `baseline` against `input` (of shape `input_shape`), expanding a broadcastable
    /// tensor on the host once.
    pub(crate) fn resolve(baseline: &Baseline<'a, B>, input: &TensorOf<B>, input_shape: &[usize]) -> Result<Self> {
        let tensor = match baseline {
            Baseline::Scalar(v) => return Ok(ResolvedBaseline::Scalar(*v)),
            Baseline::Tensor(t) => *t,
        };
        let shape = B::shape(tensor);
        let example_shape = &input_shape[1..];
        let numel: usize = shape.iter().product();
        let error = || Error::BaselineShape { baseline_shape: shape.clone(), input_shape: input_shape.to_vec() };
        if numel == 1 && shape.len() <= input_shape.len() {
            let v = B::to_f64_vec(tensor)?;
            return v.first().map(|v| ResolvedBaseline::Scalar(*v)).ok_or_else(error);
        }
        if shape == example_shape || (shape.first() == Some(&1) && &shape[1..] == example_shape) {
            return Ok(ResolvedBaseline::Borrowed { tensor, per_example: false });
        }
        if shape == input_shape {
            return Ok(ResolvedBaseline::Borrowed { tensor, per_example: true });
        }
        let expanded = broadcast_to(&B::to_f64_vec(tensor)?, &shape, input_shape).ok_or_else(error)?;
        let varies_by_example = shape.len() == input_shape.len() && shape[0] != 1;
        let (target_shape, data) = if varies_by_example {
            (input_shape.to_vec(), expanded)
        } else {
            let size: usize = example_shape.iter().product();
            (example_shape.to_vec(), expanded[..size].to_vec())
        };
        let tensor = B::from_f64_slice(input, &target_shape, &data)?;
        Ok(ResolvedBaseline::Owned { tensor, per_example: varies_by_example })
    }

    /// The baseline as a backend receives it.
    pub(crate) fn value(&self) -> BaselineValue<'_, B> {
        match self {
            ResolvedBaseline::Scalar(v) => BaselineValue::Scalar(*v),
            ResolvedBaseline::Borrowed { tensor, per_example } => Self::tensor_value(tensor, *per_example),
            ResolvedBaseline::Owned { tensor, per_example } => Self::tensor_value(tensor, *per_example),
        }
    }
}

impl<B: Backend> ResolvedBaseline<'_, B> {
    /// The baseline value of every element of an input of `examples` examples of `size`
    /// elements each, on the host, row-major `(N, d…)`.
    pub(crate) fn to_host(&self, examples: usize, size: usize) -> Result<Vec<f64>> {
        let (tensor, per_example) = match self {
            ResolvedBaseline::Scalar(v) => return Ok(vec![*v; examples * size]),
            ResolvedBaseline::Borrowed { tensor, per_example } => (*tensor, *per_example),
            ResolvedBaseline::Owned { tensor, per_example } => (tensor, *per_example),
        };
        let values = B::to_f64_vec(tensor)?;
        if per_example {
            return Ok(values);
        }
        Ok(std::iter::repeat_n(values, examples).flatten().collect())
    }
}

impl<B: Backend> ResolvedBaseline<'_, B> {
    fn tensor_value(tensor: &TensorOf<B>, per_example: bool) -> BaselineValue<'_, B> {
        if per_example {
            BaselineValue::PerExample(tensor)
        } else {
            BaselineValue::PerPosition(tensor)
        }
    }
}

/// Expands row-major `data` of shape `from` to shape `to` with NumPy's broadcasting rules
/// (shapes aligned at the right, size-1 dimensions repeated), or `None` if they do not
/// broadcast or `from` has more dimensions than `to`.
pub(crate) fn broadcast_to(data: &[f64], from: &[usize], to: &[usize]) -> Option<Vec<f64>> {
    if from.len() > to.len() || data.len() != from.iter().product::<usize>() {
        return None;
    }
    let lead = to.len() - from.len();
    let mut aligned = vec![1; lead];
    aligned.extend_from_slice(from);
    if aligned.iter().zip(to).any(|(&f, &t)| f != 1 && f != t) {
        return None;
    }
    let from_strides = crate::backend::row_major_strides(&aligned);
    let size: usize = to.iter().product();
    let mut out = Vec::with_capacity(size);
    let mut index = vec![0usize; to.len()];
    for _ in 0..size {
        let offset: usize =
            index.iter().zip(&aligned).zip(&from_strides).map(|((&i, &f), &s)| if f == 1 { 0 } else { i * s }).sum();
        out.push(data[offset]);
        for r in (0..to.len()).rev() {
            index[r] += 1;
            if index[r] < to[r] {
                break;
            }
            index[r] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::broadcast_to;

    #[test]
    fn broadcasts_per_channel_values() {
        let out = broadcast_to(&[1.0, 2.0], &[2, 1, 1], &[1, 2, 2, 3]).unwrap();
        assert_eq!(out, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        assert!(broadcast_to(&[1.0, 2.0], &[2], &[1, 3]).is_none());
        assert!(broadcast_to(&[1.0], &[1, 1, 1], &[1, 1]).is_none());
    }
}
