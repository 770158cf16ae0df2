//! An ONNX image classifier run by tract, one image per run, as a `Sync` function for the
//! parallel runner.

use std::path::Path;
use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::cli_error::{run_error, usage, CliError};
use crate::image_input::{InputGeometry, Layout};

/// A loaded classifier: a batch-1 tract plan and the input it expects.
pub struct OnnxClassifier {
    plan: Arc<TypedRunnableModel>,
    /// The input geometry.
    pub geometry: InputGeometry,
}

/// The dimension sizes of the model's first input, `None` where symbolic.
fn declared_input(model: &InferenceModel) -> Result<Vec<Option<usize>>, CliError> {
    let fact = model.input_fact(0).or_else(|e| run_error(format!("the model has no input: {e}")))?;
    Ok(fact
        .shape
        .dims()
        .map(|d| d.concretize().and_then(|d| d.as_i64()).and_then(|d| usize::try_from(d).ok()))
        .collect())
}

/// Decides layout, channels and size from the declared input `(N, ·, ·, ·)` and the overrides.
fn geometry(
    declared: &[Option<usize>],
    layout: Option<Layout>,
    size: Option<usize>,
) -> Result<InputGeometry, CliError> {
    if declared.len() != 4 {
        return usage(format!(
            "the model's input has {} dimensions ({declared:?}); an image classifier takes 4: (N, C, H, W) or (N, H, W, C)",
            declared.len()
        ));
    }
    let is_channels = |d: Option<usize>| matches!(d, Some(1) | Some(3));
    let layout = match layout {
        Some(l) => l,
        None if is_channels(declared[1]) && !is_channels(declared[3]) => Layout::Nchw,
        None if is_channels(declared[3]) && !is_channels(declared[1]) => Layout::Nhwc,
        None => {
            return usage(format!(
            "cannot tell whether the model's input {declared:?} is NCHW or NHWC: give --layout nchw or --layout nhwc"
        ))
        }
    };
    let (c, h, w) = match layout {
        Layout::Nchw => (declared[1], declared[2], declared[3]),
        Layout::Nhwc => (declared[3], declared[1], declared[2]),
    };
    let channels = match c {
        Some(c @ (1 | 3)) => c,
        other => {
            return usage(format!(
                "the model's input {declared:?} read as {layout:?} has {other:?} channels; images have 1 or 3 (check --layout)"
            ))
        }
    };
    let (height, width) = match (h, w, size) {
        (Some(h), Some(w), _) => (h, w),
        (_, _, Some(s)) => (s, s),
        _ => return usage(format!("the model's input {declared:?} has no fixed height and width: give --size N")),
    };
    Ok(InputGeometry { layout, channels, height, width })
}

impl OnnxClassifier {
    /// Loads `path`, fixes the input to one image of the decided geometry, and optimises it.
    pub fn load(path: &Path, layout: Option<Layout>, size: Option<usize>) -> Result<OnnxClassifier, CliError> {
        if !path.is_file() {
            return run_error(format!("model file {} does not exist", path.display()));
        }
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .or_else(|e| run_error(format!("{} is not an ONNX model tract can read: {e}", path.display())))?;
        let geometry = geometry(&declared_input(&model)?, layout, size)?;
        let shape: Vec<usize> = [vec![1], geometry.example_shape()].concat();
        let plan = model
            .with_input_fact(0, f32::fact(shape.clone()).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .or_else(|e| {
                run_error(format!(
                    "the model does not accept a {shape:?} image input (layout {:?}): {e}",
                    geometry.layout
                ))
            })?;
        Ok(OnnxClassifier { plan, geometry })
    }

    /// Runs the model on every row of `batch` `(B, …)`, one at a time, and stacks the outputs
    /// `(B, classes)`.
    pub fn classify(&self, batch: &ArrayD<f32>) -> Result<ArrayD<f32>, String> {
        let mut rows = Vec::with_capacity(batch.len_of(Axis(0)));
        for example in batch.axis_iter(Axis(0)) {
            let mut shape = vec![1];
            shape.extend_from_slice(example.shape());
            let data: Vec<f32> = example.iter().copied().collect();
            let input = Tensor::from_shape(&shape, &data).map_err(|e| e.to_string())?;
            let outputs = self.plan.run(tvec![input.into()]).map_err(|e| format!("the model failed: {e}"))?;
            let output = outputs.first().ok_or("the model returned no output")?;
            let view =
                output.to_plain_array_view::<f32>().map_err(|e| format!("the model's output is not f32: {e}"))?;
            rows.push(view.iter().copied().collect::<Vec<f32>>());
        }
        let classes = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != classes) {
            return Err("the model's outputs differ in length between images".into());
        }
        ArrayD::from_shape_vec(IxDyn(&[rows.len(), classes]), rows.concat()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::geometry;
    use crate::image_input::Layout;

    #[test]
    fn layouts_are_recognised() {
        let g = geometry(&[None, Some(3), Some(224), Some(224)], None, None).ok();
        assert_eq!(g.map(|g| (g.layout, g.channels, g.height)), Some((Layout::Nchw, 3, 224)));
        let g = geometry(&[None, Some(28), Some(28), Some(1)], None, None).ok();
        assert_eq!(g.map(|g| (g.layout, g.channels, g.width)), Some((Layout::Nhwc, 1, 28)));
        assert!(geometry(&[None, Some(3), Some(3), Some(3)], None, None).is_err());
        assert!(geometry(&[None, Some(3), None, None], None, None).is_err());
        assert!(geometry(&[None, Some(3), None, None], None, Some(64)).is_ok());
        assert!(geometry(&[None, Some(5), Some(9), Some(9)], Some(Layout::Nchw), None).is_err());
        assert!(geometry(&[None, Some(10)], None, None).is_err());
    }
}
