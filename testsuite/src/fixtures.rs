//! Golden fixtures: cases computed by Captum and the Python reference, in the format of
//! `fixtures/FORMAT.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::perturbation::PerDimension;
use tiled_occlusion_core::{
    Aggregation, Attribution, Baseline, FeatureAblation, FeatureMask, Forward, Inputs, MultiAttribution, MultiInputs,
    NoiseTunnel, NoiseTunnelType, Occlusion, PerInput, Target, TiledOcclusion, TilingMode,
};

use crate::batch_level::{BatchTotal, TotalShape};
use crate::host_model::{HostForward, HostModel};
use crate::multi_input::multi_model;
use crate::test_backend::{max_abs_diff, TestBackend};

/// The fixtures shipped with the suite (Captum 0.9.0 with torch 2.13.0, our numpy implementation of
/// the default tiled mode, the Python reference for the reference mode), written by
/// `scripts/fixtures/make_captum_fixtures.py`.
pub const CAPTUM_FIXTURES: &str = include_str!("../fixtures/captum-fixtures.json");

/// A fixture file.
#[derive(Debug, Deserialize)]
pub struct FixtureFile {
    /// What produced it.
    #[serde(default)]
    pub generator: Option<String>,
    /// The cases.
    pub cases: Vec<FixtureCase>,
}

/// A row-major tensor.
#[derive(Clone, Debug, Deserialize)]
pub struct HostTensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major data.
    pub data: Vec<f64>,
}

/// Strides: one for all dimensions or one each.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum StridesSpec {
    /// For all dimensions.
    All(usize),
    /// Per dimension.
    Each(Vec<usize>),
}

/// A scalar or tensor baseline.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum BaselineSpec {
    /// Scalar.
    Scalar(f64),
    /// Tensor of shape `d`, `(1, d…)` or `(N, d…)`.
    Tensor(HostTensor),
}

/// A class for every example, one per example, or one index tuple per example.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum TargetSpec {
    /// One class.
    Class(usize),
    /// One class per example.
    PerExample(Vec<usize>),
    /// One index tuple per example (Captum's `target=[(1, 0), (0, 2)]`).
    PerExampleIndex(Vec<Vec<usize>>),
}

/// A NoiseTunnel around the case's method.
#[derive(Clone, Debug, Deserialize)]
pub struct NoiseTunnelSpec {
    /// `smoothgrad`, `smoothgrad_sq` or `vargrad`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `S`.
    pub samples: usize,
    /// Samples per call of the inner method.
    pub batch_size: usize,
    /// The noise's standard deviation.
    pub stdev: f64,
}

/// One case.
#[derive(Clone, Debug, Deserialize)]
pub struct FixtureCase {
    /// Name.
    pub name: String,
    /// `occlusion`, `feature_ablation`, `tiled_occlusion` or `tiled_occlusion_reference`.
    pub method: String,
    /// `linear`, `mlp`, `relu_mlp`, `gap` or `sq`.
    pub model: String,
    /// The per-example outputs reshaped to this (for index-tuple targets).
    #[serde(default)]
    pub output_shape: Option<Vec<usize>>,
    /// The outputs summed over the batch: `total`, `column_sums` or `column_sums_keepdim`.
    #[serde(default)]
    pub batch_output: Option<String>,
    /// Model parameters.
    pub params: BTreeMap<String, HostTensor>,
    /// The input `(N, d…)` with its window, strides, `k`, mask and baseline (one input).
    #[serde(flatten)]
    pub single: InputSpec,
    /// Several inputs, each with its own settings (instead of the top-level ones).
    #[serde(default)]
    pub inputs: Option<Vec<InputSpec>>,
    /// `P` (default 1).
    #[serde(default)]
    pub perturbations_per_eval: Option<usize>,
    /// A NoiseTunnel around the method.
    #[serde(default)]
    pub noise_tunnel: Option<NoiseTunnelSpec>,
    /// `mean` or `sum` (default mode only).
    #[serde(default)]
    pub aggregation: Option<String>,
    /// Target (`null` for one-value models).
    #[serde(default)]
    pub target: Option<TargetSpec>,
    /// Expected attribution: one, or one per input.
    pub expected: ExpectedSpec,
}

/// One input of a case and what the method is given for it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct InputSpec {
    /// Input `(N, d…)` (absent at the top level of a case of several inputs).
    #[serde(default)]
    pub input: Option<HostTensor>,
    /// Window per dimension (none for FeatureAblation).
    #[serde(default)]
    pub window: Vec<usize>,
    /// Occlusion strides.
    #[serde(default)]
    pub strides: Option<StridesSpec>,
    /// Tiling factors.
    #[serde(default)]
    pub k: Option<Vec<usize>>,
    /// FeatureAblation's group ids; absent: every element its own group.
    #[serde(default)]
    pub feature_mask: Option<HostTensor>,
    /// Baseline (default 0).
    #[serde(default)]
    pub baseline: Option<BaselineSpec>,
}

/// The expected attribution of one input, or one per input.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ExpectedSpec {
    /// One input's.
    One(HostTensor),
    /// One per input.
    Several(Vec<HostTensor>),
}

impl ExpectedSpec {
    /// The tensors, one per input.
    pub fn tensors(&self) -> Vec<&HostTensor> {
        match self {
            ExpectedSpec::One(t) => vec![t],
            ExpectedSpec::Several(ts) => ts.iter().collect(),
        }
    }
}

/// A case's outcome.
#[derive(Clone, Debug)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// `max |actual − expected|`, or the error that stopped the case.
    pub max_error: Result<f64, String>,
    /// The bound: `max(1e-4, T::TOLERANCE) · max(1, max |expected|)` (wider only for
    /// half-precision backends).
    pub bound: f64,
}

impl CaseOutcome {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        matches!(self.max_error, Ok(e) if e <= self.bound)
    }
}

/// Parses a fixture file.
pub fn parse(text: &str) -> Result<FixtureFile, String> {
    serde_json::from_str(text).map_err(|e| format!("not a fixture file: {e}"))
}

/// Runs one case on backend `T`.
pub fn run_case<T: TestBackend>(case: &FixtureCase) -> CaseOutcome {
    let scale = case.expected.tensors().iter().flat_map(|t| &t.data).fold(1.0_f64, |m, v| m.max(v.abs()));
    CaseOutcome { name: case.name.clone(), max_error: attribute_case::<T>(case), bound: T::TOLERANCE.max(1e-4) * scale }
}

/// The case's model on the host: its kind and parameters, reshaped outputs.
fn host_model(case: &FixtureCase) -> Result<HostModel, String> {
    let params = case.params.iter().map(|(k, v)| (k.clone(), (v.shape.clone(), v.data.clone()))).collect();
    let model = HostModel::from_params(&case.model, &params)?;
    Ok(match &case.output_shape {
        Some(shape) => HostModel::Reshaped { model: Box::new(model), output_shape: shape.clone() },
        None => model,
    })
}

fn target(case: &FixtureCase) -> Target {
    match &case.target {
        None => Target::None,
        Some(TargetSpec::Class(c)) => Target::Class(*c),
        Some(TargetSpec::PerExample(c)) => Target::PerExample(c.clone()),
        Some(TargetSpec::PerExampleIndex(t)) => Target::PerExampleIndex(t.clone()),
    }
}

/// An input on a backend, and its baseline tensor if it has one.
type InputTensors<B> = (TensorOf<B>, Option<TensorOf<B>>);

/// One input's tensor and baseline tensor on backend `T`.
fn input_tensors<T: TestBackend>(spec: &InputSpec) -> Result<InputTensors<T::B>, String> {
    let input = spec.input.as_ref().ok_or("an input has no \"input\" tensor")?;
    let baseline = match &spec.baseline {
        Some(BaselineSpec::Tensor(t)) => Some(T::tensor(&t.shape, &t.data)?),
        _ => None,
    };
    Ok((T::tensor(&input.shape, &input.data)?, baseline))
}

fn baseline_of<'t, B: Backend>(spec: &InputSpec, tensor: &'t Option<TensorOf<B>>) -> Baseline<'t, B> {
    match (&spec.baseline, tensor) {
        (Some(BaselineSpec::Scalar(v)), _) => Baseline::Scalar(*v),
        (_, Some(t)) => Baseline::Tensor(t),
        _ => Baseline::Scalar(0.0),
    }
}

fn occlusion_of(spec: &InputSpec, per_eval: usize) -> Occlusion {
    let strides = match &spec.strides {
        Some(StridesSpec::All(s)) => PerDimension::All(*s),
        Some(StridesSpec::Each(s)) => PerDimension::Each(s.clone()),
        None => PerDimension::All(1),
    };
    Occlusion::new(spec.window.clone()).with_strides(strides).with_perturbations_per_eval(per_eval)
}

fn ablation_of(spec: &InputSpec, per_eval: usize) -> Result<FeatureAblation, String> {
    let ablation = match &spec.feature_mask {
        None => FeatureAblation::per_element(),
        Some(m) => {
            let ids = m.data.iter().map(|&id| id as i64).collect::<Vec<_>>();
            FeatureAblation::new(FeatureMask::new(m.shape.clone(), ids).map_err(|e| e.to_string())?)
        }
    };
    Ok(ablation.with_perturbations_per_eval(per_eval))
}

fn tiled_of(case: &FixtureCase, spec: &InputSpec, per_eval: usize) -> Result<TiledOcclusion, String> {
    let k = spec.k.clone().ok_or_else(|| format!("case {} has no k", case.name))?;
    let tiled = TiledOcclusion::new(spec.window.clone(), k).with_perturbations_per_eval(per_eval);
    Ok(match (case.method.as_str(), case.aggregation.as_deref()) {
        ("tiled_occlusion_reference", _) => tiled.with_mode(TilingMode::Reference),
        (_, None | Some("mean")) => tiled.with_aggregation(Aggregation::Mean),
        (_, Some("sum")) => tiled.with_aggregation(Aggregation::Sum),
        (_, Some(other)) => return Err(format!("unknown aggregation {other:?}")),
    })
}

/// `max |actual − expected|` over the results, after checking their shapes.
fn compare<B: Backend>(actual: &[TensorOf<B>], expected: &[&HostTensor]) -> Result<f64, String> {
    if actual.len() != expected.len() {
        return Err(format!("{} results for {} expected", actual.len(), expected.len()));
    }
    let mut error = 0.0_f64;
    for (out, want) in actual.iter().zip(expected) {
        let shape = B::shape(out);
        if shape != want.shape {
            return Err(format!("result has shape {shape:?}, expected {:?}", want.shape));
        }
        error = error.max(max_abs_diff(&B::to_f64_vec(out).map_err(|e| e.to_string())?, &want.data));
    }
    Ok(error)
}

fn attribute_case<T: TestBackend>(case: &FixtureCase) -> Result<f64, String> {
    let per_eval = case.perturbations_per_eval.unwrap_or(1);
    if let Some(specs) = &case.inputs {
        return attribute_several::<T>(case, specs, per_eval);
    }
    let host_model = host_model(case)?;
    let mut model: Box<dyn Forward<Backend = T::B>> = match case.batch_output.as_deref() {
        None => Box::new(HostForward::<T::B>::new(host_model)),
        Some("total") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::All)),
        Some("column_sums") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::Flat)),
        Some("column_sums_keepdim") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::OneRow)),
        Some(other) => return Err(format!("unknown batch_output {other:?}")),
    };
    let spec = &case.single;
    let (input, baseline_tensor) = input_tensors::<T>(spec)?;
    let inputs = Inputs::new(&input).with_baseline(baseline_of(spec, &baseline_tensor)).with_target(target(case));
    let method: Box<dyn Attribution<T::B>> = match case.method.as_str() {
        "occlusion" => Box::new(occlusion_of(spec, per_eval)),
        "feature_ablation" => Box::new(ablation_of(spec, per_eval)?),
        "tiled_occlusion" | "tiled_occlusion_reference" => Box::new(tiled_of(case, spec, per_eval)?),
        other => return Err(format!("unknown method {other:?}")),
    };
    let method = match &case.noise_tunnel {
        None => method,
        Some(t) => Box::new(noise_tunnel(t, method)?),
    };
    let out = method.attribute(model.as_mut(), &inputs).map_err(|e| e.to_string())?;
    compare::<T::B>(&[out], &case.expected.tensors())
}

/// The case's NoiseTunnel around `method`.
fn noise_tunnel<M>(t: &NoiseTunnelSpec, method: M) -> Result<NoiseTunnel<M>, String> {
    let kind = match t.kind.as_str() {
        "smoothgrad" => NoiseTunnelType::SmoothGrad,
        "smoothgrad_sq" => NoiseTunnelType::SmoothGradSq,
        "vargrad" => NoiseTunnelType::VarGrad,
        other => return Err(format!("unknown noise tunnel type {other:?}")),
    };
    Ok(NoiseTunnel::new(method)
        .with_type(kind)
        .with_samples(t.samples)
        .with_samples_batch_size(t.batch_size)
        .with_stdev(t.stdev))
}

/// A case of several inputs: the model reads each example's inputs flattened side by side.
fn attribute_several<T: TestBackend>(case: &FixtureCase, specs: &[InputSpec], per_eval: usize) -> Result<f64, String> {
    if case.batch_output.is_some() {
        return Err("several inputs: batch_output is for one input".into());
    }
    let tensors = specs.iter().map(input_tensors::<T>).collect::<Result<Vec<_>, _>>()?;
    let inputs = MultiInputs::new(tensors.iter().map(|(input, _)| input))
        .with_baselines(specs.iter().zip(&tensors).map(|(spec, (_, b))| baseline_of(spec, b)))
        .with_target(target(case));
    let calls = std::cell::Cell::new(0);
    let mut model = multi_model::<T::B>(host_model(case)?, &calls);
    let method: Box<dyn MultiAttribution<T::B>> = match case.method.as_str() {
        "occlusion" => Box::new(PerInput::new(specs.iter().map(|s| occlusion_of(s, per_eval)))),
        "feature_ablation" => {
            Box::new(PerInput::new(specs.iter().map(|s| ablation_of(s, per_eval)).collect::<Result<Vec<_>, _>>()?))
        }
        "tiled_occlusion" => {
            Box::new(PerInput::new(specs.iter().map(|s| tiled_of(case, s, per_eval)).collect::<Result<Vec<_>, _>>()?))
        }
        other => return Err(format!("unknown method {other:?} for several inputs")),
    };
    let method = match &case.noise_tunnel {
        None => method,
        Some(t) => Box::new(noise_tunnel(t, method)?),
    };
    let out = method.attribute(&mut model, &inputs).map_err(|e| e.to_string())?;
    compare::<T::B>(&out, &case.expected.tensors())
}

/// Runs every case of a fixture file's text on backend `T`.
pub fn run_file<T: TestBackend>(text: &str) -> Result<Vec<CaseOutcome>, String> {
    Ok(parse(text)?.cases.iter().map(run_case::<T>).collect())
}

/// The golden-fixture test: every shipped case passes on backend `T`.
pub fn golden_fixtures<T: TestBackend>() {
    let outcomes = match run_file::<T>(CAPTUM_FIXTURES) {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(outcomes.len(), 37, "the shipped fixture file has 37 cases");
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert!(failed.is_empty(), "{}: failing fixtures: {failed:#?}", T::NAME);
}

/// Stamps out the golden-fixture test for a marker `$backend` as `mod fixtures { #[test] fn …
/// }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! fixtures_tests {
    ($backend:ty) => {
        $crate::suite_module!(fixtures, $backend, [golden_fixtures,]);
    };
}
