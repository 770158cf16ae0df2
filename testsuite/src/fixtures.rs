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
use crate::multi_input::budgeted_multi_model;
use crate::test_backend::{checked_elements, first_nan_mismatch, max_abs_diff, TestBackend};

/// The fixtures shipped with the suite (Captum 0.9.0 with torch 2.13.0, our numpy implementation of
/// the default tiled mode, the Python reference for the reference mode), written by
/// `scripts/fixtures/make_captum_fixtures.py`.
pub const CAPTUM_FIXTURES: &str = include_str!("../fixtures/captum-fixtures.json");

/// The most bytes [`read_fixture_file`] reads of one fixture file: 1 GiB (a fixture file is a
/// set of small golden cases; the shipped one is under 100 KiB).
pub const MAX_FIXTURE_BYTES: u64 = 1 << 30;

/// The most model calls one fixture case may ask for (the method's
/// [`model_calls`](tiled_occlusion_core::Attribution::model_calls)): `10⁶`. A case asking for
/// more is refused before any call.
pub const MAX_CASE_MODEL_CALLS: usize = 1_000_000;

/// The most noisy values a NoiseTunnel fixture case may draw: `samples × the input's
/// elements` at most `10⁶`.
pub const MAX_CASE_NOISY_VALUES: usize = 1_000_000;

/// The most values the model of one fixture case may evaluate, summed over its calls: `10⁸`.
/// A case is refused up front when its model calls times the input's elements (what it
/// evaluates at least: every call sees every example) pass it, and the model refuses the call
/// that would pass it.
pub const MAX_CASE_MODEL_VALUES: usize = 100_000_000;

/// Reads a fixture file of at most `cap` bytes ([`MAX_FIXTURE_BYTES`] for the `conformance`
/// runner): an error naming the file and the cap when it is longer (so `/dev/zero` is refused
/// after `cap` bytes rather than read until memory runs out), and one for a directory.
pub fn read_fixture_file(path: &std::path::Path, cap: u64) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let metadata = file.metadata().map_err(|e| format!("cannot read {shown}: {e}"))?;
    if metadata.is_dir() {
        return Err(format!("cannot read {shown}: it is a directory, not a fixture file"));
    }
    // A regular file's length is known: refused before a byte is read (a stream is read one
    // byte past the cap).
    if metadata.is_file() && metadata.len() > cap {
        return Err(format!("cannot read {shown}: it is longer than {cap} bytes, the most a fixture file may hold"));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!("cannot read {shown}: it is longer than {cap} bytes, the most a fixture file may hold"));
    }
    String::from_utf8(bytes).map_err(|e| format!("cannot read {shown}: not UTF-8 text: {e}"))
}

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

impl HostTensor {
    /// Checks that the data holds exactly as many values as the shape has elements (the
    /// product checked for overflow, every dimension within `i64`); the error names `what`
    /// (`"input"`, `"expected"`, …), the shape and both numbers.
    pub fn check(&self, what: &str) -> Result<(), String> {
        checked_elements(&self.shape, self.data.len()).map(|_| ()).map_err(|e| format!("tensor {what}: {e}"))
    }
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

/// Parses a fixture file; one with no cases is an error (it would check nothing).
pub fn parse(text: &str) -> Result<FixtureFile, String> {
    let file: FixtureFile = serde_json::from_str(text).map_err(|e| format!("not a fixture file: {e}"))?;
    if file.cases.is_empty() {
        return Err("the fixture file has no cases: it would check nothing".into());
    }
    Ok(file)
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

/// A fixture tensor on backend `T`, after [`HostTensor::check`]; errors name `what`.
fn backend_tensor<T: TestBackend>(t: &HostTensor, what: &str) -> Result<TensorOf<T::B>, String> {
    t.check(what)?;
    T::tensor(&t.shape, &t.data).map_err(|e| format!("cannot make tensor {what} of shape {:?}: {e}", t.shape))
}

/// `"name"` for the only input, `"name of input i"` for one of several.
fn named(name: &str, input: Option<usize>) -> String {
    match input {
        None => name.to_string(),
        Some(i) => format!("{name} of input {i}"),
    }
}

/// One input's tensor and baseline tensor on backend `T` (`index`: which of several inputs).
fn input_tensors<T: TestBackend>(spec: &InputSpec, index: Option<usize>) -> Result<InputTensors<T::B>, String> {
    let input = spec.input.as_ref().ok_or("an input has no \"input\" tensor")?;
    let baseline = match &spec.baseline {
        Some(BaselineSpec::Tensor(t)) => Some(backend_tensor::<T>(t, &named("baseline", index))?),
        _ => None,
    };
    Ok((backend_tensor::<T>(input, &named("input", index))?, baseline))
}

/// Checks every tensor of a case (its inputs, baselines, masks, expected results and
/// parameters) before anything runs, so an error names the tensor.
fn check_tensors(case: &FixtureCase) -> Result<(), String> {
    for (name, t) in &case.params {
        t.check(&format!("params.{name}"))?;
    }
    let specs: Vec<(&InputSpec, Option<usize>)> = match &case.inputs {
        None => vec![(&case.single, None)],
        Some(specs) => specs.iter().enumerate().map(|(i, s)| (s, Some(i))).collect(),
    };
    for (spec, index) in specs {
        if let Some(t) = &spec.input {
            t.check(&named("input", index))?;
        }
        if let Some(BaselineSpec::Tensor(t)) = &spec.baseline {
            t.check(&named("baseline", index))?;
        }
        if let Some(t) = &spec.feature_mask {
            t.check(&named("feature_mask", index))?;
        }
    }
    match &case.expected {
        ExpectedSpec::One(t) => t.check("expected"),
        ExpectedSpec::Several(ts) => ts.iter().enumerate().try_for_each(|(i, t)| t.check(&format!("expected {i}"))),
    }
}

/// Refuses a case that asks for more than [`MAX_CASE_MODEL_CALLS`] model calls, a NoiseTunnel
/// drawing more than [`MAX_CASE_NOISY_VALUES`] noisy values, or model values beyond
/// [`MAX_CASE_MODEL_VALUES`] in all or in one call, before any call. `copies` is the most
/// perturbed copies one call holds, `min(P, R)` for the method's `R` regions: the core builds a
/// call's batch before the model sees it (`P = 30000` on 30000 values made 2 calls and a batch
/// of 7 GB).
fn check_work(case: &FixtureCase, calls: usize, input_values: usize, copies: usize) -> Result<(), String> {
    let noisy_copies = case.noise_tunnel.as_ref().map_or(1, |t| t.batch_size.min(t.samples).max(1));
    match copies.checked_mul(noisy_copies).and_then(|c| c.checked_mul(input_values)) {
        Some(v) if v <= MAX_CASE_MODEL_VALUES => {}
        _ => {
            return Err(format!(
                "one model call of the case holds {copies} perturbed copies of {noisy_copies} noisy copies of an input \
                 of {input_values} values, more than {MAX_CASE_MODEL_VALUES} values, the most a fixture case may"
            ))
        }
    }
    if let Some(t) = &case.noise_tunnel {
        match t.samples.checked_mul(input_values) {
            Some(v) if v <= MAX_CASE_NOISY_VALUES => {}
            _ => {
                return Err(format!(
                    "noise_tunnel: {} samples of an input of {input_values} values are more than \
                     {MAX_CASE_NOISY_VALUES} noisy values, the most a fixture case may draw",
                    t.samples
                ))
            }
        }
    }
    if calls > MAX_CASE_MODEL_CALLS {
        return Err(format!(
            "the case asks for {calls} model calls, more than {MAX_CASE_MODEL_CALLS}, the most a fixture case may make"
        ));
    }
    match calls.checked_mul(input_values) {
        Some(v) if v <= MAX_CASE_MODEL_VALUES => Ok(()),
        _ => Err(format!(
            "the case's {calls} model calls on an input of {input_values} values evaluate more than \
             {MAX_CASE_MODEL_VALUES} values, the most a fixture case may"
        )),
    }
}

/// An attribution error, with the cap named when it is the model's value budget.
fn attribution_error(e: tiled_occlusion_core::Error) -> String {
    let message = e.to_string();
    if message.contains(HostForward::<()>::BUDGET_SPENT) {
        format!("{message}: the case evaluates more than {MAX_CASE_MODEL_VALUES} values, the most a fixture case may")
    } else {
        message
    }
}

/// The number of elements of a checked input, for [`check_work`].
fn input_values(spec: &InputSpec) -> usize {
    spec.input.as_ref().map_or(0, |t| t.data.len())
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
            let ids = m.data.iter().enumerate().map(|(i, &id)| mask_id(i, id)).collect::<Result<Vec<_>, _>>()?;
            FeatureAblation::new(FeatureMask::new(m.shape.clone(), ids).map_err(|e| e.to_string())?)
        }
    };
    Ok(ablation.with_perturbations_per_eval(per_eval))
}

/// A mask value as a group id: only an integer exactly representable in `i64` (no fraction,
/// no `NaN` or infinity, within `[−2⁶³, 2⁶³)`); the error names the position.
fn mask_id(position: usize, value: f64) -> Result<i64, String> {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if value.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&value) {
        Ok(value as i64)
    } else {
        Err(format!("feature_mask element {position} is {value}: a mask id must be an integer within i64"))
    }
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

/// `max |actual − expected|` over the results, after checking their shapes and lengths; a
/// `NaN` where a number is expected (or the reverse) is an error naming the element.
fn compare<B: Backend>(actual: &[TensorOf<B>], expected: &[&HostTensor]) -> Result<f64, String> {
    if actual.len() != expected.len() {
        return Err(format!("{} results for {} expected", actual.len(), expected.len()));
    }
    let mut error = 0.0_f64;
    for (i, (out, want)) in actual.iter().zip(expected).enumerate() {
        let which = if expected.len() == 1 { String::new() } else { format!(" {i}") };
        let shape = B::shape(out);
        if shape != want.shape {
            return Err(format!("result{which} has shape {shape:?}, expected {:?}", want.shape));
        }
        let got = B::to_f64_vec(out).map_err(|e| e.to_string())?;
        if got.len() != want.data.len() {
            return Err(format!("result{which} has {} values, expected {}", got.len(), want.data.len()));
        }
        if let Some(j) = first_nan_mismatch(&got, &want.data) {
            return Err(format!("result{which} element {j} is {}, expected {}", got[j], want.data[j]));
        }
        // Never NaN: `max_abs_diff` counts a lone NaN as infinite, two as equal.
        error = error.max(max_abs_diff(&got, &want.data));
    }
    Ok(error)
}

fn attribute_case<T: TestBackend>(case: &FixtureCase) -> Result<f64, String> {
    check_tensors(case)?;
    let per_eval = case.perturbations_per_eval.unwrap_or(1);
    if let Some(specs) = &case.inputs {
        return attribute_several::<T>(case, specs, per_eval);
    }
    let host_model = host_model(case)?;
    if let Some(input) = &case.single.input {
        let example = input.shape.get(1..).ok_or("tensor input has no batch dimension (its shape is [])")?;
        host_model.check_example(example).map_err(|e| format!("model {}: {e}", case.model))?;
    }
    let budget = Some(MAX_CASE_MODEL_VALUES);
    let total = |shape| {
        let mut total = BatchTotal::<T::B>::new(host_model.clone(), shape);
        total.inner.value_budget = budget;
        Box::new(total)
    };
    let mut model: Box<dyn Forward<Backend = T::B>> = match case.batch_output.as_deref() {
        None => {
            let mut model = HostForward::<T::B>::new(host_model.clone());
            model.value_budget = budget;
            Box::new(model)
        }
        Some("total") => total(TotalShape::All),
        Some("column_sums") => total(TotalShape::Flat),
        Some("column_sums_keepdim") => total(TotalShape::OneRow),
        Some(other) => return Err(format!("unknown batch_output {other:?}")),
    };
    let spec = &case.single;
    let (input, baseline_tensor) = input_tensors::<T>(spec, None)?;
    let inputs = Inputs::new(&input).with_baseline(baseline_of(spec, &baseline_tensor)).with_target(target(case));
    let build = |per_eval: usize| -> Result<Box<dyn Attribution<T::B>>, String> {
        Ok(match case.method.as_str() {
            "occlusion" => Box::new(occlusion_of(spec, per_eval)),
            "feature_ablation" => Box::new(ablation_of(spec, per_eval)?),
            "tiled_occlusion" | "tiled_occlusion_reference" => Box::new(tiled_of(case, spec, per_eval)?),
            other => return Err(format!("unknown method {other:?}")),
        })
    };
    let shape = T::B::shape(&input);
    // One copy per call: 1 + R calls (R for reference mode's phases, more than its copies).
    let regions = build(1)?.model_calls(&shape).map_err(|e| e.to_string())?.saturating_sub(1);
    let method = build(per_eval)?;
    let method = match &case.noise_tunnel {
        None => method,
        Some(t) => Box::new(noise_tunnel(t, method)?),
    };
    let calls = method.model_calls(&shape).map_err(|e| e.to_string())?;
    check_work(case, calls, input_values(spec), per_eval.min(regions))?;
    let out = method.attribute(model.as_mut(), &inputs).map_err(attribution_error)?;
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
    let tensors =
        specs.iter().enumerate().map(|(i, s)| input_tensors::<T>(s, Some(i))).collect::<Result<Vec<_>, _>>()?;
    let shapes: Vec<Vec<usize>> = tensors.iter().map(|(x, _)| T::B::shape(x)).collect();
    let host = host_model(case)?;
    if shapes.iter().all(|s| !s.is_empty()) {
        // The model reads each example's inputs flattened side by side: one row of `Σ Π d`.
        let d = shapes.iter().try_fold(0usize, |acc, s| {
            s[1..].iter().try_fold(1usize, |a, &n| a.checked_mul(n)).and_then(|n| acc.checked_add(n))
        });
        let d = d.ok_or("the inputs together have more values per example than fit a usize")?;
        host.check_example(&[d]).map_err(|e| format!("model {}: {e}", case.model))?;
    }
    let inputs = MultiInputs::new(tensors.iter().map(|(input, _)| input))
        .with_baselines(specs.iter().zip(&tensors).map(|(spec, (_, b))| baseline_of(spec, b)))
        .with_target(target(case));
    let calls = std::cell::Cell::new(0);
    let mut model = budgeted_multi_model::<T::B>(host, &calls, Some(MAX_CASE_MODEL_VALUES));
    let build = |per_eval: usize| -> Result<Box<dyn MultiAttribution<T::B>>, String> {
        Ok(match case.method.as_str() {
            "occlusion" => Box::new(PerInput::new(specs.iter().map(|s| occlusion_of(s, per_eval)))),
            "feature_ablation" => {
                Box::new(PerInput::new(specs.iter().map(|s| ablation_of(s, per_eval)).collect::<Result<Vec<_>, _>>()?))
            }
            "tiled_occlusion" => Box::new(PerInput::new(
                specs.iter().map(|s| tiled_of(case, s, per_eval)).collect::<Result<Vec<_>, _>>()?,
            )),
            other => return Err(format!("unknown method {other:?} for several inputs")),
        })
    };
    let regions = build(1)?.model_calls(&shapes).map_err(|e| e.to_string())?.saturating_sub(1);
    let method = build(per_eval)?;
    let method = match &case.noise_tunnel {
        None => method,
        Some(t) => Box::new(noise_tunnel(t, method)?),
    };
    let model_calls = method.model_calls(&shapes).map_err(|e| e.to_string())?;
    check_work(case, model_calls, specs.iter().map(input_values).sum(), per_eval.min(regions))?;
    let out = method.attribute(&mut model, &inputs).map_err(attribution_error)?;
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

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use crate::markers::NdarrayF64;

    /// The outcome of a one-case fixture file on ndarray-f64: the max error or the error.
    fn outcome(case: &str) -> Result<f64, String> {
        let outcomes = run_file::<NdarrayF64>(&format!("{{\"cases\": [{case}]}}")).expect("a fixture file");
        assert_eq!(outcomes.len(), 1);
        outcomes[0].max_error.clone()
    }

    /// A linear occlusion case over `(1, 4)` with `extra` fields replacing the defaults.
    fn linear(extra: &str) -> String {
        let mut case: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"name": "c", "method": "occlusion", "model": "linear",
                "params": {"W": {"shape": [1, 4], "data": [1, 2, 3, 4]}, "b": {"shape": [1], "data": [0]}},
                "input": {"shape": [1, 4], "data": [1, 1, 1, 1]}, "window": [1], "strides": 1,
                "baseline": 0.0, "target": 0, "expected": {"shape": [1, 4], "data": [1, 2, 3, 4]}}"#,
        )
        .expect("json");
        let extra: serde_json::Map<String, serde_json::Value> = serde_json::from_str(extra).expect("json");
        case.extend(extra);
        serde_json::Value::Object(case).to_string()
    }

    fn failure(case: &str) -> String {
        match outcome(case) {
            Err(e) => e,
            Ok(error) => panic!("passed with max error {error}: {case}"),
        }
    }

    #[test]
    fn the_base_case_passes() {
        assert_eq!(outcome(&linear("{}")), Ok(0.0));
    }

    #[test]
    fn a_file_without_cases_is_refused() {
        assert_eq!(
            run_file::<NdarrayF64>(r#"{"cases": []}"#).map(|o| o.len()),
            Err("the fixture file has no cases: it would check nothing".into())
        );
    }

    #[test]
    fn a_nan_result_fails_naming_the_element() {
        // R1: 1e308 · 2 overflows, so every attribution is inf − inf = NaN.
        let case = linear(
            r#"{"params": {"W": {"shape": [1, 4], "data": [2, -2, 2, -2]}, "b": {"shape": [1], "data": [0]}},
                "input": {"shape": [1, 4], "data": [1e308, 1e308, 1e308, 1e308]},
                "expected": {"shape": [1, 4], "data": [5, 5, 5, 5]}}"#,
        );
        assert_eq!(failure(&case), "result element 0 is NaN, expected 5");
    }

    #[test]
    fn fixture_tensors_whose_data_does_not_fill_the_shape_are_named() {
        let cases = [
            // R10
            (
                r#"{"expected": {"shape": [1, 4], "data": [1, 2]}}"#,
                "tensor expected: shape [1, 4] has 4 elements, but the data has 2 values",
            ),
            // R11
            (
                r#"{"input": {"shape": [1, 4], "data": [1, 1, 1]}}"#,
                "tensor input: shape [1, 4] has 4 elements, but the data has 3 values",
            ),
            // R5
            (
                r#"{"input": {"shape": [4294967296, 4294967296, 2], "data": [1]}}"#,
                "tensor input: shape [4294967296, 4294967296, 2]: the number of elements overflows",
            ),
            // R6
            (
                r#"{"input": {"shape": [18446744073709551615, 4], "data": [1, 1, 1, 1]}}"#,
                "tensor input: shape [18446744073709551615, 4]: dimension 18446744073709551615 does not fit a signed \
                 64-bit size",
            ),
            (
                r#"{"baseline": {"shape": [1, 4], "data": [0]}}"#,
                "tensor baseline: shape [1, 4] has 4 elements, but the data has 1 values",
            ),
            // R9
            (
                r#"{"params": {"W": {"shape": [7, 9], "data": [1, 2, 3, 4]}, "b": {"shape": [5], "data": [0]}}}"#,
                "tensor params.W: shape [7, 9] has 63 elements, but the data has 4 values",
            ),
        ];
        for (extra, want) in cases {
            assert_eq!(failure(&linear(extra)), want, "{extra}");
        }
    }

    #[test]
    fn model_parameters_must_agree_with_each_other_and_the_input() {
        let cases = [
            // R2
            (
                r#"{"model": "mlp", "params": {"W1": {"shape": [0, 4], "data": []}, "W2": {"shape": [1, 0], "data": []}}}"#,
                "model mlp: parameter W1 has 0 rows; the hidden size must be at least 1",
            ),
            (
                r#"{"model": "mlp", "params": {"W1": {"shape": [2, 4], "data": [1, 1, 1, 1, 1, 1, 1, 1]},
                    "W2": {"shape": [1, 3], "data": [1, 1, 1]}}}"#,
                "model mlp: the columns of W2 is 3, but the hidden size (the rows of W1) is 2",
            ),
            // R3
            (
                r#"{"model": "gap", "params": {"W": {"shape": [1, 1], "data": [1]}},
                    "input": {"shape": [2], "data": [1, 2]}, "window": [], "strides": [],
                    "expected": {"shape": [2], "data": [0, 0]}}"#,
                "model gap: the gap model needs examples of at least one dimension (channels first), got shape []",
            ),
            (
                r#"{"model": "gap", "params": {"W": {"shape": [1, 0], "data": []}}}"#,
                "model gap: parameter W has 0 columns; it needs one per channel, at least 1",
            ),
            // R4
            (
                r#"{"output_shape": [4294967296, 4294967296, 2]}"#,
                "model linear: output_shape [4294967296, 4294967296, 2]: the number of elements overflows",
            ),
            (r#"{"output_shape": [2, 3]}"#, "model linear: output_shape [2, 3] has 6 elements, but the model gives 1 outputs per example"),
            // R7
            (
                r#"{"model": "relu_mlp", "params": {"W1": {"shape": [2, 4], "data": [1, 1, 1, 1, 1, 1, 1, 1]},
                    "b1": {"shape": [2], "data": [0, 0]}, "W2": {"shape": [1, 2], "data": [1]}, "b2": {"shape": [1], "data": [0]}}}"#,
                "tensor params.W2: shape [1, 2] has 2 elements, but the data has 1 values",
            ),
            (
                r#"{"model": "relu_mlp", "params": {"W1": {"shape": [2, 4], "data": [1, 1, 1, 1, 1, 1, 1, 1]},
                    "b1": {"shape": [2], "data": [0, 0]}, "W2": {"shape": [1, 2], "data": [1, 1]}, "b2": {"shape": [2], "data": [0, 0]}}}"#,
                "model relu_mlp: the length of b2 is 2, but the rows of W2 is 1",
            ),
            (
                r#"{"params": {"W": {"shape": [1, 4], "data": [1, 2, 3, 4]}, "b": {"shape": [2], "data": [0, 0]}}}"#,
                "model linear: the rows of W is 1, but the length of b is 2",
            ),
            (
                r#"{"params": {"W": {"shape": [4], "data": [1, 2, 3, 4]}, "b": {"shape": [1], "data": [0]}}}"#,
                "model linear: parameter W must be a matrix, but its shape is [4]",
            ),
            (
                r#"{"params": {"W": {"shape": [1, 3], "data": [1, 2, 3]}, "b": {"shape": [1], "data": [0]}}}"#,
                "model linear: W has 3 values, expected 1 × 4 = 4 (one row per value of b, one column per input value, \
                 for an example of shape [4])",
            ),
            (
                r#"{"params": {"W": {"shape": [1, 4], "data": [1, 2, 3, 4]}, "b": {"shape": [1], "data": [0]},
                    "c": {"shape": [], "data": [0]}}}"#,
                "model linear has no parameter \"c\"; it takes W, b",
            ),
            (
                r#"{"model": "sq", "params": {"a": {"shape": [3], "data": [1, 1, 1]}}, "target": null}"#,
                "model sq: a has 3 values, expected 1 × 4 = 4 (one weight per input value, for an example of shape [4])",
            ),
        ];
        for (extra, want) in cases {
            assert_eq!(failure(&linear(extra)), want, "{extra}");
        }
    }

    #[test]
    fn mask_ids_must_be_exact_integers_within_i64() {
        let fa = |data: &str| {
            linear(&format!(
                r#"{{"method": "feature_ablation", "window": [], "feature_mask": {{"shape": [1, 4], "data": {data}}}}}"#
            ))
        };
        assert_eq!(outcome(&fa("[0, 1, 2, 3]")), Ok(0.0));
        // Relabelled groups, the extreme ids included, give the same map.
        assert_eq!(outcome(&fa("[-9223372036854775808, 1, 2, 3]")), Ok(0.0));
        // R8
        assert_eq!(
            failure(&fa("[0.5, 0.9, 2.7, 3.2]")),
            "feature_mask element 0 is 0.5: a mask id must be an integer within i64"
        );
        assert_eq!(
            failure(&fa("[0, 1, 2, 1e30]")),
            "feature_mask element 3 is 1000000000000000000000000000000: a mask id must be an integer within i64"
        );
        // i64::MAX reads as 2⁶³ (shown as its shortest decimal), the first f64 past i64::MAX.
        assert_eq!(
            failure(&fa("[0, 9223372036854775807, 2, 3]")),
            "feature_mask element 1 is 9223372036854776000: a mask id must be an integer within i64"
        );
        assert_eq!(
            failure(&linear(
                r#"{"method": "feature_ablation", "window": [], "feature_mask": {"shape": [1, 4], "data": [0]}}"#
            )),
            "tensor feature_mask: shape [1, 4] has 4 elements, but the data has 1 values"
        );
    }

    #[test]
    fn cases_asking_for_too_much_work_are_refused_before_any_call() {
        let tunnel = |samples: usize, batch: usize| {
            linear(&format!(
                r#"{{"noise_tunnel": {{"type": "smoothgrad", "samples": {samples}, "batch_size": {batch}, "stdev": 1e-6}}}}"#
            ))
        };
        assert!(outcome(&tunnel(3, 2)).is_ok());
        // /tmp/confhunt/nt_many_samples.json: 10⁹ samples, one per call.
        assert_eq!(
            failure(&tunnel(1_000_000_000, 1)),
            "noise_tunnel: 1000000000 samples of an input of 4 values are more than 1000000 noisy values, the most a \
             fixture case may draw"
        );
        // 250000 samples of 4 values pass the noise cap, but make 5 · 250000 calls.
        assert_eq!(
            failure(&tunnel(250_000, 1)),
            "the case asks for 1250000 model calls, more than 1000000, the most a fixture case may make"
        );
        let d = 20_000;
        let wide = |per_eval: usize| {
            let ones = vec!["1"; d].join(", ");
            linear(&format!(
                r#"{{"model": "sq", "params": {{"a": {{"shape": [{d}], "data": [{ones}]}}}}, "target": null,
                    "input": {{"shape": [1, {d}], "data": [{ones}]}}, "perturbations_per_eval": {per_eval},
                    "expected": {{"shape": [1, {d}], "data": [{ones}]}}}}"#
            ))
        };
        // 20001 calls of 20000 values each: refused up front.
        assert_eq!(
            failure(&wide(1)),
            "the case's 20001 model calls on an input of 20000 values evaluate more than 100000000 values, the most \
             a fixture case may"
        );
        // 2 calls, the second of 20000² values: refused before the core builds that batch (it
        // built 3.2 GB for the model to refuse).
        assert_eq!(
            failure(&wide(d)),
            "one model call of the case holds 20000 perturbed copies of 1 noisy copies of an input of 20000 values, \
             more than 100000000 values, the most a fixture case may"
        );
    }

    #[test]
    fn fixture_files_are_read_up_to_the_cap() {
        let dir = std::env::temp_dir().join(format!("tiled-occlusion-fixture-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("f.json");
        std::fs::write(&file, "0123456789").expect("write");
        assert_eq!(read_fixture_file(&file, 10), Ok("0123456789".into()));
        assert_eq!(
            read_fixture_file(&file, 9),
            Err(format!("cannot read {}: it is longer than 9 bytes, the most a fixture file may hold", file.display()))
        );
        assert_eq!(
            read_fixture_file(&dir, 10),
            Err(format!("cannot read {}: it is a directory, not a fixture file", dir.display()))
        );
        let zero = std::path::Path::new("/dev/zero");
        if zero.exists() {
            assert_eq!(
                read_fixture_file(zero, 1 << 20),
                Err("cannot read /dev/zero: it is longer than 1048576 bytes, the most a fixture file may hold".into())
            );
        }
        // A sparse regular file over the cap: refused by its length, nothing read.
        let big = dir.join("big.json");
        std::fs::File::create(&big).and_then(|f| f.set_len(8 << 30)).expect("sparse file");
        assert_eq!(
            read_fixture_file(&big, MAX_FIXTURE_BYTES),
            Err(format!(
                "cannot read {}: it is longer than {MAX_FIXTURE_BYTES} bytes, the most a fixture file may hold",
                big.display()
            ))
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
