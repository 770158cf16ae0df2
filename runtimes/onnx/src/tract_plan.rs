//! The model on tract: parsed, fixed to `rows` examples of the decided shape, optimised, and
//! run from any number of threads at once (tract's plan is shared; each run has its own state).

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

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
}

fn failure(action: &'static str, reason: impl ToString) -> OnnxError {
    OnnxError::Runtime { runtime: Runtime::Tract, action, reason: reason.to_string() }
}

fn tensor_signature(model: &InferenceModel, outlet: OutletId, name: String) -> TensorSignature {
    let Ok(fact) = model.outlet_fact(outlet) else {
        return TensorSignature { name, element: "unknown".into(), is_f32: true, dims: Vec::new() };
    };
    let datum = fact.datum_type.concretize();
    TensorSignature {
        name,
        element: datum.map_or_else(|| "unknown".to_string(), |d| format!("{d:?}").to_lowercase()),
        // An undeclared element type is checked when the model runs.
        is_f32: datum.is_none_or(|d| d == f32::datum_type()),
        dims: fact
            .shape
            .dims()
            .map(|d| d.concretize().and_then(|d| d.as_i64()).and_then(|d| usize::try_from(d).ok()))
            .collect(),
    }
}

impl TractGraph {
    /// Parses the model at `path`.
    pub(crate) fn read(path: &Path) -> Result<TractGraph, OnnxError> {
        let model = tract_onnx::onnx().model_for_path(path).map_err(|e| OnnxError::UnreadableModel {
            path: path.to_path_buf(),
            runtime: Runtime::Tract,
            reason: format!("{e:#}"),
        })?;
        Ok(TractGraph { model })
    }

    /// The declared inputs and outputs.
    pub(crate) fn signature(&self) -> ModelSignature {
        let m = &self.model;
        let inputs = m.input_outlets().map(|o| o.to_vec()).unwrap_or_default();
        let outputs = m.output_outlets().map(|o| o.to_vec()).unwrap_or_default();
        ModelSignature {
            inputs: inputs.iter().map(|&o| tensor_signature(m, o, m.node(o.node).name.clone())).collect(),
            outputs: outputs
                .iter()
                .map(|&o| {
                    let name = m.outlet_label(o).map_or_else(|| m.node(o.node).name.clone(), str::to_string);
                    tensor_signature(m, o, name)
                })
                .collect(),
        }
    }

    /// Keeps output `output` only, fixes the input to `(rows, example…)` and optimises.
    pub(crate) fn into_plan(self, output: usize, example: &[usize], rows: usize) -> Result<TractPlan, OnnxError> {
        let shape: Vec<usize> = [&[rows][..], example].concat();
        let rejected =
            |e: TractError| failure("prepare the model for an input of that shape", format!("{shape:?}: {e:#}"));
        let outlet = self.model.output_outlets().map_err(rejected)?.get(output).copied();
        let outlet = outlet.ok_or_else(|| failure("prepare the model", "the output is missing"))?;
        let plan = self
            .model
            .with_output_outlets(&[outlet])
            .and_then(|m| m.with_input_fact(0, f32::fact(shape.clone()).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(rejected)?;
        Ok(TractPlan { plan, rows })
    }
}

impl TractPlan {
    /// Runs the plan on `data` of `shape` (`shape[0] == self.rows`) and returns the output's
    /// shape and values.
    pub(crate) fn run(&self, shape: &[usize], data: &[f32]) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let input = Tensor::from_shape(shape, data).map_err(|e| failure("take the input", e))?;
        let outputs = self.plan.run(tvec![input.into()]).map_err(|e| failure("run the model", format!("{e:#}")))?;
        let output = outputs.first().ok_or_else(|| failure("run the model", "it returned no output"))?;
        let view = output.to_plain_array_view::<f32>().map_err(|e| OnnxError::OutputNotF32 {
            name: "output".into(),
            element: format!("{:?}: {e}", output.datum_type()),
        })?;
        Ok((view.shape().to_vec(), view.iter().copied().collect()))
    }
}
