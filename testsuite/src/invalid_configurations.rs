//! Random configurations, valid and invalid: every invalid one returns an error, every valid
//! one succeeds, and none panics.

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::{
    Attribution, Backend, Baseline, Contrast, FeatureAblation, FeatureMask, Forward, Inputs, ModelError, Occlusion,
    PerDimension, Target, TensorOf, TiledOcclusion, TilingMode,
};

use crate::properties::check_strategy;
use crate::test_backend::{tensor, TestBackend};

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
    /// Fails on call number `n` (0 = the first).
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

fn small_vec(max_len: usize, max: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=max, 0..=max_len)
}

fn per_dimension() -> impl Strategy<Value = PerDimension> {
    prop_oneof![(0usize..=4).prop_map(PerDimension::All), small_vec(4, 4).prop_map(PerDimension::Each)]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::None),
        (0usize..5).prop_map(Target::Class),
        small_vec(4, 4).prop_map(Target::PerExample),
        small_vec(2, 4).prop_map(Target::Index),
        (0usize..5, 0usize..5).prop_map(|(c, o)| Target::Contrastive { class: c, against: Contrast::Class(o) }),
        (0usize..5).prop_map(|c| Target::Contrastive { class: c, against: Contrast::MeanOfOthers }),
    ]
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        4 => (0usize..5).prop_map(Behaviour::Classes),
        2 => Just(Behaviour::Scalar),
        1 => (1usize..4).prop_map(Behaviour::WrongBatch),
        1 => (1usize..4).prop_map(Behaviour::ChangesShape),
        1 => (0usize..4).prop_map(Behaviour::FailsAt),
    ]
}

/// Random configurations, about half of them invalid somewhere.
pub fn configurations() -> impl Strategy<Value = Configuration> {
    (
        prop::collection::vec(prop_oneof![8 => 1usize..=4, 1 => Just(0usize), 1 => Just(5usize)], 0..=5),
        0usize..4,
        prop_oneof![small_vec(4, 6), Just(vec![1, 1, 1, 1])],
        per_dimension(),
        per_dimension(),
        prop_oneof![6 => 1usize..4, 1 => Just(0usize)],
        prop::option::of(small_vec(5, 4)),
        small_vec(5, 4),
        target(),
        behaviour(),
    )
        .prop_map(|(input_shape, method, window, strides, k, per_eval, baseline, mask, target, behaviour)| Configuration {
            input_shape,
            method,
            window,
            strides,
            k,
            per_eval,
            baseline,
            mask,
            target,
            behaviour,
        })
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
        if shape.len() < 2 || shape.contains(&0) || self.per_eval == 0 {
            return false;
        }
        let (n, d, m) = (shape[0], &shape[1..], shape.len() - 1);
        let mut scalar_baseline = true;
        if let Some(b) = &self.baseline {
            let numel: usize = b.iter().product();
            scalar_baseline = numel == 1;
            if !(numel == 1 || broadcastable(b, shape)) {
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
                let basic = self.window.len() == m && (0..m).all(|r| self.window[r] >= 1 && k[r] >= 1 && self.window[r] % k[r] == 0);
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
            _ => return false,
        };
        let classes = trailing.first().copied().unwrap_or(0);
        match &self.target {
            Target::None => trailing.iter().product::<usize>() == 1,
            Target::Class(c) => trailing.len() == 1 && *c < classes,
            Target::PerExample(cs) => cs.len() == n && trailing.len() == 1 && cs.iter().all(|c| *c < classes),
            Target::Index(t) => !t.is_empty() && t.len() == trailing.len() && t.iter().zip(&trailing).all(|(i, s)| i < s),
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
pub fn invalid_configurations_return_errors<T: TestBackend>() {
    check_strategy::<T, _>("invalid_configurations_return_errors", configurations(), |c| {
        let size: usize = c.input_shape.iter().product();
        let data: Vec<f64> = (0..size).map(|i| (i % 7) as f64 / 7.0).collect();
        let input = tensor::<T>(&c.input_shape, &data);
        let baseline_tensor = c.baseline.as_ref().map(|s| tensor::<T>(s, &vec![0.25; s.iter().product()]));
        let baseline = baseline_tensor.as_ref().map_or(Baseline::Scalar(0.5), Baseline::Tensor);
        let inputs = Inputs::new(&input).with_baseline(baseline).with_target(c.target.clone());
        let method: Box<dyn Attribution<T::B>> = match c.method {
            0 => Box::new(Occlusion::new(c.window.clone()).with_strides(c.strides.clone()).with_perturbations_per_eval(c.per_eval)),
            1 => Box::new(TiledOcclusion::new(c.window.clone(), c.k.clone()).with_perturbations_per_eval(c.per_eval)),
            2 => Box::new(
                TiledOcclusion::new(c.window.clone(), c.k.clone()).with_mode(TilingMode::Reference).with_perturbations_per_eval(c.per_eval),
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
            (Ok(_), true) | (Err(_), false) => Ok(()),
            (Ok(_), false) => Err(TestCaseError::fail("an invalid configuration was accepted")),
            (Err(e), true) => Err(TestCaseError::fail(format!("a valid configuration was refused: {e}"))),
        }
    });
}
