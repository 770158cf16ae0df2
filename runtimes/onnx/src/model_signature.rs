//! What an ONNX model declares: its inputs and outputs with their element types and shapes,
//! and the checks that make it usable here (one f32 input; the chosen output).

use crate::onnx_error::OnnxError;

/// One declared input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSignature {
    /// The name in the graph.
    pub name: String,
    /// The element type as the runtime names it (`"f32"`, `"i64"`, …).
    pub element: String,
    /// Whether the elements are `f32`.
    pub is_f32: bool,
    /// The dimensions, `None` where symbolic (empty when the rank is unknown).
    pub dims: Vec<Option<usize>>,
}

/// How the first input dimension, the batch, is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchDimension {
    /// Symbolic (`N`): any number of rows per call.
    Symbolic,
    /// A fixed number of rows per call (1 for most exported models without a dynamic batch).
    Fixed(usize),
}

/// A model's declared inputs and outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSignature {
    /// The inputs, in graph order.
    pub inputs: Vec<TensorSignature>,
    /// The outputs, in graph order.
    pub outputs: Vec<TensorSignature>,
}

impl ModelSignature {
    /// The single `f32` input; an error when there is none, several, or another type.
    pub fn single_input(&self) -> Result<&TensorSignature, OnnxError> {
        match self.inputs.as_slice() {
            [] => Err(OnnxError::NoInput),
            [input] if !input.is_f32 => {
                Err(OnnxError::InputNotF32 { name: input.name.clone(), element: input.element.clone() })
            }
            [input] => Ok(input),
            several => Err(OnnxError::SeveralInputs { names: several.iter().map(|i| i.name.clone()).collect() }),
        }
    }

    /// The index of the output used: the one named `requested`, or the first.
    pub fn output_index(&self, requested: Option<&str>) -> Result<usize, OnnxError> {
        if self.outputs.is_empty() {
            return Err(OnnxError::NoOutput);
        }
        let index = match requested {
            None => 0,
            Some(name) => self.outputs.iter().position(|o| o.name == name).ok_or_else(|| OnnxError::UnknownOutput {
                requested: name.to_string(),
                available: self.outputs.iter().map(|o| o.name.clone()).collect(),
            })?,
        };
        let output = &self.outputs[index];
        if !output.is_f32 {
            return Err(OnnxError::OutputNotF32 { name: output.name.clone(), element: output.element.clone() });
        }
        Ok(index)
    }

    /// How the single input's batch dimension is declared (symbolic when the rank is unknown).
    pub fn batch(&self) -> Result<BatchDimension, OnnxError> {
        Ok(match self.single_input()?.dims.first() {
            Some(Some(n)) => BatchDimension::Fixed(*n),
            _ => BatchDimension::Symbolic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchDimension, ModelSignature, TensorSignature};
    use crate::onnx_error::OnnxError;

    fn tensor(name: &str, element: &str, dims: &[Option<usize>]) -> TensorSignature {
        TensorSignature { name: name.into(), element: element.into(), is_f32: element == "f32", dims: dims.to_vec() }
    }

    #[test]
    fn inputs_are_checked() {
        let none = ModelSignature { inputs: vec![], outputs: vec![tensor("y", "f32", &[None, Some(3)])] };
        assert!(matches!(none.single_input(), Err(OnnxError::NoInput)));
        let two = ModelSignature {
            inputs: vec![tensor("a", "f32", &[None, Some(3)]), tensor("b", "f32", &[None, Some(3)])],
            outputs: none.outputs.clone(),
        };
        match two.single_input() {
            Err(e @ OnnxError::SeveralInputs { .. }) => assert!(e.to_string().contains("a, b"), "{e}"),
            other => panic!("{other:?}"),
        }
        let ints = ModelSignature { inputs: vec![tensor("ids", "i64", &[Some(1), Some(8)])], outputs: vec![] };
        assert!(matches!(ints.single_input(), Err(OnnxError::InputNotF32 { .. })));
        let one = ModelSignature { inputs: vec![tensor("x", "f32", &[Some(1), Some(8)])], outputs: vec![] };
        assert_eq!(one.batch().ok(), Some(BatchDimension::Fixed(1)));
        assert!(matches!(one.output_index(None), Err(OnnxError::NoOutput)));
    }

    #[test]
    fn outputs_are_chosen_by_name_or_first() {
        let s = ModelSignature {
            inputs: vec![tensor("x", "f32", &[None, Some(4)])],
            outputs: vec![
                tensor("logits", "f32", &[None, Some(3)]),
                tensor("ids", "i64", &[None]),
                tensor("probs", "f32", &[None, Some(3)]),
            ],
        };
        assert_eq!(s.output_index(None).ok(), Some(0));
        assert_eq!(s.output_index(Some("probs")).ok(), Some(2));
        assert!(matches!(s.output_index(Some("ids")), Err(OnnxError::OutputNotF32 { .. })));
        match s.output_index(Some("scores")) {
            Err(e @ OnnxError::UnknownOutput { .. }) => assert!(e.to_string().contains("logits, ids, probs"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.batch().ok(), Some(BatchDimension::Symbolic));
    }
}
