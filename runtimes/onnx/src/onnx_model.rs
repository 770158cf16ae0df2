//! An ONNX model as a `Forward` model of the ndarray backend (`f32`), on tract or ONNX
//! Runtime, running its calls by an execution plan.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_core::model::{ModelError, ModelJobs};
use tiled_occlusion_core::{Forward, Parallel};
use tiled_occlusion_ndarray::Ndarray;

use crate::execution_plan::ExecutionPlan;
use crate::fixed_input::FixedInput;
#[cfg(feature = "ort")]
use crate::fixed_input::{CallData, CallInput};
use crate::input_geometry::InputGeometry;
#[cfg(any(feature = "tract", feature = "ort"))]
use crate::input_spec::check_call_size;
use crate::input_spec::{try_buffer, try_zeros};
use crate::model_signature::{BatchDimension, ModelSignature};
use crate::onnx_error::OnnxError;
use crate::onnx_options::OnnxOptions;
#[cfg(feature = "ort")]
use crate::ort_library::OrtLibrary;
#[cfg(feature = "ort")]
use crate::ort_sessions::OrtSessions;
use crate::runtime_choice::{Runtime, RuntimeChoice};
use crate::softmax::softmax_rows;
#[cfg(feature = "tract")]
use crate::tract_plan::{TractGraph, TractPlan};

/// What runs the calls.
enum Engine {
    #[cfg(feature = "tract")]
    Tract(TractPlan),
    #[cfg(feature = "ort")]
    Ort(OrtSessions),
}

/// An ONNX model with one explained `f32` input `(N, d_1, …, d_m)` (its other inputs, if
/// any, held at [`FixedInput`] values) and an `f32` output `(N, classes)`, on tract or ONNX
/// Runtime (see the crate's documentation).
///
/// It is a [`Forward`] model of [`Ndarray<f32>`]: [`Forward::forward`] runs one batch, and
/// [`Forward::forward_jobs`] (what the attribution methods call) runs
/// [`ExecutionPlan::sessions`] calls at the same time, the calling thread building the
/// batches in call order and running calls too (the core's `Parallel`), so the map is the
/// sequential one. [`OnnxModel::classify`] may also be called from several threads at once.
pub struct OnnxModel {
    engine: Engine,
    runtime: Runtime,
    plan: ExecutionPlan,
    signature: ModelSignature,
    batch: BatchDimension,
    /// The graph index of the explained input.
    explained: usize,
    /// The other inputs' values with their graph indices.
    fixed: Vec<(usize, FixedInput)>,
    output: usize,
    example_shape: Vec<usize>,
    geometry: Option<InputGeometry>,
    classes: usize,
    softmax: bool,
    note: Option<String>,
}

/// The fixed inputs of `options` with their graph indices, in graph order (the names were
/// checked by [`ModelSignature::explained_input`]).
fn fixed_with_indices(
    signature: &ModelSignature,
    options: &OnnxOptions,
) -> Result<Vec<(usize, FixedInput)>, OnnxError> {
    let mut fixed = Vec::with_capacity(options.fixed_inputs.len());
    for input in &options.fixed_inputs {
        let index =
            signature.inputs.iter().position(|i| i.name == input.name).ok_or_else(|| OnnxError::UnknownInput {
                requested: input.name.clone(),
                available: signature.inputs.iter().map(|i| i.name.clone()).collect(),
            })?;
        fixed.push((index, input.clone()));
    }
    fixed.sort_by_key(|(i, _)| *i);
    Ok(fixed)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl OnnxModel {
    /// Loads the model at `path` as `options` say, and checks it with one call on a zero
    /// example: the output must be `(1, classes)` with `classes ≥ 1` (`classes ≥ 2` with
    /// [`OnnxOptions::softmax`], whose softmax of one value per example is always 1:
    /// [`OnnxError::SoftmaxOneClass`]). The zero example is allocated fallibly: memory the
    /// system refuses is an [`OnnxError::OutOfMemory`], never an abort.
    pub fn load(path: impl AsRef<Path>, options: &OnnxOptions) -> Result<OnnxModel, OnnxError> {
        let path = path.as_ref();
        if path.is_dir() {
            return Err(OnnxError::ModelIsFolder { path: path.to_path_buf() });
        }
        if !path.exists() {
            return Err(OnnxError::MissingModel { path: path.to_path_buf() });
        }
        if !path.is_file() {
            return Err(OnnxError::ModelNotAFile { path: path.to_path_buf() });
        }
        let device = options.plan.device;
        if options.tf32 && !device.is_gpu() {
            return Err(OnnxError::GpuOnlyOption { option: "tf32", device });
        }
        let mut model = match options.runtime {
            RuntimeChoice::Tract if device.is_gpu() => {
                return Err(OnnxError::DeviceUnsupported { device, runtime: Runtime::Tract })
            }
            RuntimeChoice::Tract => Self::load_tract(path, options)?,
            // tract runs on the CPU only: a GPU means ONNX Runtime or an error, never a silent
            // fallback.
            RuntimeChoice::Auto if device.is_gpu() => Self::load_ort(path, options)?,
            RuntimeChoice::Ort => Self::load_ort(path, options)?,
            RuntimeChoice::Auto => match Self::load_ort(path, options) {
                Err(
                    e @ (OnnxError::RuntimeNotBuilt { .. }
                    | OnnxError::OrtLibraryMissing { .. }
                    | OnnxError::OrtLibraryTooOld { .. }
                    | OnnxError::OrtLibraryUnusable { .. }
                    | OnnxError::OrtLibraryConflict { .. }),
                ) => {
                    let mut model = Self::load_tract(path, options)?;
                    model.note = Some(format!("ONNX Runtime not used: {e}"));
                    model
                }
                other => other?,
            },
        };
        // One row (a fixed batch pads it to its rows in `run_rows`, fallibly too).
        let probe = try_zeros(&[&[1][..], &model.example_shape].concat(), "the zero example that checks the model")?;
        model.classes = model.run_rows(&probe)?.shape()[1];
        if model.softmax && model.classes == 1 {
            return Err(OnnxError::SoftmaxOneClass { name: model.output_name().to_string(), shape: vec![1, 1] });
        }
        Ok(model)
    }

    /// Resolves the plan, reads the signature and the input shape.
    fn finish(
        engine: Engine,
        runtime: Runtime,
        plan: ExecutionPlan,
        signature: ModelSignature,
        options: &OnnxOptions,
    ) -> Result<OnnxModel, OnnxError> {
        let explained = signature.explained_input(options.explained_input.as_deref(), &options.fixed_inputs)?;
        let (example_shape, geometry) = options.input.resolve(&signature.inputs[explained].dims)?;
        let output = signature.output_index(options.output.as_deref())?;
        let batch = signature.call_batch(explained, &options.fixed_inputs);
        let fixed = fixed_with_indices(&signature, options)?;
        Ok(OnnxModel {
            engine,
            runtime,
            plan,
            batch,
            explained,
            fixed,
            output,
            example_shape,
            geometry,
            signature,
            classes: 0,
            softmax: options.softmax,
            note: None,
        })
    }

    #[cfg(feature = "tract")]
    fn load_tract(path: &Path, options: &OnnxOptions) -> Result<OnnxModel, OnnxError> {
        let graph = TractGraph::read(path)?;
        let signature = graph.signature()?;
        let explained = signature.explained_input(options.explained_input.as_deref(), &options.fixed_inputs)?;
        let (example_shape, _) = options.input.resolve(&signature.inputs[explained].dims)?;
        let output = signature.output_index(options.output.as_deref())?;
        let batch = signature.call_batch(explained, &options.fixed_inputs);
        let fixed = fixed_with_indices(&signature, options)?;
        let fixed: Vec<(usize, &FixedInput)> = fixed.iter().map(|(i, f)| (*i, f)).collect();
        let plan = options.plan.resolve(Runtime::Tract, batch, example_shape.iter().product(), cores())?;
        check_call_size(batch, &example_shape)?;
        let rows = batch.fixed_rows().unwrap_or(1);
        let engine = Engine::Tract(graph.into_plan(output, explained, &example_shape, rows, &fixed)?);
        Self::finish(engine, Runtime::Tract, plan, signature, options)
    }

    #[cfg(not(feature = "tract"))]
    fn load_tract(_: &Path, _: &OnnxOptions) -> Result<OnnxModel, OnnxError> {
        Err(OnnxError::RuntimeNotBuilt { runtime: Runtime::Tract, feature: "tract" })
    }

    #[cfg(feature = "ort")]
    fn load_ort(path: &Path, options: &OnnxOptions) -> Result<OnnxModel, OnnxError> {
        // Sessions and threads do not depend on the batch; the rows per call do.
        let threads = options.plan.resolve(Runtime::Ort, BatchDimension::Symbolic, 1, cores())?;
        let (sessions, signature) = OrtSessions::open(path, &threads, options.ort_library.as_deref(), options.tf32)?;
        let explained = signature.explained_input(options.explained_input.as_deref(), &options.fixed_inputs)?;
        let (example_shape, _) = options.input.resolve(&signature.inputs[explained].dims)?;
        let batch = signature.call_batch(explained, &options.fixed_inputs);
        check_call_size(batch, &example_shape)?;
        let plan = options.plan.resolve(Runtime::Ort, batch, example_shape.iter().product(), cores())?;
        Self::finish(Engine::Ort(sessions), Runtime::Ort, plan, signature, options)
    }

    #[cfg(not(feature = "ort"))]
    fn load_ort(_: &Path, _: &OnnxOptions) -> Result<OnnxModel, OnnxError> {
        Err(OnnxError::RuntimeNotBuilt { runtime: Runtime::Ort, feature: "ort" })
    }

    /// The runtime running the model.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// The ONNX Runtime library in use (`None` on tract).
    #[cfg(feature = "ort")]
    pub fn ort_library(&self) -> Option<&OrtLibrary> {
        match &self.engine {
            Engine::Ort(sessions) => Some(&sessions.library),
            #[cfg(feature = "tract")]
            Engine::Tract(_) => None,
        }
    }

    /// Why [`RuntimeChoice::Auto`] did not pick ONNX Runtime, when it did not.
    pub fn runtime_note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// One line for people: the runtime (with ONNX Runtime's version and file) and the plan.
    pub fn describe(&self) -> String {
        let runtime = match &self.engine {
            #[cfg(feature = "ort")]
            Engine::Ort(s) => format!(
                "ONNX Runtime {} ({}){}",
                s.library.version,
                s.library.path.display(),
                if s.tf32 { ", TF32" } else { "" }
            ),
            #[cfg(feature = "tract")]
            Engine::Tract(_) => "tract".to_string(),
        };
        let note = self.note.as_ref().map_or_else(String::new, |n| format!("; {n}"));
        format!("{runtime}, {}{note}", self.plan)
    }

    /// The execution plan.
    pub fn plan(&self) -> &ExecutionPlan {
        &self.plan
    }

    /// The declared inputs and outputs.
    pub fn signature(&self) -> &ModelSignature {
        &self.signature
    }

    /// How the model's batch dimension is declared.
    pub fn batch(&self) -> BatchDimension {
        self.batch
    }

    /// The name of the output used.
    pub fn output_name(&self) -> &str {
        &self.signature.outputs[self.output].name
    }

    /// The per-example input shape `(d_1, …, d_m)`.
    pub fn example_shape(&self) -> &[usize] {
        &self.example_shape
    }

    /// The image geometry, when the options read the input as an image.
    pub fn geometry(&self) -> Option<InputGeometry> {
        self.geometry
    }

    /// The number of classes, the output's second dimension.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Runs the model on every row of `batch` `(B, d_1, …, d_m)` and returns `(B, classes)`
    /// (softmax-ed when the options say so).
    ///
    /// A model with a symbolic batch gets the whole batch in one call on ONNX Runtime and one
    /// row per call on tract; a model with a fixed batch `n` gets chunks of `n` rows, the last
    /// one padded with copies of its last row (whose outputs are dropped). NaN outputs are
    /// returned as they are.
    pub fn classify(&self, batch: &ArrayD<f32>) -> Result<ArrayD<f32>, OnnxError> {
        let shape = batch.shape();
        if shape.len() != self.example_shape.len() + 1 || shape[1..] != self.example_shape[..] {
            return Err(OnnxError::BatchShape { got: shape.to_vec(), example: self.example_shape.clone() });
        }
        let scores = self.run_rows(batch)?;
        Ok(if self.softmax { softmax_rows(&scores) } else { scores })
    }

    /// The rows one runtime call takes (`None`: any number).
    fn rows_per_run(&self) -> Option<usize> {
        match (&self.engine, self.batch) {
            #[cfg(feature = "tract")]
            (Engine::Tract(plan), _) => Some(plan.rows),
            #[cfg(feature = "ort")]
            (Engine::Ort(_), batch) => batch.fixed_rows(),
        }
    }

    fn run_engine(&self, shape: &[usize], data: &[f32]) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        match &self.engine {
            #[cfg(feature = "tract")]
            Engine::Tract(plan) => plan.run(shape, data),
            #[cfg(feature = "ort")]
            Engine::Ort(sessions) => {
                let mut inputs = Vec::with_capacity(self.fixed.len() + 1);
                let explained = CallInput { shape: shape.to_vec(), data: CallData::F32(data.into()) };
                let mut explained = Some(explained);
                let mut fixed = self.fixed.iter().peekable();
                for i in 0..=self.fixed.len() {
                    match fixed.peek() {
                        Some((index, input)) if *index == i => {
                            inputs.push(input.at_rows(shape[0])?);
                            fixed.next();
                        }
                        _ => inputs.extend(explained.take()),
                    }
                }
                sessions.run(self.output, &inputs)
            }
        }
    }

    /// The graph index of the explained input.
    pub fn explained_input(&self) -> usize {
        self.explained
    }

    /// The inputs held fixed, with their graph indices, in graph order.
    pub fn fixed_inputs(&self) -> impl Iterator<Item = (usize, &FixedInput)> {
        self.fixed.iter().map(|(i, f)| (*i, f))
    }

    /// The raw outputs `(B, classes)` of a batch of the right shape.
    fn run_rows(&self, batch: &ArrayD<f32>) -> Result<ArrayD<f32>, OnnxError> {
        let rows = batch.shape()[0];
        let per_row: usize = self.example_shape.iter().product();
        if rows == 0 {
            return Ok(ArrayD::zeros(IxDyn(&[0, self.classes])));
        }
        let standard = batch.as_standard_layout();
        let data = standard.as_slice().ok_or_else(|| OnnxError::BatchShape {
            got: batch.shape().to_vec(),
            example: self.example_shape.clone(),
        })?;
        let chunk = self.rows_per_run().unwrap_or(rows);
        let mut classes = (self.classes > 0).then_some(self.classes);
        let mut out = Vec::new();
        let mut padded = Vec::new();
        if !rows.is_multiple_of(chunk) {
            let shape: Vec<usize> = [&[chunk][..], &self.example_shape].concat();
            padded = try_buffer(chunk.saturating_mul(per_row), "a call padded to the model's fixed batch", &shape)?;
        }
        for start in (0..rows).step_by(chunk) {
            let take = chunk.min(rows - start);
            let rows_data = &data[start * per_row..(start + take) * per_row];
            let input: &[f32] = if take == chunk {
                rows_data
            } else {
                padded.clear();
                padded.extend_from_slice(rows_data);
                let last = &rows_data[(take - 1) * per_row..];
                for _ in take..chunk {
                    padded.extend_from_slice(last);
                }
                &padded
            };
            let shape: Vec<usize> = [&[chunk][..], &self.example_shape].concat();
            let (dims, values) = self.run_engine(&shape, input)?;
            let expected = classes.unwrap_or(dims.get(1).copied().unwrap_or(0));
            if dims.len() != 2
                || dims[0] != chunk
                || dims[1] != expected
                || expected == 0
                || values.len() != chunk * expected
            {
                return Err(OnnxError::OutputShape { name: self.output_name().to_string(), shape: dims, rows: chunk });
            }
            classes = Some(expected);
            out.extend_from_slice(&values[..take * expected]);
        }
        let classes = classes.unwrap_or(0);
        ArrayD::from_shape_vec(IxDyn(&[rows, classes]), out).map_err(|_| OnnxError::OutputShape {
            name: self.output_name().to_string(),
            shape: vec![rows, classes],
            rows,
        })
    }
}

impl Forward for OnnxModel {
    type Backend = Ndarray<f32>;

    fn forward(&mut self, batch: &ArrayD<f32>) -> Result<ArrayD<f32>, ModelError> {
        self.classify(batch).map_err(Into::into)
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Ndarray<f32>>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> tiled_occlusion_core::Result<()>,
    ) -> tiled_occlusion_core::Result<()> {
        let this = &*self;
        let mut parallel =
            Parallel::<Ndarray<f32>, _>::with_threads(|x: &ArrayD<f32>| this.classify(x), self.plan.sessions)?;
        parallel.forward_jobs(jobs, sink)
    }
}
