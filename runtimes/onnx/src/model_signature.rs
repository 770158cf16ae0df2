//! What an ONNX model declares: its inputs and outputs with their element types and shapes,
//! and the checks that make it usable here (the explained f32 input, the fixed values of the
//! others, the chosen output).

use crate::fixed_input::FixedInput;
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
    /// The name of each symbolic dimension, where the model names it (`Some("N")`), in the
    /// order of `dims` (`None` for numbers and unnamed ones; empty when the rank is unknown).
    pub symbols: Vec<Option<String>>,
}

/// Declared dimensions as messages print them: numbers as they are, `?` where symbolic
/// (`[?, 3, ?]`).
///
/// ```
/// assert_eq!(tiled_occlusion_onnx::declared_text(&[None, Some(3), None]), "[?, 3, ?]");
/// ```
pub fn declared_text(dims: &[Option<usize>]) -> String {
    let dims: Vec<String> = dims.iter().map(|d| d.map_or_else(|| "?".to_string(), |d| d.to_string())).collect();
    format!("[{}]", dims.join(", "))
}

/// How the first input dimension, the batch, is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchDimension {
    /// Symbolic (`N`): any number of rows per call.
    Symbolic,
    /// A fixed number of rows per call (1 for most exported models without a dynamic batch).
    Fixed(usize),
}

impl BatchDimension {
    /// The rows every runtime call must hold: `Some(max(n, 1))` for a fixed batch `n`, `None`
    /// for a symbolic one (any number). (A model declaring a batch of 0 does not load:
    /// [`OnnxError::ZeroBatch`].)
    ///
    /// ```
    /// use tiled_occlusion_onnx::BatchDimension;
    /// assert_eq!(BatchDimension::Fixed(3).fixed_rows(), Some(3));
    /// assert_eq!(BatchDimension::Fixed(0).fixed_rows(), Some(1));
    /// assert_eq!(BatchDimension::Symbolic.fixed_rows(), None);
    /// ```
    pub fn fixed_rows(self) -> Option<usize> {
        match self {
            BatchDimension::Fixed(n) => Some(n.max(1)),
            BatchDimension::Symbolic => None,
        }
    }
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
    /// The index of the input explained: the one named `requested`, or else the only input
    /// without a fixed value. Every other input must be in `fixed` (once, with a value of its
    /// declared type and shape, see [`FixedInput`]); the explained one must hold `f32`.
    pub fn explained_input(&self, requested: Option<&str>, fixed: &[FixedInput]) -> Result<usize, OnnxError> {
        if self.inputs.is_empty() {
            return Err(OnnxError::NoInput);
        }
        let names = || self.inputs.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
        let index_of = |name: &str| {
            self.inputs
                .iter()
                .position(|i| i.name == name)
                .ok_or_else(|| OnnxError::UnknownInput { requested: name.to_string(), available: names() })
        };
        let mut is_fixed = vec![false; self.inputs.len()];
        for f in fixed {
            let i = index_of(&f.name)?;
            if std::mem::replace(&mut is_fixed[i], true) {
                return Err(OnnxError::InputGivenTwice { name: f.name.clone(), reason: "fixed twice" });
            }
        }
        let explained = match requested {
            Some(name) => index_of(name)?,
            None => match (0..self.inputs.len()).filter(|&i| !is_fixed[i]).collect::<Vec<_>>()[..] {
                [i] => i,
                _ => return Err(OnnxError::SeveralInputs { names: names() }),
            },
        };
        let input = &self.inputs[explained];
        if is_fixed[explained] {
            return Err(OnnxError::InputGivenTwice { name: input.name.clone(), reason: "both explained and fixed" });
        }
        if !input.is_f32 {
            return Err(OnnxError::InputNotF32 { name: input.name.clone(), element: input.element.clone() });
        }
        let missing: Vec<String> = (0..self.inputs.len())
            .filter(|&i| i != explained && !is_fixed[i])
            .map(|i| self.inputs[i].name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(OnnxError::InputsWithoutValue { missing, explained: input.name.clone() });
        }
        if input.dims.first() == Some(&Some(0)) {
            return Err(OnnxError::ZeroBatch { name: input.name.clone(), axis: 0 });
        }
        let call = self.call_batch(explained, fixed);
        let batch_symbol = input.symbols.first().and_then(Option::as_deref);
        for f in fixed {
            let declared = &self.inputs[index_of(&f.name)?];
            if let Some(axis) = f.batch_axis.filter(|&a| declared.dims.get(a) == Some(&Some(0))) {
                return Err(OnnxError::ZeroBatch { name: f.name.clone(), axis });
            }
            f.check(declared, call, batch_symbol)?;
        }
        Ok(explained)
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

    /// The rows of every model call, with `explained` the explained input and `fixed` the
    /// others: the explained input's declared batch when it is a number; else the number a
    /// fixed input's batch axis is declared with (its value is repeated to the call's rows,
    /// so the calls must have that many; the first such input decides, and
    /// [`explained_input`](Self::explained_input) refuses one that disagrees); else symbolic.
    pub fn call_batch(&self, explained: usize, fixed: &[FixedInput]) -> BatchDimension {
        if let BatchDimension::Fixed(n) = self.batch(explained) {
            return BatchDimension::Fixed(n);
        }
        fixed
            .iter()
            .find_map(|f| {
                let declared = self.inputs.iter().find(|i| i.name == f.name)?;
                let d = (*declared.dims.get(f.batch_axis?)?)?;
                Some(BatchDimension::Fixed(d))
            })
            .unwrap_or(BatchDimension::Symbolic)
    }

    /// How input `input`'s batch dimension (its first) is declared: symbolic when the rank is
    /// unknown or the input does not exist.
    pub fn batch(&self, input: usize) -> BatchDimension {
        match self.inputs.get(input).and_then(|i| i.dims.first()) {
            Some(Some(n)) => BatchDimension::Fixed(*n),
            _ => BatchDimension::Symbolic,
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::{BatchDimension, ModelSignature, TensorSignature};
    use crate::fixed_input::FixedInput;
    use crate::onnx_error::OnnxError;

    fn tensor(name: &str, element: &str, dims: &[Option<usize>]) -> TensorSignature {
        TensorSignature {
            name: name.into(),
            element: element.into(),
            is_f32: element == "f32",
            dims: dims.to_vec(),
            symbols: vec![None; dims.len()],
        }
    }

    #[test]
    fn inputs_are_checked() {
        let none = ModelSignature { inputs: vec![], outputs: vec![tensor("y", "f32", &[None, Some(3)])] };
        assert!(matches!(none.explained_input(None, &[]), Err(OnnxError::NoInput)));
        let two = ModelSignature {
            inputs: vec![tensor("a", "f32", &[None, Some(3)]), tensor("b", "f32", &[None, Some(3)])],
            outputs: none.outputs.clone(),
        };
        match two.explained_input(None, &[]) {
            Err(e @ OnnxError::SeveralInputs { .. }) => assert!(e.to_string().contains("a, b"), "{e}"),
            other => panic!("{other:?}"),
        }
        let ints = ModelSignature { inputs: vec![tensor("ids", "i64", &[Some(1), Some(8)])], outputs: vec![] };
        assert!(matches!(ints.explained_input(None, &[]), Err(OnnxError::InputNotF32 { .. })));
        let one = ModelSignature { inputs: vec![tensor("x", "f32", &[Some(1), Some(8)])], outputs: vec![] };
        assert_eq!(one.explained_input(None, &[]).ok(), Some(0));
        assert_eq!(one.batch(0), BatchDimension::Fixed(1));
        assert!(matches!(one.output_index(None), Err(OnnxError::NoOutput)));
    }

    #[test]
    fn the_explained_input_is_named_or_the_only_one_without_a_value() {
        let three = ModelSignature {
            inputs: vec![
                tensor("x", "f32", &[None, Some(3)]),
                tensor("extra", "f32", &[None, Some(2)]),
                tensor("gain", "i64", &[Some(1)]),
            ],
            outputs: vec![tensor("y", "f32", &[None, Some(2)])],
        };
        let extra = FixedInput::per_example("extra", ArrayD::<f32>::zeros(IxDyn(&[1, 2])));
        let x = FixedInput::per_example("x", ArrayD::<f32>::zeros(IxDyn(&[1, 3])));
        let gain = FixedInput::whole("gain", ArrayD::from_elem(IxDyn(&[1]), 2i64));
        assert_eq!(three.explained_input(None, &[extra.clone(), gain.clone()]).ok(), Some(0));
        assert_eq!(three.explained_input(Some("extra"), &[x.clone(), gain.clone()]).ok(), Some(1));
        let message = |r: Result<usize, OnnxError>| r.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(message(three.explained_input(None, std::slice::from_ref(&gain))).contains("x, extra, gain"));
        assert!(message(three.explained_input(Some("x"), std::slice::from_ref(&gain)))
            .contains("input extra of the model has no value"));
        assert!(message(three.explained_input(Some("gain"), &[x.clone(), extra.clone()])).contains("holds i64"));
        assert!(message(three.explained_input(Some("x"), &[x.clone(), extra.clone(), gain.clone()]))
            .contains("both explained and fixed"));
        assert!(
            message(three.explained_input(None, &[extra.clone(), extra.clone(), gain.clone()])).contains("fixed twice")
        );
        assert!(message(three.explained_input(Some("z"), &[])).contains("no input named `z`"));
        let wrong = FixedInput::whole("gain", ArrayD::from_elem(IxDyn(&[1]), 2.0f32));
        assert!(message(three.explained_input(None, &[extra, wrong]))
            .contains("holds f32 values but the model declares i64"));
    }

    #[test]
    fn a_fixed_input_declaring_its_batch_sets_the_rows_of_every_call() {
        // A recurrent state (layers, N, hidden) declared with N = 1 next to an input of any batch:
        // every call has 1 row (calls of more rows gave tract a wrong map, ONNX Runtime an error).
        let state = |n: Option<usize>| tensor("state", "f32", &[Some(2), n, Some(3)]);
        let model = |x_batch: Option<usize>, n: Option<usize>| ModelSignature {
            inputs: vec![tensor("x", "f32", &[x_batch, Some(4)]), state(n)],
            outputs: vec![tensor("y", "f32", &[None, Some(2)])],
        };
        let value = FixedInput::per_example("state", ArrayD::<f32>::zeros(IxDyn(&[2, 1, 3]))).with_batch_axis(1);
        let fixed = std::slice::from_ref(&value);
        assert_eq!(model(None, Some(1)).call_batch(0, fixed), BatchDimension::Fixed(1));
        assert_eq!(model(None, Some(1)).explained_input(None, fixed).ok(), Some(0));
        assert_eq!(model(None, None).call_batch(0, fixed), BatchDimension::Symbolic);
        assert_eq!(model(Some(4), Some(4)).call_batch(0, fixed), BatchDimension::Fixed(4));
        assert_eq!(model(Some(4), Some(4)).explained_input(None, fixed).ok(), Some(0));
        // Passed unchanged, its declared size is no batch.
        let whole = FixedInput::whole("state", ArrayD::<f32>::zeros(IxDyn(&[2, 1, 3])));
        assert_eq!(model(None, Some(1)).call_batch(0, std::slice::from_ref(&whole)), BatchDimension::Symbolic);
        // Two declared batches that disagree.
        match model(Some(4), Some(1)).explained_input(None, fixed) {
            Err(e @ OnnxError::FixedInputShape { .. }) => {
                assert!(e.to_string().contains("batch axis 1 is declared 1, but the model's calls have 4 rows"), "{e}")
            }
            other => panic!("{other:?}"),
        }
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
        assert_eq!(s.batch(0), BatchDimension::Symbolic);
    }
}
