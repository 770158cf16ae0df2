//! Random configurations, valid and invalid: every invalid one returns an error, every valid
//! one succeeds, and none panics.

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::perturbation::PerDimension;
use tiled_occlusion_core::{
    Attribution, Baseline, Contrast, Error, FeatureAblation, FeatureMask, Forward, FusionGrad, Inputs, NoiseTunnel,
    Occlusion, Target, TiledOcclusion, TilingMode,
};

use crate::properties::check_strategy;
use crate::test_backend::{tensor, BoxedMethod, TestBackend};

/// How the model behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Output `(rows, C)`.
    Classes(usize),
    /// Output `(rows,)`.
    Scalar,
    /// Output `(rows + 1, C)`.
    WrongBatch(usize),
    /// `(rows, C)` on the first call, `(rows, C + 1)` after.
    ChangesShape(usize),
    /// Fails on call number `n` (0 = the first). The generator uses `n` of 0 or 1: every
    /// method makes at least two calls (the unperturbed one and one with a region), so the
    /// failure always happens.
    FailsAt(usize),
}

/// A model that misbehaves as told; row-wise and of any input length otherwise.
pub struct Misbehaving<B> {
    behaviour: Behaviour,
    calls: usize,
    backend: PhantomData<fn() -> B>,
}

impl<B: Backend> Forward for Misbehaving<B> {
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> Result<TensorOf<B>, ModelError> {
        let shape = B::shape(batch);
        let x = B::to_f64_vec(batch)?;
        let rows = shape.first().copied().unwrap_or(0);
        let width = (x.len() / rows.max(1)).max(1);
        let sums: Vec<f64> = x.chunks(width).map(|r| r.iter().sum()).collect();
        let call = self.calls;
        self.calls += 1;
        let sums = &sums;
        let classes = |c: usize, rows: usize| -> (Vec<usize>, Vec<f64>) {
            let row = |r: usize| sums.get(r).copied().unwrap_or(0.0);
            let data = (0..rows).flat_map(|r| (0..c).map(move |j| (j + 1) as f64 * row(r))).collect();
            (vec![rows, c], data)
        };
        let (out_shape, data) = match self.behaviour {
            Behaviour::Classes(c) => classes(c, rows),
            Behaviour::Scalar => (vec![rows], sums.clone()),
            Behaviour::WrongBatch(c) => classes(c, rows + 1),
            Behaviour::ChangesShape(c) => classes(if call == 0 { c } else { c + 1 }, rows),
            Behaviour::FailsAt(n) if n == call => return Err(format!("model refused call {call}").into()),
            Behaviour::FailsAt(_) => classes(3, rows),
        };
        Ok(B::from_f64_slice(batch, &out_shape, &data)?)
    }
}

/// One random configuration.
#[derive(Clone, Debug)]
pub struct Configuration {
    /// Input shape, batch first (rank 0–5, sizes 0–5).
    pub input_shape: Vec<usize>,
    /// 0 Occlusion, 1 shifted tiling, 2 reference tiling, 3 feature ablation.
    pub method: usize,
    /// Window.
    pub window: Vec<usize>,
    /// Strides.
    pub strides: PerDimension,
    /// `k`.
    pub k: PerDimension,
    /// `P`.
    pub per_eval: usize,
    /// Baseline tensor shape, or a scalar.
    pub baseline: Option<Vec<usize>>,
    /// Feature-mask shape (ids are position indices modulo 3).
    pub mask: Vec<usize>,
    /// The target.
    pub target: Target,
    /// The model.
    pub behaviour: Behaviour,
}

/// Random configurations: a valid one, then in about two cases of three one thing broken
/// (a shape, a window, a stride, `k`, `P`, the baseline, the mask, the target or the model).
pub fn configurations() -> impl Strategy<Value = Configuration> {
    (
        prop::collection::vec((1usize..=5, any::<(Index, Index, Index)>()), 1..=3),
        1usize..=3,
        0usize..4,
        0usize..5,
        0usize..7,
        0usize..3,
        0usize..28,
        any::<u64>(),
    )
        .prop_map(|(dims, examples, method, baseline, target, model, corruption, seed)| {
            let shape: Vec<usize> = dims.iter().map(|(d, _)| *d).collect();
            let window: Vec<usize> = dims.iter().map(|(d, (w, _, _))| 1 + w.index(*d)).collect();
            let strides = window.iter().zip(&dims).map(|(&w, (_, (_, s, _)))| 1 + s.index(w)).collect();
            let k = window
                .iter()
                .zip(&dims)
                .map(|(&w, (_, (_, _, k)))| {
                    let options: Vec<usize> = (1..=w).filter(|k| w % k == 0).collect();
                    options[k.index(options.len())]
                })
                .collect();
            let mut input_shape = vec![examples];
            input_shape.extend(&shape);
            let leading_one = std::iter::once(1).chain(shape.iter().copied()).collect();
            let classes = 3;
            let (target, behaviour) = match (model, target) {
                (0, _) => (Target::None, Behaviour::Scalar),
                (_, 0) => (Target::Class(seed as usize % classes), Behaviour::Classes(classes)),
                (_, 1) => {
                    (Target::PerExample((0..examples).map(|n| n % classes).collect()), Behaviour::Classes(classes))
                }
                (_, 2) => (Target::Index(vec![1]), Behaviour::Classes(classes)),
                (_, 3) => (Target::Contrastive { class: 2, against: Contrast::Class(0) }, Behaviour::Classes(classes)),
                (_, 4) => {
                    (Target::Contrastive { class: 1, against: Contrast::MeanOfOthers }, Behaviour::Classes(classes))
                }
                (_, 5) => (
                    Target::PerExampleIndex((0..examples).map(|n| vec![(n + 1) % classes]).collect()),
                    Behaviour::Classes(classes),
                ),
                _ => (Target::None, Behaviour::Classes(1)),
            };
            let mut c = Configuration {
                input_shape: input_shape.clone(),
                method,
                window,
                strides: PerDimension::Each(strides),
                k: PerDimension::Each(k),
                per_eval: 1 + (seed % 4) as usize,
                baseline: match baseline {
                    0 => None,
                    1 => Some(shape.clone()),
                    2 => Some(leading_one),
                    3 => Some(input_shape.clone()),
                    _ => Some(vec![1]),
                },
                mask: shape.clone(),
                target,
                behaviour,
            };
            let m = shape.len();
            let dim = (seed >> 8) as usize % m;
            match corruption {
                0 => c.input_shape.truncate(1),
                1 => c.input_shape[1 + dim] = 0,
                2 => c.window.push(1),
                3 => c.window[dim] = 0,
                4 => c.window[dim] = shape[dim] + 1 + (seed % 2) as usize,
                5 => c.strides = PerDimension::All(0),
                6 => c.strides = PerDimension::Each(vec![1; m + 1]),
                7 => {
                    c.window[dim] = shape[dim].max(2);
                    c.strides = PerDimension::All(c.window[dim] + 1);
                }
                8 => c.k = PerDimension::All(0),
                9 => c.k = PerDimension::Each(vec![1; m.saturating_sub(1)]),
                10 => c.k = PerDimension::All(c.window[dim] + 1),
                11 => c.per_eval = 0,
                12 => c.baseline = Some(vec![examples + 1; m + 1]),
                13 => c.baseline = Some(vec![2; m + 2]),
                14 => c.mask = vec![shape[dim] + 1; m],
                15 => c.target = Target::Class(classes),
                16 => c.target = Target::PerExample(vec![0; examples + 1]),
                17 => c.target = Target::Contrastive { class: 1, against: Contrast::Class(1) },
                18 => c.behaviour = Behaviour::WrongBatch(classes),
                19 => c.behaviour = Behaviour::ChangesShape(classes),
                20 => c.behaviour = Behaviour::FailsAt((seed % 2) as usize),
                21 => c.target = Target::Index(vec![0, 0]),
                22 => c.target = Target::PerExampleIndex(vec![vec![0, 0]; examples]),
                23 => c.target = Target::PerExampleIndex(vec![vec![classes]; examples]),
                _ => {}
            }
            c
        })
}

/// Whether `t` is a full index into an output of `trailing` dimensions after the batch.
fn index_fits(t: &[usize], trailing: &[usize]) -> bool {
    !t.is_empty() && t.len() == trailing.len() && t.iter().zip(trailing).all(|(i, s)| i < s)
}

fn broadcastable(from: &[usize], to: &[usize]) -> bool {
    from.len() <= to.len() && from.iter().rev().zip(to.iter().rev()).all(|(&f, &t)| f == 1 || f == t)
}

impl Configuration {
    fn resolve(&self, p: &PerDimension, rank: usize) -> Option<Vec<usize>> {
        match p {
            PerDimension::All(v) => Some(vec![*v; rank]),
            PerDimension::Each(v) if v.len() == rank => Some(v.clone()),
            PerDimension::Each(_) => None,
        }
    }

    /// Whether SEMANTICS.md accepts this configuration, decided from its text alone.
    pub fn valid(&self) -> bool {
        let shape = &self.input_shape;
        if shape.is_empty() || shape.contains(&0) || self.per_eval == 0 {
            return false;
        }
        let (n, d, m) = (shape[0], &shape[1..], shape.len() - 1);
        let mut scalar_baseline = true;
        if let Some(b) = &self.baseline {
            // One value of rank at most the input's is a scalar ((1, 1) is not one for (N,)).
            scalar_baseline = b.iter().product::<usize>() == 1 && b.len() <= shape.len();
            if !(scalar_baseline || broadcastable(b, shape)) {
                return false;
            }
        }
        let method_ok = match self.method {
            0 => {
                let Some(s) = self.resolve(&self.strides, m) else { return false };
                self.window.len() == m
                    && (0..m).all(|r| {
                        let (w, s, d) = (self.window[r], s[r], d[r]);
                        w >= 1 && w <= d && s >= 1 && (s <= w || w == d)
                    })
            }
            1 | 2 => {
                let Some(k) = self.resolve(&self.k, m) else { return false };
                let basic = self.window.len() == m
                    && (0..m).all(|r| self.window[r] >= 1 && k[r] >= 1 && self.window[r] % k[r] == 0);
                if self.method == 1 || !basic {
                    basic
                } else {
                    scalar_baseline
                        && (0..m).all(|r| {
                            let s = self.window[r] / k[r];
                            let pad = if k[r] > 1 { s } else { 0 };
                            (0..k[r]).all(|f| (d[r] + f * s).min(d[r] + pad) - f * s >= self.window[r])
                        })
                }
            }
            _ => {
                let mask = &self.mask;
                mask == d || (mask.first() == Some(&1) && &mask[1..] == d) || mask == shape
            }
        };
        if !method_ok {
            return false;
        }
        let trailing: Vec<usize> = match self.behaviour {
            Behaviour::Classes(c) => vec![c],
            Behaviour::Scalar => vec![],
            // `(rows + 1, C)` on every call: one output for the whole batch, read as its rows,
            // with P = 1, regions shared by every example, an example-independent target, and
            // not in the reference mode.
            Behaviour::WrongBatch(c) => {
                let shared_mask = self.method != 3 || self.mask != *shape || (n == 1 && self.mask[0] == 1);
                let example_independent = !matches!(self.target, Target::PerExample(_) | Target::PerExampleIndex(_));
                if self.per_eval != 1 || self.method == 2 || !shared_mask || !example_independent {
                    return false;
                }
                if self.target == Target::None {
                    return true;
                }
                vec![c]
            }
            _ => return false,
        };
        let classes = trailing.first().copied().unwrap_or(0);
        match &self.target {
            Target::None => trailing.iter().product::<usize>() == 1,
            Target::Class(c) => trailing.len() == 1 && *c < classes,
            Target::PerExample(cs) => cs.len() == n && trailing.len() == 1 && cs.iter().all(|c| *c < classes),
            Target::Index(t) => index_fits(t, &trailing),
            Target::PerExampleIndex(ts) => ts.len() == n && ts.iter().all(|t| index_fits(t, &trailing)),
            Target::Contrastive { class, against: Contrast::Class(o) } => {
                trailing.len() == 1 && *class < classes && *o < classes && o != class
            }
            Target::Contrastive { class, against: Contrast::MeanOfOthers } => {
                trailing.len() == 1 && *class < classes && classes >= 2
            }
        }
    }
}

/// Randomly generated configurations return errors exactly when invalid, and never panic.
///
/// The generator must produce both kinds: at least a tenth of the cases valid and a tenth
/// invalid, or the property fails as vacuous.
pub fn invalid_configurations_return_errors<T: TestBackend>() {
    let valid = AtomicUsize::new(0);
    let invalid = AtomicUsize::new(0);
    check_strategy::<T, _>("invalid_configurations_return_errors", configurations(), |c| {
        if c.valid() { &valid } else { &invalid }.fetch_add(1, Ordering::Relaxed);
        check_configuration::<T>(c)
    });
    let (valid, invalid) = (valid.into_inner(), invalid.into_inner());
    let total = valid + invalid;
    assert!(
        10 * valid >= total && 10 * invalid >= total,
        "{}: vacuous generator: {valid} valid, {invalid} invalid",
        T::NAME
    );
}

/// Runs one configuration: `Ok` when the outcome (result or error, and no panic) is the one
/// SEMANTICS.md asks for.
pub fn check_configuration<T: TestBackend>(c: &Configuration) -> Result<(), TestCaseError> {
    let size: usize = c.input_shape.iter().product();
    let data: Vec<f64> = (0..size).map(|i| (i % 7) as f64 / 7.0).collect();
    let input = tensor::<T>(&c.input_shape, &data);
    let baseline_tensor = c.baseline.as_ref().map(|s| tensor::<T>(s, &vec![0.25; s.iter().product()]));
    let baseline = baseline_tensor.as_ref().map_or(Baseline::Scalar(0.5), Baseline::Tensor);
    let inputs = Inputs::new(&input).with_baseline(baseline).with_target(c.target.clone());
    let method: Box<dyn Attribution<T::B>> = match c.method {
        0 => Box::new(
            Occlusion::new(c.window.clone()).with_strides(c.strides.clone()).with_perturbations_per_eval(c.per_eval),
        ),
        1 => Box::new(TiledOcclusion::new(c.window.clone(), c.k.clone()).with_perturbations_per_eval(c.per_eval)),
        2 => Box::new(
            TiledOcclusion::new(c.window.clone(), c.k.clone())
                .with_mode(TilingMode::Reference)
                .with_perturbations_per_eval(c.per_eval),
        ),
        _ => {
            let ids: Vec<i64> = (0..c.mask.iter().product::<usize>()).map(|i| (i % 3) as i64).collect();
            match FeatureMask::new(c.mask.clone(), ids) {
                Ok(mask) => Box::new(FeatureAblation::new(mask).with_perturbations_per_eval(c.per_eval)),
                Err(e) => return Err(TestCaseError::fail(format!("a well-formed mask was refused: {e}"))),
            }
        }
    };
    let mut model = Misbehaving::<T::B> { behaviour: c.behaviour, calls: 0, backend: PhantomData };
    let outcome = catch_unwind(AssertUnwindSafe(|| method.attribute(&mut model, &inputs)));
    let result = match outcome {
        Ok(result) => result,
        Err(_) => return Err(TestCaseError::fail("attribute panicked")),
    };
    let planned = catch_unwind(AssertUnwindSafe(|| method.model_calls(&c.input_shape)));
    prop_assert!(planned.is_ok(), "model_calls panicked");
    match (&result, c.valid()) {
        (Ok(map), true) => {
            // A batch-level output of (N + 1, C) gives one map per score: (N + 1)·C of them
            // for Target::None, else N + 1.
            let rows = match (c.behaviour, &c.target) {
                (Behaviour::WrongBatch(classes), Target::None) => (c.input_shape[0] + 1) * classes,
                (Behaviour::WrongBatch(_), _) => c.input_shape[0] + 1,
                _ => c.input_shape[0],
            };
            let mut expected = vec![rows];
            expected.extend_from_slice(&c.input_shape[1..]);
            prop_assert_eq!(<T::B as Backend>::shape(map), expected, "the attribution's shape");
            Ok(())
        }
        (Err(_), false) => Ok(()),
        (Ok(_), false) => Err(TestCaseError::fail("an invalid configuration was accepted")),
        (Err(e), true) => Err(TestCaseError::fail(format!("a valid configuration was refused: {e}"))),
    }
}

/// Every "must be at least N" of the methods is one error, [`Error::TooSmall`], that names the
/// builder method the user called and the value they gave, before any model call.
pub fn minimums_are_too_small_errors<T: TestBackend>() {
    let x = tensor::<T>(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let inputs = Inputs::<T::B>::new(&x);
    let mask = || FeatureMask::new([4], [0, 0, 1, 1]).expect("a valid mask");
    let cases: Vec<(&str, BoxedMethod<T>)> = vec![
        ("window[0] (Occlusion::new)", Box::new(Occlusion::new([0]))),
        ("strides[0] (Occlusion::with_strides)", Box::new(Occlusion::new([2]).with_strides(0))),
        ("Occlusion::with_perturbations_per_eval", Box::new(Occlusion::new([2]).with_perturbations_per_eval(0))),
        ("window[0] (TiledOcclusion::new)", Box::new(TiledOcclusion::new([0], 1))),
        ("k[0] (TiledOcclusion::new)", Box::new(TiledOcclusion::new([2], 0))),
        (
            "TiledOcclusion::with_perturbations_per_eval",
            Box::new(TiledOcclusion::new([2], 2).with_perturbations_per_eval(0)),
        ),
        (
            "FeatureAblation::with_perturbations_per_eval",
            Box::new(FeatureAblation::new(mask()).with_perturbations_per_eval(0)),
        ),
        ("NoiseTunnel::with_samples", Box::new(NoiseTunnel::new(Occlusion::new([2])).with_samples(0))),
        (
            "NoiseTunnel::with_samples_batch_size",
            Box::new(NoiseTunnel::new(Occlusion::new([2])).with_samples_batch_size(0)),
        ),
        ("FusionGrad::with_weight_samples", Box::new(FusionGrad::new(Occlusion::new([2])).with_weight_samples(0))),
        ("FusionGrad::with_input_samples", Box::new(FusionGrad::new(Occlusion::new([2])).with_input_samples(0))),
        (
            "FusionGrad::with_input_samples_batch_size",
            Box::new(FusionGrad::new(Occlusion::new([2])).with_input_samples_batch_size(0)),
        ),
    ];
    for (setting, method) in cases {
        let mut model = Misbehaving::<T::B> { behaviour: Behaviour::Scalar, calls: 0, backend: PhantomData };
        match method.attribute(&mut model, &inputs) {
            Err(Error::TooSmall { setting: named, value: 0, minimum: 1 }) => {
                assert_eq!(named, setting, "{}: the error names another setting", T::NAME)
            }
            Err(e) => panic!("{}: {setting} 0 gave another error: {e}", T::NAME),
            Ok(_) => panic!("{}: {setting} 0 was accepted", T::NAME),
        }
        assert_eq!(model.calls, 0, "{}: {setting} 0 is reported after a model call", T::NAME);
    }
}

/// Stamps out the invalid-configuration cases for a marker `$backend` as `mod
/// invalid_configurations { #[test] fn … }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! invalid_configurations_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            invalid_configurations,
            $backend,
            [invalid_configurations_return_errors, minimums_are_too_small_errors,]
        );
    };
}
