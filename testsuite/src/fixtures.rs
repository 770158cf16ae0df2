//! Golden fixtures: cases computed by Captum and the Python reference, in the format of
//! `fixtures/FORMAT.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use tiled_occlusion_core::perturbation::PerDimension;
use tiled_occlusion_core::{
    Aggregation, Attribution, Baseline, FeatureAblation, FeatureMask, Forward, Inputs, NoiseTunnel, NoiseTunnelType,
    Occlusion, Target, TiledOcclusion, TilingMode,
};

use crate::batch_level::{BatchTotal, TotalShape};
use crate::host_model::{HostForward, HostModel};
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
    /// Input `(N, d…)`.
    pub input: HostTensor,
    /// Window per dimension (none for FeatureAblation).
    #[serde(default)]
    pub window: Vec<usize>,
    /// FeatureAblation's group ids; absent: every element its own group.
    #[serde(default)]
    pub feature_mask: Option<HostTensor>,
    /// `P` (default 1).
    #[serde(default)]
    pub perturbations_per_eval: Option<usize>,
    /// A NoiseTunnel around the method.
    #[serde(default)]
    pub noise_tunnel: Option<NoiseTunnelSpec>,
    /// Occlusion strides.
    #[serde(default)]
    pub strides: Option<StridesSpec>,
    /// Tiling factors.
    #[serde(default)]
    pub k: Option<Vec<usize>>,
    /// `mean` or `sum` (default mode only).
    #[serde(default)]
    pub aggregation: Option<String>,
    /// Baseline.
    pub baseline: BaselineSpec,
    /// Target (`null` for one-value models).
    #[serde(default)]
    pub target: Option<TargetSpec>,
    /// Expected attribution.
    pub expected: HostTensor,
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
    let scale = case.expected.data.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    CaseOutcome { name: case.name.clone(), max_error: attribute_case::<T>(case), bound: T::TOLERANCE.max(1e-4) * scale }
}

fn attribute_case<T: TestBackend>(case: &FixtureCase) -> Result<f64, String> {
    let params = case.params.iter().map(|(k, v)| (k.clone(), (v.shape.clone(), v.data.clone()))).collect();
    let mut host_model = HostModel::from_params(&case.model, &params)?;
    if let Some(shape) = &case.output_shape {
        host_model = HostModel::Reshaped { model: Box::new(host_model), output_shape: shape.clone() };
    }
    let mut model: Box<dyn Forward<Backend = T::B>> = match case.batch_output.as_deref() {
        None => Box::new(HostForward::<T::B>::new(host_model)),
        Some("total") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::All)),
        Some("column_sums") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::Flat)),
        Some("column_sums_keepdim") => Box::new(BatchTotal::<T::B>::new(host_model, TotalShape::OneRow)),
        Some(other) => return Err(format!("unknown batch_output {other:?}")),
    };
    let input = T::tensor(&case.input.shape, &case.input.data)?;
    let baseline_tensor = match &case.baseline {
        BaselineSpec::Tensor(t) => Some(T::tensor(&t.shape, &t.data)?),
        BaselineSpec::Scalar(_) => None,
    };
    let baseline = match (&case.baseline, &baseline_tensor) {
        (BaselineSpec::Scalar(v), _) => Baseline::Scalar(*v),
        (_, Some(t)) => Baseline::Tensor(t),
        (BaselineSpec::Tensor(_), None) => return Err("baseline tensor missing".into()),
    };
    let target = match &case.target {
        None => Target::None,
        Some(TargetSpec::Class(c)) => Target::Class(*c),
        Some(TargetSpec::PerExample(c)) => Target::PerExample(c.clone()),
        Some(TargetSpec::PerExampleIndex(t)) => Target::PerExampleIndex(t.clone()),
    };
    let per_eval = case.perturbations_per_eval.unwrap_or(1);
    let inputs = Inputs::new(&input).with_baseline(baseline).with_target(target);
    let k = || case.k.clone().ok_or_else(|| format!("case {} has no k", case.name));
    let method: Box<dyn Attribution<T::B>> = match case.method.as_str() {
        "occlusion" => {
            let strides = match &case.strides {
                Some(StridesSpec::All(s)) => PerDimension::All(*s),
                Some(StridesSpec::Each(s)) => PerDimension::Each(s.clone()),
                None => PerDimension::All(1),
            };
            Box::new(Occlusion::new(case.window.clone()).with_strides(strides).with_perturbations_per_eval(per_eval))
        }
        "feature_ablation" => {
            let ablation = match &case.feature_mask {
                None => FeatureAblation::per_element(),
                Some(m) => {
                    let ids = m.data.iter().map(|&id| id as i64).collect::<Vec<_>>();
                    FeatureAblation::new(FeatureMask::new(m.shape.clone(), ids).map_err(|e| e.to_string())?)
                }
            };
            Box::new(ablation.with_perturbations_per_eval(per_eval))
        }
        "tiled_occlusion" => {
            let aggregation = match case.aggregation.as_deref() {
                None | Some("mean") => Aggregation::Mean,
                Some("sum") => Aggregation::Sum,
                Some(other) => return Err(format!("unknown aggregation {other:?}")),
            };
            Box::new(
                TiledOcclusion::new(case.window.clone(), k()?)
                    .with_aggregation(aggregation)
                    .with_perturbations_per_eval(per_eval),
            )
        }
        "tiled_occlusion_reference" => {
            Box::new(TiledOcclusion::new(case.window.clone(), k()?).with_mode(TilingMode::Reference))
        }
        other => return Err(format!("unknown method {other:?}")),
    };
    let method = match &case.noise_tunnel {
        None => method,
        Some(t) => {
            let kind = match t.kind.as_str() {
                "smoothgrad" => NoiseTunnelType::SmoothGrad,
                "smoothgrad_sq" => NoiseTunnelType::SmoothGradSq,
                "vargrad" => NoiseTunnelType::VarGrad,
                other => return Err(format!("unknown noise tunnel type {other:?}")),
            };
            Box::new(
                NoiseTunnel::new(method)
                    .with_type(kind)
                    .with_samples(t.samples)
                    .with_samples_batch_size(t.batch_size)
                    .with_stdev(t.stdev),
            )
        }
    };
    let out = method.attribute(model.as_mut(), &inputs).map_err(|e| e.to_string())?;
    let shape = <T::B as tiled_occlusion_core::backend::Backend>::shape(&out);
    if shape != case.expected.shape {
        return Err(format!("result has shape {shape:?}, expected {:?}", case.expected.shape));
    }
    let actual = <T::B as tiled_occlusion_core::backend::Backend>::to_f64_vec(&out).map_err(|e| e.to_string())?;
    Ok(max_abs_diff(&actual, &case.expected.data))
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
    assert_eq!(outcomes.len(), 31, "the shipped fixture file has 31 cases");
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
