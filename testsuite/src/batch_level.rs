//! Batch-level outputs (SEMANTICS.md, "Batch-level outputs"; Captum's aggregation mode), for
//! any backend: a model whose output is one for the whole batch.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::{
    Attribution, Error, FeatureAblation, FeatureMask, Forward, Occlusion, Target, TiledOcclusion, TilingMode,
};

use crate::host_model::{HostForward, HostModel};
use crate::oracle;
use crate::properties::check_scenarios;
use crate::scenario::{BaselineKind, ModelKind, Scenario, CLASSES};
use crate::test_backend::{close, host, max_abs_diff, tensor, BoxedMethod, TestBackend};

/// What a [`BatchTotal`] model returns for a batch: the per-example model's outputs `F(x_r)`
/// summed over the rows `r`, `T = Σ_r F(x_r)`, of `C` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotalShape {
    /// `T` as shape `(1, C)`.
    OneRow,
    /// `T` as shape `(C,)`.
    Flat,
    /// `T[c]` alone, 0-d.
    Scalar(usize),
    /// `Σ_c T[c]`, 0-d.
    All,
}

/// A model whose output is one for the whole batch, from a row-wise [`HostModel`].
pub struct BatchTotal<B> {
    /// The per-example model (it counts the calls).
    pub inner: HostForward<B>,
    /// The output's form.
    pub shape: TotalShape,
}

impl<B> BatchTotal<B> {
    /// The batch total of `model` in the form `shape`.
    pub fn new(model: HostModel, shape: TotalShape) -> Self {
        BatchTotal { inner: HostForward::new(model), shape }
    }
}

impl<B: Backend> Forward for BatchTotal<B> {
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> Result<TensorOf<B>, ModelError> {
        let out = self.inner.forward(batch)?;
        let rows = B::shape(&out).first().copied().unwrap_or(1).max(1);
        let data = B::to_f64_vec(&out)?;
        let width = data.len() / rows;
        let total: Vec<f64> = (0..width).map(|j| (0..rows).map(|r| data[r * width + j]).sum()).collect();
        let (shape, values) = match self.shape {
            TotalShape::OneRow => (vec![1, width], total),
            TotalShape::Flat => (vec![width], total),
            TotalShape::Scalar(c) => (vec![], vec![total[c]]),
            TotalShape::All => (vec![], vec![total.iter().sum()]),
        };
        Ok(B::from_f64_slice(batch, &shape, &values)?)
    }
}

/// The method of a scenario with `P = 1`: Occlusion, shifted TiledOcclusion or FeatureAblation
/// with a shared mask, by its seed.
fn method<B: Backend>(s: &Scenario) -> Box<dyn Attribution<B>> {
    match s.seed % 3 {
        0 => Box::new(Occlusion::new(s.window.clone()).with_strides(s.strides.clone())),
        1 => Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone())),
        _ => {
            let ids: Vec<i64> = (0..s.size()).map(|p| (p % 3) as i64).collect();
            Box::new(FeatureAblation::new(FeatureMask::new(s.shape.clone(), ids).expect("a well-formed mask")))
        }
    }
}

fn failed(what: &str) -> impl Fn(Error) -> TestCaseError + '_ {
    move |e| TestCaseError::fail(format!("{what}: {e}"))
}

/// The map of `method` on the batch total, with the model calls made.
fn batch_map<T: TestBackend>(
    method: &dyn Attribution<T::B>,
    s: &Scenario,
    shape: TotalShape,
    target: Target,
) -> Result<(Vec<usize>, Vec<f64>, usize), TestCaseError> {
    let t = s.tensors::<T>();
    let mut model = BatchTotal::<T::B>::new(s.host_model(), shape);
    let map = method.attribute(&mut model, &t.inputs(target)).map_err(failed("batch-level attribution"))?;
    Ok((<T::B as Backend>::shape(&map), host::<T>(&map), model.inner.calls))
}

/// Occlusion drops are additive over a batch: for the model `T = Σ_n F(x_n)` (one output for
/// the whole batch), the attribution of score `m` is the sum over the examples of the
/// per-example attributions, `A_T[m, p] = Σ_n A[n, p]`, with `M` maps: `(1, C)` with a class
/// target gives one, `(C,)` with no target `C` (one per class), 0-d one. On a linear model it
/// is the analytic sum `Σ_n w_c[p]·(x_n[p] − b_n[p])` for FeatureAblation of single elements.
pub fn batch_totals_sum_the_examples<T: TestBackend>() {
    check_scenarios::<T>("batch_totals_sum_the_examples", |s| {
        let t = s.tensors::<T>();
        let method = method::<T::B>(s);
        let classes = if s.model == ModelKind::SumOfSquares { 1 } else { CLASSES };
        let class_target = |c: usize| if classes == 1 { Target::None } else { Target::Class(c) };
        // Per class, Σ_n A[n, ·] of the per-example model.
        let size = s.size();
        let mut summed = Vec::new();
        for c in 0..classes {
            let mut model = HostForward::<T::B>::new(s.host_model());
            let map = method.attribute(&mut model, &t.inputs(class_target(c))).map_err(failed("per-example"))?;
            let map = host::<T>(&map);
            summed.push((0..size).map(|p| (0..s.examples).map(|n| map[n * size + p]).sum::<f64>()).collect::<Vec<_>>());
        }
        let c = s.target_choice % classes;
        // A drop of the total is a difference of totals: its rounding scales with Σ_n |F(x_n)|.
        let (outputs, _) = s.host_model().eval(&host::<T>(&t.input), &s.input_shape()).map_err(TestCaseError::fail)?;
        let scale = 4.0 * (1.0 + outputs.iter().map(|v| v.abs()).sum::<f64>());
        let check = |what: &str, got: &[f64], want: &[f64]| -> Result<(), TestCaseError> {
            prop_assert!(
                close(got, want, T::TOLERANCE * scale),
                "{what}: max difference {}\n got {got:?}\nwant {want:?}",
                max_abs_diff(got, want)
            );
            Ok(())
        };
        let example_shape = |rows: usize| std::iter::once(rows).chain(s.shape.iter().copied()).collect::<Vec<_>>();

        let (shape, scalar, calls) = batch_map::<T>(method.as_ref(), s, TotalShape::Scalar(c), Target::None)?;
        prop_assert_eq!(shape, example_shape(1), "0-d total");
        check("0-d total", &scalar, &summed[c])?;
        prop_assert_eq!(Some(calls), method.model_calls(&s.input_shape()).ok(), "model calls");

        let (shape, flat, _) = batch_map::<T>(method.as_ref(), s, TotalShape::Flat, Target::None)?;
        // With N = C the (C,) total reads as one value per example: the same numbers.
        prop_assert_eq!(shape, example_shape(classes), "(C,) total");
        check("(C,) total, one map per class", &flat, &summed.concat())?;

        if classes > 1 {
            let (shape, row, _) = batch_map::<T>(method.as_ref(), s, TotalShape::OneRow, Target::Class(c))?;
            prop_assert_eq!(shape, example_shape(1), "(1, C) total");
            check("(1, C) total, class target", &row, &summed[c])?;
        }

        if let (Some(w), ModelKind::Linear) = (s.linear_weights(), s.model) {
            let x = host::<T>(&t.input);
            let b = match (&t.baseline, s.baseline) {
                (Some(bt), BaselineKind::PerExample) => host::<T>(bt),
                (Some(bt), _) => host::<T>(bt).repeat(s.examples),
                (None, _) => s.baseline_values(),
            };
            let g = oracle::linear_gain(&w, CLASSES, &Target::Class(c), 0);
            let analytic: Vec<f64> =
                (0..size).map(|p| (0..s.examples).map(|n| g[p] * (x[n * size + p] - b[n * size + p])).sum()).collect();
            let (_, got, _) = batch_map::<T>(&FeatureAblation::per_element(), s, TotalShape::Scalar(c), Target::None)?;
            check("FeatureAblation per element on a linear total", &got, &analytic)?;
        }
        Ok(())
    });
}

/// Captum's restrictions on batch-level outputs are typed errors after the one unperturbed
/// call: `P > 1` (several perturbations in one call cannot be told apart), a per-example
/// feature mask, a per-example target, and TiledOcclusion's reference mode.
pub fn batch_level_restrictions_are_errors<T: TestBackend>() {
    let x = tensor::<T>(&[2, 4], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let linear = HostModel::Linear { w: vec![1.0, -1.0, 2.0, 0.5], b: vec![0.0] };
    let per_example_mask = FeatureMask::new([2, 4], [0, 0, 1, 1, 1, 0, 0, 1]).expect("a well-formed mask");
    let cases: Vec<(&str, BoxedMethod<T>, Target, &str)> = vec![
        (
            "P = 2",
            Box::new(Occlusion::new([2]).with_perturbations_per_eval(2)),
            Target::None,
            "perturbations_per_eval = 1",
        ),
        (
            "per-example mask",
            Box::new(FeatureAblation::new(per_example_mask)),
            Target::None,
            "per-example feature mask",
        ),
        (
            "per-example target",
            Box::new(Occlusion::new([2])),
            Target::PerExample(vec![0, 0]),
            "does not depend on the example",
        ),
        (
            "reference mode",
            Box::new(TiledOcclusion::new([2], [2]).with_mode(TilingMode::Reference)),
            Target::None,
            "reference mode does not support",
        ),
    ];
    for (what, method, target, message) in cases {
        let mut model = BatchTotal::<T::B>::new(linear.clone(), TotalShape::Scalar(0));
        let inputs = tiled_occlusion_core::Inputs::new(&x).with_target(target);
        match method.attribute(&mut model, &inputs) {
            Err(e @ Error::BatchLevelOutput { .. }) => {
                assert!(e.to_string().contains(message), "{}: {what}: {e}", T::NAME);
                assert_eq!(model.inner.calls, 1, "{}: {what}: only the unperturbed call is made", T::NAME);
            }
            other => panic!("{}: {what}: expected a batch-level error, got {:?}", T::NAME, other.map(|_| ())),
        }
    }
}

/// Stamps out the batch-level cases for a marker `$backend` as `mod batch_level { #[test] fn
/// … }`; one part of [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! batch_level_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            batch_level,
            $backend,
            [batch_totals_sum_the_examples, batch_level_restrictions_are_errors,]
        );
    };
}
