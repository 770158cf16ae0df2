//! Random attribution problems for the properties: ranks 1–4, shapes, windows, `k`,
//! strides, batching, baselines, targets and models.

use proptest::prelude::*;
use proptest::sample::Index;
use tiled_occlusion_core::backend::TensorOf;
use tiled_occlusion_core::{Baseline, Contrast, Inputs, Target};

use crate::host_model::HostModel;
use crate::rng::SplitMix64;
use crate::test_backend::{tensor, TestBackend};

/// Classes of the generated classifiers.
pub const CLASSES: usize = 3;

/// How the baseline is given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BaselineKind {
    /// A scalar.
    Scalar(f64),
    /// A tensor of the per-example shape `d`.
    PerPosition,
    /// A tensor of shape `(1, d…)`.
    LeadingOne,
    /// A tensor of shape `(N, d…)`.
    PerExample,
}

/// Which model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// `flat(x)·Wᵀ + b`, 3 classes.
    Linear,
    /// `tanh(flat(x)·W1ᵀ)·W2ᵀ`, 3 classes.
    Mlp,
    /// `Σ a ⊙ x²`, one value per example.
    SumOfSquares,
}

/// One random problem. Every derived value (data, parameters, target) follows from the
/// fields, so a failing case prints all it takes to reproduce it.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `N`.
    pub examples: usize,
    /// `d`.
    pub shape: Vec<usize>,
    /// `1 ≤ w_r ≤ d_r`.
    pub window: Vec<usize>,
    /// `k_r` divides `w_r`.
    pub k: Vec<usize>,
    /// `1 ≤ s_r ≤ w_r`.
    pub strides: Vec<usize>,
    /// `1 ≤ P ≤ 7`.
    pub per_eval: usize,
    /// The baseline.
    pub baseline: BaselineKind,
    /// Picks the target among those the model allows.
    pub target_choice: usize,
    /// The model.
    pub model: ModelKind,
    /// Seeds data and parameters.
    pub seed: u64,
}

fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|k| n % k == 0).collect()
}

/// Random scenarios with at most 200 elements per example, of per-example rank 0 (one
/// scalar per example, in about one case of nine) to 4.
pub fn scenarios() -> impl Strategy<Value = Scenario> {
    prop_oneof![1 => Just(0usize), 8 => 1usize..=4]
        .prop_flat_map(|rank| {
            let max: usize = [1, 12, 8, 5, 4][rank];
            (
                prop::collection::vec(1usize..=max, rank),
                prop::collection::vec(any::<(Index, Index, Index)>(), rank),
                1usize..=3,
                1usize..=7,
                0usize..5,
                any::<usize>(),
                0usize..3,
                any::<u64>(),
                -1.0f64..1.0,
            )
        })
        .prop_map(|(shape, picks, examples, per_eval, baseline, target_choice, model, seed, value)| {
            let window: Vec<usize> = shape.iter().zip(&picks).map(|(&d, (w, _, _))| 1 + w.index(d)).collect();
            let k = window
                .iter()
                .zip(&picks)
                .map(|(&w, (_, k, _))| {
                    let options = divisors(w);
                    options[k.index(options.len())]
                })
                .collect();
            let strides = window.iter().zip(&picks).map(|(&w, (_, _, s))| 1 + s.index(w)).collect();
            Scenario {
                examples,
                shape,
                window,
                k,
                strides,
                per_eval,
                baseline: match baseline {
                    0 => BaselineKind::Scalar(value),
                    1 => BaselineKind::Scalar(0.0),
                    2 => BaselineKind::PerPosition,
                    3 => BaselineKind::LeadingOne,
                    _ => BaselineKind::PerExample,
                },
                target_choice,
                model: [ModelKind::Linear, ModelKind::Mlp, ModelKind::SumOfSquares][model],
                seed,
            }
        })
}

impl Scenario {
    /// `Π d_r`.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// `(N, d…)`.
    pub fn input_shape(&self) -> Vec<usize> {
        let mut s = vec![self.examples];
        s.extend(&self.shape);
        s
    }

    /// The input data, row-major.
    pub fn input_data(&self) -> Vec<f64> {
        SplitMix64::new(self.seed).values(self.examples * self.size())
    }

    /// The baseline tensor's shape and data, if the baseline is a tensor.
    pub fn baseline_tensor(&self) -> Option<(Vec<usize>, Vec<f64>)> {
        let mut rng = SplitMix64::new(self.seed ^ 0xB45E);
        let size = self.size();
        match self.baseline {
            BaselineKind::Scalar(_) => None,
            BaselineKind::PerPosition => Some((self.shape.clone(), rng.values(size))),
            BaselineKind::LeadingOne => {
                let mut s = vec![1];
                s.extend(&self.shape);
                Some((s, rng.values(size)))
            }
            BaselineKind::PerExample => Some((self.input_shape(), rng.values(self.examples * size))),
        }
    }

    /// The baseline value at every position of every example, row-major `(N, d…)`.
    pub fn baseline_values(&self) -> Vec<f64> {
        match (self.baseline, self.baseline_tensor()) {
            (BaselineKind::Scalar(v), _) => vec![v; self.examples * self.size()],
            (BaselineKind::PerExample, Some((_, data))) => data,
            (_, Some((_, data))) => data.repeat(self.examples),
            (_, None) => Vec::new(),
        }
    }

    /// The model.
    pub fn host_model(&self) -> HostModel {
        let mut rng = SplitMix64::new(self.seed ^ 0x30DE1);
        let d = self.size();
        match self.model {
            ModelKind::Linear => HostModel::Linear { w: rng.values(CLASSES * d), b: rng.values(CLASSES) },
            ModelKind::Mlp => HostModel::Mlp {
                w1: rng.values(8 * d).into_iter().map(|v| 2.0 * v / (d as f64).sqrt()).collect(),
                w2: rng.values(CLASSES * 8),
                hidden: 8,
            },
            ModelKind::SumOfSquares => HostModel::Sq { a: rng.values(d) },
        }
    }

    /// The linear model's weights `W (C, D)`, if the model is linear.
    pub fn linear_weights(&self) -> Option<Vec<f64>> {
        match self.host_model() {
            HostModel::Linear { w, .. } => Some(w),
            _ => None,
        }
    }

    /// The target, chosen among those the model's output allows.
    pub fn target(&self) -> Target {
        if self.model == ModelKind::SumOfSquares {
            return Target::None;
        }
        let c = self.target_choice % CLASSES;
        let per_example: Vec<usize> = (0..self.examples).map(|n| (self.target_choice / 7 + n) % CLASSES).collect();
        match self.target_choice % 6 {
            0 => Target::Class(c),
            1 => Target::PerExample(per_example),
            5 => Target::PerExampleIndex(per_example.into_iter().map(|c| vec![c]).collect()),
            2 => Target::Index(vec![c]),
            3 => Target::Contrastive { class: c, against: Contrast::Class((c + 1) % CLASSES) },
            _ => Target::Contrastive { class: c, against: Contrast::MeanOfOthers },
        }
    }

    /// The backend tensors of this scenario.
    pub fn tensors<T: TestBackend>(&self) -> ScenarioTensors<T> {
        let input = tensor::<T>(&self.input_shape(), &self.input_data());
        let baseline = self.baseline_tensor().map(|(s, d)| tensor::<T>(&s, &d));
        ScenarioTensors { input, baseline, scalar: if let BaselineKind::Scalar(v) = self.baseline { v } else { 0.0 } }
    }
}

/// A scenario's input and baseline as tensors of backend `T`.
pub struct ScenarioTensors<T: TestBackend> {
    /// The input.
    pub input: TensorOf<T::B>,
    /// The baseline tensor, if any.
    pub baseline: Option<TensorOf<T::B>>,
    /// The scalar baseline (when there is no tensor).
    pub scalar: f64,
}

impl<T: TestBackend> ScenarioTensors<T> {
    /// The inputs of an attribution call with `target`.
    pub fn inputs(&self, target: Target) -> Inputs<'_, T::B> {
        let baseline = self.baseline.as_ref().map_or(Baseline::Scalar(self.scalar), Baseline::Tensor);
        Inputs::new(&self.input).with_baseline(baseline).with_target(target)
    }

    /// The same with a scalar baseline (for the reference mode).
    pub fn inputs_scalar(&self, target: Target) -> Inputs<'_, T::B> {
        Inputs::new(&self.input).with_baseline(Baseline::Scalar(self.scalar)).with_target(target)
    }
}
