//! The model on tract: parsed, fixed to `rows` examples of the decided shape (and the fixed
//! inputs to their values), optimised, and
//! run from any number of threads at once (tract's plan is shared; each run has its own state).

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::declared_dims::check_negative_dims;
use crate::fixed_input::{CallData, FixedInput};
use crate::model_signature::{ModelSignature, TensorSignature};
use crate::onnx_error::OnnxError;
use crate::runtime_choice::Runtime;

/// A parsed model, before its input is fixed.
pub(crate) struct TractGraph {
    model: InferenceModel,
}

/// An optimised plan taking `rows` examples per run.
pub(crate) struct TractPlan {
    plan: Arc<TypedRunnableModel>,
    /// The rows of every run.
    pub(crate) rows: usize,
    /// The graph index of the explained input.
    explained: usize,
    /// Every input's value at `rows` rows, in graph order (`None` for the explained one).
    values: Vec<Option<TValue>>,
}

fn failure(action: &'static str, reason: impl ToString) -> OnnxError {
    OnnxError::Runtime { runtime: Runtime::Tract, action, reason: reason.to_string() }
}

/// The declared input or output (`kind`) at `outlet`; a negative dimension is an
/// [`OnnxError::NegativeDimension`].
fn tensor_signature(
    model: &InferenceModel,
    outlet: OutletId,
    name: String,
    kind: &'static str,
) -> Result<TensorSignature, OnnxError> {
    let Ok(fact) = model.outlet_fact(outlet) else {
        return Ok(TensorSignature {
            name,
            element: "unknown".into(),
            is_f32: true,
            dims: Vec::new(),
            symbols: Vec::new(),
        });
    };
    let datum = fact.datum_type.concretize();
    let mut dims = Vec::new();
    let mut symbols = Vec::new();
    for (axis, d) in fact.shape.dims().enumerate() {
        let d = d.concretize();
        match d.as_ref().and_then(|d| d.as_i64()) {
            Some(value) if value < 0 => return Err(OnnxError::NegativeDimension { kind, name, axis, value }),
            Some(value) => {
                dims.push(usize::try_from(value).ok());
                symbols.push(None);
            }
            None => {
                dims.push(None);
                symbols.push(match d {
                    Some(TDim::Sym(symbol)) => Some(symbol.to_string()),
                    _ => None,
                });
            }
        }
    }
    Ok(TensorSignature {
        name,
        element: datum.map_or_else(|| "unknown".to_string(), |d| format!("{d:?}").to_lowercase()),
        // An undeclared element type is checked when the model runs.
        is_f32: datum.is_none_or(|d| d == f32::datum_type()),
        dims,
        symbols,
    })
}

impl TractGraph {
    /// Parses the model at `path`.
    pub(crate) fn read(path: &Path) -> Result<TractGraph, OnnxError> {
        let bytes = std::fs::read(path).map_err(|e| OnnxError::UnreadableModel {
            path: path.to_path_buf(),
            runtime: Runtime::Tract,
            reason: e.to_string(),
        })?;
        check_negative_dims(&bytes)?;
        drop(bytes);
        let model = tract_onnx::onnx().model_for_path(path).map_err(|e| OnnxError::UnreadableModel {
            path: path.to_path_buf(),
            runtime: Runtime::Tract,
            reason: format!("{e:#}"),
        })?;
        Ok(TractGraph { model })
    }

    /// The declared inputs and outputs (a negative dimension is an
    /// [`OnnxError::NegativeDimension`]).
    pub(crate) fn signature(&self) -> Result<ModelSignature, OnnxError> {
        let m = &self.model;
        let inputs = m.input_outlets().map(|o| o.to_vec()).unwrap_or_default();
        let outputs = m.output_outlets().map(|o| o.to_vec()).unwrap_or_default();
        Ok(ModelSignature {
            inputs: inputs
                .iter()
                .map(|&o| tensor_signature(m, o, m.node(o.node).name.clone(), "input"))
                .collect::<Result<_, _>>()?,
            outputs: outputs
                .iter()
                .map(|&o| {
                    let name = m.outlet_label(o).map_or_else(|| m.node(o.node).name.clone(), str::to_string);
                    tensor_signature(m, o, name, "output")
                })
                .collect::<Result<_, _>>()?,
        })
    }

    /// Keeps output `output` only, fixes input `explained` to `(rows, example…)` and each fixed
    /// input (with its graph index) to its value at `rows` rows, and optimises.
    pub(crate) fn into_plan(
        self,
        output: usize,
        explained: usize,
        example: &[usize],
        rows: usize,
        fixed: &[(usize, &FixedInput)],
    ) -> Result<TractPlan, OnnxError> {
        let shape: Vec<usize> = [&[rows][..], example].concat();
        let rejected =
            |e: TractError| failure("prepare the model for an input of that shape", format!("{shape:?}: {e:#}"));
        let outlet = self.model.output_outlets().map_err(rejected)?.get(output).copied();
        let outlet = outlet.ok_or_else(|| failure("prepare the model", "the output is missing"))?;
        let inputs = self.model.input_outlets().map_err(rejected)?.len();
        let mut values: Vec<Option<TValue>> = vec![None; inputs];
        let mut model = self
            .model
            .with_output_outlets(&[outlet])
            .and_then(|m| m.with_input_fact(explained, f32::fact(shape.clone()).into()))
            .map_err(rejected)?;
        for &(index, input) in fixed {
            let call = input.at_rows(rows)?;
            let tensor = match &call.data {
                CallData::F32(v) => Tensor::from_shape(&call.shape, v),
                CallData::I64(v) => Tensor::from_shape(&call.shape, v),
            }
            .map_err(|e| failure("take a fixed input", format!("`{}`: {e}", input.name)))?;
            let fact = InferenceFact::dt_shape(tensor.datum_type(), &call.shape);
            model = model.with_input_fact(index, fact).map_err(rejected)?;
            values[index] = Some(tensor.into());
        }
        let plan = model.into_optimized().and_then(|m| m.into_runnable()).map_err(rejected)?;
        Ok(TractPlan { plan, rows, explained, values })
    }
}

impl TractPlan {
    /// Runs the plan on `data` of `shape` (`shape[0] == self.rows`) as the explained input,
    /// the fixed inputs at their values, and returns the output's shape and values.
    pub(crate) fn run(&self, shape: &[usize], data: &[f32]) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        // tract panics when the system refuses a tensor's memory: that is an error here.
        let copy = std::panic::catch_unwind(|| Tensor::from_shape(shape, data));
        let input: TValue = match copy {
            Ok(tensor) => tensor.map_err(|e| failure("take the input", e))?.into(),
            Err(_) => {
                return Err(OnnxError::OutOfMemory {
                    what: "tract's copy of the input",
                    shape: shape.to_vec(),
                    bytes: data.len().checked_mul(std::mem::size_of::<f32>()),
                })
            }
        };
        let mut inputs = TVec::with_capacity(self.values.len());
        for (i, value) in self.values.iter().enumerate() {
            match value {
                Some(v) => inputs.push(v.clone()),
                None if i == self.explained => inputs.push(input.clone()),
                None => return Err(failure("run the model", format!("input {i} has no value"))),
            }
        }
        let outputs = self.plan.run(inputs).map_err(|e| failure("run the model", format!("{e:#}")))?;
        let output = outputs.first().ok_or_else(|| failure("run the model", "it returned no output"))?;
        let view = output.to_plain_array_view::<f32>().map_err(|e| OnnxError::OutputNotF32 {
            name: "output".into(),
            element: format!("{:?}: {e}", output.datum_type()),
        })?;
        Ok((view.shape().to_vec(), view.iter().copied().collect()))
    }
}
