//! The inputs of a several-input model that are held at one value while another is explained
//! (Captum's "additional forward arguments"): their values, how they follow the rows of a call,
//! and the checks against what the model declares.

use std::borrow::Cow;

use ndarray::ArrayD;

use crate::model_signature::{BatchDimension, TensorSignature};
use crate::onnx_error::OnnxError;

/// The value of a [`FixedInput`]: `f32` or `i64` elements (the types ONNX models take for
/// features, states, sample rates and token ids).
#[derive(Clone, Debug)]
pub enum FixedValue {
    /// `f32` elements.
    F32(ArrayD<f32>),
    /// `i64` elements.
    I64(ArrayD<i64>),
}

impl FixedValue {
    /// The element type as the model signatures name it (`"f32"`, `"i64"`).
    pub fn element(&self) -> &'static str {
        match self {
            FixedValue::F32(_) => "f32",
            FixedValue::I64(_) => "i64",
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            FixedValue::F32(a) => a.shape(),
            FixedValue::I64(a) => a.shape(),
        }
    }
}

impl From<ArrayD<f32>> for FixedValue {
    fn from(value: ArrayD<f32>) -> Self {
        FixedValue::F32(value)
    }
}

impl From<ArrayD<i64>> for FixedValue {
    fn from(value: ArrayD<i64>) -> Self {
        FixedValue::I64(value)
    }
}

/// An input of the model held at one value in every call while another input is explained.
///
/// With a batch axis ([`FixedInput::per_example`], [`FixedInput::with_batch_axis`]) the value
/// is given for one example (that axis has size 1) and repeated along it to the rows of each
/// call, so every row, perturbed or not, sees the same value. Without one
/// ([`FixedInput::whole`]) it is passed as it is (a sample rate, a constant table).
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use tiled_occlusion_onnx::FixedInput;
///
/// // A recurrent state (2, N, 128): batch on axis 1; a sample rate: no batch at all.
/// let state = FixedInput::per_example("state", ArrayD::<f32>::zeros(IxDyn(&[2, 1, 128]))).with_batch_axis(1);
/// let rate = FixedInput::whole("sr", ArrayD::from_elem(IxDyn(&[]), 16_000i64));
/// assert_eq!((state.batch_axis, rate.batch_axis), (Some(1), None));
/// ```
#[derive(Clone, Debug)]
pub struct FixedInput {
    /// The input's name in the graph.
    pub name: String,
    /// Its value.
    pub value: FixedValue,
    /// The axis repeated to the rows of a call (`None`: passed unchanged).
    pub batch_axis: Option<usize>,
}

/// Equal when names, axes, element types, shapes and the bits of every element are equal
/// (so `NaN` values compare equal to themselves).
impl PartialEq for FixedInput {
    fn eq(&self, other: &Self) -> bool {
        let values = match (&self.value, &other.value) {
            (FixedValue::F32(a), FixedValue::F32(b)) => {
                a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (FixedValue::I64(a), FixedValue::I64(b)) => a == b,
            _ => false,
        };
        self.name == other.name && self.batch_axis == other.batch_axis && values
    }
}

impl Eq for FixedInput {}

/// One input of a runtime call: its shape and elements, in graph order.
pub(crate) struct CallInput<'a> {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: CallData<'a>,
}

/// The elements of a [`CallInput`].
pub(crate) enum CallData<'a> {
    F32(Cow<'a, [f32]>),
    I64(Cow<'a, [i64]>),
}

/// `data` of shape `(outer, 1, inner)` repeated `rows` times along the middle axis.
fn repeat_axis<T: Copy>(data: &[T], outer: usize, inner: usize, rows: usize) -> Result<Vec<T>, OnnxError> {
    let total = data.len().checked_mul(rows).ok_or(OnnxError::SizeOverflow { shape: vec![data.len(), rows] })?;
    let mut out = Vec::new();
    out.try_reserve_exact(total).map_err(|_| OnnxError::SizeOverflow { shape: vec![data.len(), rows] })?;
    for block in data.chunks(inner.max(1)).take(outer) {
        for _ in 0..rows {
            out.extend_from_slice(block);
        }
    }
    Ok(out)
}

impl FixedInput {
    /// The input `name` at `value` for one example, repeated along axis 0 to the rows of each
    /// call (axis 0 of `value` must have size 1).
    pub fn per_example(name: impl Into<String>, value: impl Into<FixedValue>) -> FixedInput {
        FixedInput { name: name.into(), value: value.into(), batch_axis: Some(0) }
    }

    /// The input `name` at `value` in every call, unchanged whatever the rows of the call.
    pub fn whole(name: impl Into<String>, value: impl Into<FixedValue>) -> FixedInput {
        FixedInput { name: name.into(), value: value.into(), batch_axis: None }
    }

    /// Repeats along `axis` instead (for inputs whose batch is not the first axis, such as a
    /// recurrent state `(layers, N, hidden)`).
    pub fn with_batch_axis(mut self, axis: usize) -> FixedInput {
        self.batch_axis = Some(axis);
        self
    }

    /// Checks the value against the declared input: the element type, the rank, every
    /// declared dimension but the batch axis, and a batch axis of size 1. A batch axis the
    /// model declares as a number `d` is repeated to every call's rows, so it needs calls of
    /// exactly `d` rows: `call_batch` ([`ModelSignature::call_batch`](crate::ModelSignature::call_batch))
    /// must be `d`. A value passed whole may not have an axis declared with `batch_symbol`, the
    /// symbol of the explained input's batch (that axis follows every call's rows), unless the
    /// calls' rows are fixed at its size.
    pub(crate) fn check(
        &self,
        declared: &TensorSignature,
        call_batch: BatchDimension,
        batch_symbol: Option<&str>,
    ) -> Result<(), OnnxError> {
        let given = self.value.element();
        if declared.element != given && !(given == "f32" && declared.is_f32) {
            return Err(OnnxError::FixedInputType {
                name: self.name.clone(),
                declared: declared.element.clone(),
                given: given.to_string(),
            });
        }
        let shape = self.value.shape();
        let refuse = |reason: String| OnnxError::FixedInputShape {
            name: self.name.clone(),
            shape: shape.to_vec(),
            declared: declared.dims.clone(),
            reason,
        };
        if let Some(axis) = self.batch_axis {
            match shape.get(axis) {
                None => return Err(refuse(format!("it has no axis {axis} to repeat as the batch"))),
                Some(&n) if n != 1 => {
                    return Err(refuse(format!(
                        "its batch axis {axis} has size {n}; give the value for one example (size 1)"
                    )))
                }
                Some(_) => {}
            }
        }
        if declared.dims.is_empty() {
            return Ok(()); // rank undeclared: the runtime checks it when the model runs
        }
        if declared.dims.len() != shape.len() {
            return Err(refuse(format!(
                "the model declares rank {}, the value has rank {}",
                declared.dims.len(),
                shape.len()
            )));
        }
        for (axis, (&d, &s)) in declared.dims.iter().zip(shape).enumerate() {
            if Some(axis) == self.batch_axis {
                if let Some(d) = d.filter(|&d| call_batch != BatchDimension::Fixed(d)) {
                    let rows = call_batch.fixed_rows().map_or_else(|| "any number of".to_string(), |n| n.to_string());
                    return Err(refuse(format!(
                        "its batch axis {axis} is declared {d}, but the model's calls have {rows} rows (the explained input's or another fixed input's declared batch): pass it unchanged (@none) if it is not per example"
                    )));
                }
            } else if d.is_some_and(|d| d != s) {
                return Err(refuse(format!("axis {axis} is declared {} but has size {s}", d.unwrap_or(0))));
            } else if let Some(symbol) = batch_symbol.filter(|b| {
                self.batch_axis.is_none() && declared.symbols.get(axis).is_some_and(|s| s.as_deref() == Some(*b))
            }) {
                if call_batch != BatchDimension::Fixed(s) {
                    return Err(refuse(format!(
                        "its axis {axis} is declared `{symbol}`, the explained input's batch, so it follows the rows of each call; passed whole it keeps size {s}: give it for one example (size 1) repeated along axis {axis} (with_batch_axis({axis}), @{axis})"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The shape of the value in a call of `rows` rows.
    pub(crate) fn shape_at(&self, rows: usize) -> Vec<usize> {
        let mut shape = self.value.shape().to_vec();
        if let Some(axis) = self.batch_axis {
            shape[axis] = rows;
        }
        shape
    }

    /// The value in a call of `rows` rows (borrowed when nothing is repeated).
    pub(crate) fn at_rows(&self, rows: usize) -> Result<CallInput<'_>, OnnxError> {
        let shape = self.value.shape();
        let (outer, inner) = match self.batch_axis {
            Some(axis) => (shape[..axis].iter().product::<usize>(), shape[axis + 1..].iter().product::<usize>()),
            None => (1, 1),
        };
        let repeat = self.batch_axis.is_some() && rows != 1;
        fn elements<T: Copy>(
            a: &ArrayD<T>,
            repeat: bool,
            outer: usize,
            inner: usize,
            rows: usize,
        ) -> Result<Cow<'_, [T]>, OnnxError> {
            let plain: Cow<'_, [T]> = match a.as_slice() {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(a.iter().copied().collect()),
            };
            if repeat {
                Ok(Cow::Owned(repeat_axis(&plain, outer, inner, rows)?))
            } else {
                Ok(plain)
            }
        }
        let data = match &self.value {
            FixedValue::F32(a) => CallData::F32(elements(a, repeat, outer, inner, rows)?),
            FixedValue::I64(a) => CallData::I64(elements(a, repeat, outer, inner, rows)?),
        };
        Ok(CallInput { shape: self.shape_at(rows), data })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::{CallData, FixedInput};
    use crate::model_signature::{BatchDimension, TensorSignature};
    use crate::onnx_error::OnnxError;

    fn declared(element: &str, dims: &[Option<usize>]) -> TensorSignature {
        TensorSignature {
            name: "s".into(),
            element: element.into(),
            is_f32: element == "f32",
            dims: dims.to_vec(),
            symbols: vec![None; dims.len()],
        }
    }

    #[test]
    fn a_middle_batch_axis_repeats_each_block() {
        // (2, 1, 3) = [[0, 1, 2]], [[3, 4, 5]] repeated to 2 rows on axis 1.
        let value = ArrayD::from_shape_vec(IxDyn(&[2, 1, 3]), (0..6).map(|v| v as f32).collect()).unwrap();
        let fixed = FixedInput::per_example("s", value).with_batch_axis(1);
        let call = fixed.at_rows(2).unwrap();
        assert_eq!(call.shape, [2, 2, 3]);
        match call.data {
            CallData::F32(v) => assert_eq!(&*v, [0., 1., 2., 0., 1., 2., 3., 4., 5., 3., 4., 5.]),
            CallData::I64(_) => panic!("f32 expected"),
        }
        let whole = FixedInput::whole("sr", ArrayD::from_elem(IxDyn(&[1]), 8000i64));
        assert_eq!(whole.at_rows(7).unwrap().shape, [1]);
    }

    #[test]
    fn types_ranks_dimensions_and_batch_sizes_are_checked() {
        let f = |shape: &[usize]| FixedInput::per_example("s", ArrayD::<f32>::zeros(IxDyn(shape)));
        let any = BatchDimension::Symbolic;
        assert!(f(&[1, 3]).check(&declared("f32", &[None, Some(3)]), any, None).is_ok());
        // A batch axis declared as a number fits calls of exactly that many rows.
        assert!(f(&[1, 3]).check(&declared("f32", &[Some(1), Some(3)]), BatchDimension::Fixed(1), None).is_ok());
        assert!(f(&[2, 1, 3])
            .with_batch_axis(1)
            .check(&declared("f32", &[Some(2), Some(4), None]), BatchDimension::Fixed(4), None)
            .is_ok());
        let errors = [
            f(&[1, 3]).check(&declared("i64", &[None, Some(3)]), any, None),
            f(&[1, 4]).check(&declared("f32", &[None, Some(3)]), any, None),
            f(&[2, 3]).check(&declared("f32", &[None, Some(3)]), any, None),
            f(&[1, 3, 1]).check(&declared("f32", &[None, Some(3)]), any, None),
            f(&[3]).with_batch_axis(1).check(&declared("f32", &[None]), any, None),
            // A batch axis declared as a number the calls' rows are not.
            f(&[1, 3]).check(&declared("f32", &[Some(1), Some(3)]), any, None),
            f(&[2, 1, 3]).with_batch_axis(1).check(
                &declared("f32", &[Some(2), Some(1), None]),
                BatchDimension::Fixed(8),
                None,
            ),
        ];
        for e in errors {
            match e {
                Err(e @ (OnnxError::FixedInputType { .. } | OnnxError::FixedInputShape { .. })) => {
                    assert!(e.to_string().contains("`s`"), "{e}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
