//! Integrated Gradients.

use crate::attribution::{
    Attribution, Inputs, MultiAttribution, MultiInputs, NoProgress, ProgressCounter, ProgressHook, ResolvedBaseline,
    TargetSelector,
};
use crate::backend::{packed_shape, GradientBackend, TensorOf};
use crate::error::{try_with_capacity, Error, Result};
use crate::gradient::input_gradient::{
    forward_one, forward_several, only, target_gradients, ForwardFn, GradientInputs,
};
use crate::gradient::IntegrationRule;
use crate::model::{Forward, MultiForward};

/// Integrated Gradients (Sundararajan et al., 2017) along the straight path from the
/// baseline `b` to the input `x`:
///
/// `A = (x − b) ⊙ Σ_k w_k · ∂F/∂x (b + α_k (x − b))`,
///
/// the [`IntegrationRule`]'s approximation of `(x − b) ⊙ ∫₀¹ ∂F/∂x(b + α(x − b)) dα`, where
/// `F` is the target score. Baselines are those of [`Inputs`] (scalar, per position, per
/// example, or broadcastable), as for Occlusion.
///
/// The scaled inputs of all `n_steps` points are evaluated step-major (rows
/// `[k·N, (k+1)·N)` hold point `k`), at most `internal_batch_size` rows per model call,
/// always whole points (at least one point, `N` rows, per call, as Captum does); the
/// gradients are accumulated in `f64`. Defaults follow Captum: Gauss–Legendre, 50 steps, all
/// points in one call, multiplied by the inputs (`with_multiply_by_inputs(false)` gives the
/// integrated gradient alone, Captum's "local" variant).
///
/// By completeness, `Σ_i A_i = F(x) − F(b)` up to the quadrature error:
/// [`IntegratedGradients::attribute_with_delta`] returns the delta
/// `Σ_i A_i − (F(x) − F(b))` per example, as Captum's `compute_convergence_delta`.
///
/// ```
/// use tiled_occlusion_core::{IntegratedGradients, IntegrationRule};
/// let ig = IntegratedGradients::new()
///     .with_steps(32)
///     .with_rule(IntegrationRule::RiemannTrapezoid)
///     .with_internal_batch_size(64);
/// assert_eq!(ig.steps(), 32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntegratedGradients {
    steps: usize,
    rule: IntegrationRule,
    internal_batch_size: Option<usize>,
    multiply_by_inputs: bool,
}

impl Default for IntegratedGradients {
    fn default() -> Self {
        IntegratedGradients::new()
    }
}

impl IntegratedGradients {
    /// Gauss–Legendre with 50 steps, one model call, multiplied by `x − b`.
    pub fn new() -> Self {
        IntegratedGradients {
            steps: 50,
            rule: IntegrationRule::GaussLegendre,
            internal_batch_size: None,
            multiply_by_inputs: true,
        }
    }

    /// The number of points `n_steps`: `≥ 1` (`≥ 2` for the trapezoidal rules) and at most
    /// the rule's [`max_points`](IntegrationRule::max_points):
    /// [`IntegrationRule::MAX_GAUSS_LEGENDRE_POINTS`] (`10⁴`) for Gauss–Legendre,
    /// [`IntegrationRule::MAX_POINTS`] (`10⁶`) for the others. Outside those bounds
    /// `model_calls` and `attribute` return [`Error::TooSmall`] or [`Error::TooLarge`]
    /// before any model call.
    pub fn with_steps(mut self, n_steps: usize) -> Self {
        self.steps = n_steps;
        self
    }

    /// The quadrature rule.
    pub fn with_rule(mut self, rule: IntegrationRule) -> Self {
        self.rule = rule;
        self
    }

    /// At most this many rows per model call (`≥ 1`), whole points at a time.
    pub fn with_internal_batch_size(mut self, rows: usize) -> Self {
        self.internal_batch_size = Some(rows);
        self
    }

    /// Whether the integrated gradient is multiplied by `x − b` (the default) or returned
    /// alone.
    pub fn with_multiply_by_inputs(mut self, multiply: bool) -> Self {
        self.multiply_by_inputs = multiply;
        self
    }

    /// `n_steps`.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The quadrature rule.
    pub fn rule(&self) -> IntegrationRule {
        self.rule
    }

    /// `min_points ≤ n_steps ≤ max_points` of the rule; the setting names the rule where its
    /// bound is its own (the trapezoids' minimum 2, Gauss–Legendre's cap).
    fn check_steps(&self) -> Result<()> {
        let setting = |own_bound: bool| {
            if own_bound {
                format!("IntegratedGradients::with_steps (with {:?})", self.rule)
            } else {
                "IntegratedGradients::with_steps".to_string()
            }
        };
        let (minimum, maximum) = (self.rule.min_points(), self.rule.max_points());
        Error::check_at_least(setting(minimum > 1), self.steps, minimum)?;
        Error::check_at_most(setting(maximum < IntegrationRule::MAX_POINTS), self.steps, maximum)
    }

    /// The rows `N · p` of one full model call of `p` points, and the values `N · p · Π d^i` of
    /// its batch of every input of `shapes` (in order), or [`Error::SizeOverflow`].
    fn call_sizes(points: usize, shapes: &[Vec<usize>]) -> Result<(usize, Vec<usize>)> {
        let rows = Error::checked_product("the rows of one IntegratedGradients model call", &[shapes[0][0], points])?;
        let values = shapes
            .iter()
            .map(|shape| {
                let mut factors = vec![rows];
                factors.extend_from_slice(&shape[1..]);
                Error::checked_product("the values of one IntegratedGradients model call", &factors)
            })
            .collect::<Result<_>>()?;
        Ok((rows, values))
    }

    /// Points per model call for `examples` examples.
    fn points_per_call(&self, examples: usize) -> Result<usize> {
        match self.internal_batch_size {
            Some(0) => Err(Error::TooSmall {
                setting: "IntegratedGradients::with_internal_batch_size".into(),
                value: 0,
                minimum: 1,
            }),
            Some(rows) => Ok((rows / examples).clamp(1, self.steps.max(1))),
            None => Ok(self.steps.max(1)),
        }
    }

    /// Model calls for the gradients alone, for inputs of these shapes: the steps and the
    /// sizes of the largest call checked as [`integrate`](Self::integrate) checks them.
    fn gradient_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        let packed = packed_shape(input_shapes)?;
        self.check_steps()?;
        let per_call = self.points_per_call(packed[0])?;
        Self::call_sizes(per_call, input_shapes)?;
        Ok(self.steps.div_ceil(per_call))
    }

    /// The attribution and the completeness delta `Σ_i A_i − (F(x) − F(b))` of every example,
    /// with one more model call (on `x` and `b` together) than
    /// [`attribute`](Attribution::attribute). Needs `multiply_by_inputs`.
    ///
    /// The delta is computed from the `f64` attribution before it is converted to the input's
    /// element type, so it measures the quadrature error, not the final rounding.
    pub fn attribute_with_delta<B: GradientBackend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
    ) -> Result<(TensorOf<B>, Vec<f64>)> {
        let (maps, delta) = self.maps_with_delta(&mut forward_one(model), &GradientInputs::one(inputs))?;
        Ok((only::<B>(maps)?, delta))
    }

    /// [`attribute_with_delta`](Self::attribute_with_delta) over several inputs: one map per
    /// input, and per example `Σ_inputs Σ_i A_i − (F(x_1, …) − F(b_1, …))`.
    pub fn attribute_several_with_delta<B: GradientBackend>(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
    ) -> Result<(Vec<TensorOf<B>>, Vec<f64>)> {
        self.maps_with_delta(&mut forward_several(model), &GradientInputs::several(inputs))
    }

    fn maps_with_delta<B: GradientBackend>(
        &self,
        forward: &mut ForwardFn<'_, B>,
        inputs: &GradientInputs<'_, '_, B>,
    ) -> Result<(Vec<TensorOf<B>>, Vec<f64>)> {
        if !self.multiply_by_inputs {
            return Err(Error::InvalidSetting {
                setting: "IntegratedGradients::with_multiply_by_inputs(false)".into(),
                reason: "the completeness delta compares Σ (x − b) ⊙ ∫∇F with F(x) − F(b), so it needs the \
                         attribution multiplied by the inputs"
                    .into(),
            });
        }
        let shapes = inputs.check()?;
        let total = self.gradient_calls(&shapes)? + 1;
        let mut progress = NoProgress;
        let mut counter = ProgressCounter::new(&mut progress, total);
        let integrals = self.integrate(forward, inputs, &shapes, &mut counter)?;
        let examples = shapes[0][0];
        // The endpoint call is the call of two points (x and b).
        let (endpoint_rows, endpoint_values) = Self::call_sizes(2, &shapes)?;
        let mut endpoint_batches = Vec::with_capacity(integrals.len());
        for (((x, b, _), (input, shape)), values) in
            integrals.iter().zip(inputs.inputs.iter().zip(&shapes)).zip(endpoint_values)
        {
            let mut endpoints = batch_buffer(values)?;
            endpoints.extend_from_slice(x);
            endpoints.extend_from_slice(b);
            let mut endpoint_shape = shape.clone();
            endpoint_shape[0] = endpoint_rows;
            endpoint_batches.push(B::from_f64_slice(input, &endpoint_shape, &endpoints)?);
        }
        let output = forward(&endpoint_batches).map_err(Error::Model)?;
        counter.advance(1);
        let output_shape = B::shape(&output);
        let selector = TargetSelector::new(inputs.target, &output_shape, endpoint_rows, examples)?;
        let scores = selector.select(&B::to_f64_vec(&output)?, &output_shape, endpoint_rows)?;
        let delta = (0..examples)
            .map(|n| {
                let sum: f64 = integrals
                    .iter()
                    .map(|(x, _, a)| {
                        let size = x.len() / examples;
                        a[n * size..(n + 1) * size].iter().sum::<f64>()
                    })
                    .sum();
                sum - (scores[n] - scores[examples + n])
            })
            .collect();
        let maps = integrals
            .iter()
            .zip(inputs.inputs.iter().zip(&shapes))
            .map(|((_, _, a), (input, shape))| B::from_f64_slice(input, shape, a))
            .collect::<Result<Vec<_>>>()?;
        Ok((maps, delta))
    }

    /// Per input, `(x, b, A)` on the host, `b` expanded to the input's shape: every call takes
    /// the same points `α_k` on every input's path `b_i + α(x_i − b_i)`.
    fn integrate<B: GradientBackend>(
        &self,
        forward: &mut ForwardFn<'_, B>,
        inputs: &GradientInputs<'_, '_, B>,
        shapes: &[Vec<usize>],
        counter: &mut ProgressCounter<'_>,
    ) -> Result<Vec<Path>> {
        self.check_steps()?;
        let examples = shapes[0][0];
        let per_call = self.points_per_call(examples)?;
        // The largest call's sizes; every other call has fewer points.
        Self::call_sizes(per_call, shapes)?;
        let (alphas, weights) = self.rule.points(self.steps)?;
        let mut paths = Vec::with_capacity(shapes.len());
        for ((input, baseline), shape) in inputs.inputs.iter().zip(&inputs.baselines).zip(shapes) {
            let x = B::to_f64_vec(input)?;
            let size = x.len() / examples;
            let b = ResolvedBaseline::resolve(baseline, input, shape)?.to_host(examples, size)?;
            let integral = vec![0.0; x.len()];
            paths.push((x, b, integral));
        }
        for first in (0..self.steps).step_by(per_call) {
            let points = first..(first + per_call).min(self.steps);
            let (rows, values) = Self::call_sizes(points.len(), shapes)?;
            let mut batches = Vec::with_capacity(paths.len());
            for (((x, b, _), (input, shape)), values) in paths.iter().zip(inputs.inputs.iter().zip(shapes)).zip(values)
            {
                let mut scaled = batch_buffer(values)?;
                for &alpha in &alphas[points.clone()] {
                    scaled.extend(x.iter().zip(b).map(|(x, b)| b + alpha * (x - b)));
                }
                let mut batch_shape = shape.clone();
                batch_shape[0] = rows;
                batches.push(B::from_f64_slice(input, &batch_shape, &scaled)?);
            }
            let batch_refs: Vec<&TensorOf<B>> = batches.iter().collect();
            let gradients = target_gradients::<B>(forward, &batch_refs, inputs.target, examples)?;
            drop(batch_refs);
            drop(batches);
            for ((x, _, integral), gradient) in paths.iter_mut().zip(&gradients) {
                for (rows, &w) in gradient.chunks(x.len()).zip(&weights[points.clone()]) {
                    integral.iter_mut().zip(rows).for_each(|(sum, g)| *sum += w * g);
                }
            }
            counter.advance(1);
        }
        if self.multiply_by_inputs {
            for (x, b, integral) in &mut paths {
                integral.iter_mut().zip(x.iter().zip(b.iter())).for_each(|(a, (x, b))| *a *= x - b);
            }
        }
        Ok(paths)
    }
}

/// One input's path on the host: the input `x`, its baseline `b` expanded to the input's shape,
/// and the integral (then the attribution) of every element.
type Path = (Vec<f64>, Vec<f64>, Vec<f64>);

impl<B: GradientBackend> Attribution<B> for IntegratedGradients {
    /// `⌈n_steps / p⌉` with `p = min(n_steps, max(1, ⌊internal_batch_size / N⌋))` points per
    /// call (`p = n_steps` without an internal batch size). [`Error::TooSmall`] /
    /// [`Error::TooLarge`] for `n_steps` outside the rule's bounds (see
    /// [`with_steps`](IntegratedGradients::with_steps)), [`Error::SizeOverflow`] when the rows
    /// `N · p` or the values `N · p · Π d` of one call do not fit a `usize`.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        self.gradient_calls(&[input_shape.to_vec()])
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        only::<B>(self.maps(&mut forward_one(model), &GradientInputs::one(inputs), progress)?)
    }
}

/// Over several inputs: every call evaluates the same points on every input's path; one map
/// per input, `A_i = (x_i − b_i) ⊙ Σ_k w_k ∂F/∂x_i(b + α_k(x − b))` (Captum's tuple inputs).
impl<B: GradientBackend> MultiAttribution<B> for IntegratedGradients {
    /// `⌈n_steps / p⌉` with `p = min(n_steps, max(1, ⌊internal_batch_size / N⌋))` points per
    /// call, checked as for one input, every input's values `N · p · Π d^i` included.
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        self.gradient_calls(input_shapes)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        self.maps(&mut forward_several(model), &GradientInputs::several(inputs), progress)
    }
}

impl IntegratedGradients {
    /// The maps, with progress after every gradient call.
    fn maps<B: GradientBackend>(
        &self,
        forward: &mut ForwardFn<'_, B>,
        inputs: &GradientInputs<'_, '_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        let shapes = inputs.check()?;
        let total = self.gradient_calls(&shapes)?;
        let mut counter = ProgressCounter::new(progress, total);
        let paths = self.integrate(forward, inputs, &shapes, &mut counter)?;
        paths
            .iter()
            .zip(inputs.inputs.iter().zip(&shapes))
            .map(|((_, _, a), (input, shape))| B::from_f64_slice(input, shape, a))
            .collect()
    }
}

/// What to change when one model call's scaled inputs cannot be allocated.
const BATCH_HINT: &str =
    "lower IntegratedGradients::with_internal_batch_size (or set it: by default all steps go in one call)";

/// Room for the `values` scaled inputs of one model call, or [`Error::TooLargeToAllocate`].
fn batch_buffer(values: usize) -> Result<Vec<f64>> {
    try_with_capacity("the scaled inputs of one IntegratedGradients model call", values, BATCH_HINT)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::model::FnModel;
    use crate::test_host::{Host, HostTensor};

    /// `F_r = Σ_j x_{r,j}`, counting its calls.
    fn row_sums(calls: &Cell<usize>) -> impl Forward<Backend = Host> + '_ {
        FnModel::new(move |x: &HostTensor| {
            calls.set(calls.get() + 1);
            Ok::<_, String>(crate::test_host::row_sums(x))
        })
    }

    fn input(shape: &[usize]) -> HostTensor {
        let len = shape.iter().product();
        HostTensor { shape: shape.to_vec(), data: (0..len).map(|i| 1.0 + i as f64 / 8.0).collect() }
    }

    /// `model_calls` and `attribute` of `ig` on an input of `shape`, with the model's calls.
    fn run(ig: &IntegratedGradients, shape: &[usize]) -> (Result<usize>, Result<HostTensor>, usize) {
        let calls = Cell::new(0);
        let x = input(shape);
        let planned = Attribution::<Host>::model_calls(ig, shape);
        let map = Attribution::<Host>::attribute(ig, &mut row_sums(&calls), &Inputs::new(&x));
        (planned, map, calls.get())
    }

    fn assert_too_large<T: std::fmt::Debug>(result: Result<T>, setting: &str, value: usize, maximum: usize) {
        match result {
            Err(Error::TooLarge { setting: s, value: v, maximum: m }) => {
                assert_eq!((s.as_str(), v, m), (setting, value, maximum));
            }
            other => panic!("expected TooLarge for {setting} = {value}, got {other:?}"),
        }
    }

    #[test]
    fn steps_over_the_cap_are_too_large_in_model_calls_and_attribute() {
        // Used to plan 1 call, then abort allocating 10⁷ · 1000 values.
        let ig = IntegratedGradients::new().with_rule(IntegrationRule::RiemannLeft).with_steps(10_000_000);
        let (planned, map, calls) = run(&ig, &[1, 1000]);
        assert_too_large(planned, "IntegratedGradients::with_steps", 10_000_000, IntegrationRule::MAX_POINTS);
        assert_too_large(map, "IntegratedGradients::with_steps", 10_000_000, IntegrationRule::MAX_POINTS);
        assert_eq!(calls, 0);
    }

    #[test]
    fn usize_max_steps_are_too_large_for_every_rule_not_a_panic() {
        for rule in IntegrationRule::ALL {
            let ig = IntegratedGradients::new().with_rule(rule).with_steps(usize::MAX).with_internal_batch_size(7);
            // Only Gauss–Legendre has a cap of its own.
            let setting = match rule {
                IntegrationRule::GaussLegendre => "IntegratedGradients::with_steps (with GaussLegendre)",
                _ => "IntegratedGradients::with_steps",
            };
            let (planned, map, calls) = run(&ig, &[1, 4]);
            assert_too_large(planned, setting, usize::MAX, rule.max_points());
            assert_too_large(map, setting, usize::MAX, rule.max_points());
            assert_eq!(calls, 0, "{rule:?}");
            // The minimum names the rule where it is the rule's own (the trapezoids' 2).
            let few = rule.min_points() - 1;
            let e = Attribution::<Host>::model_calls(&ig.with_steps(few), &[1, 4]).unwrap_err();
            let setting = if few == 1 {
                format!("IntegratedGradients::with_steps (with {rule:?})")
            } else {
                "IntegratedGradients::with_steps".into()
            };
            assert!(matches!(&e, Error::TooSmall { setting: s, value, .. } if *s == setting && *value == few), "{e:?}");
        }
    }

    #[test]
    fn gauss_legendre_steps_over_its_cap_are_too_large_before_any_node_is_computed() {
        // Used to spend O(n²) on the nodes (seconds at 10⁴, minutes at 2·10⁵) before failing
        // or calling the model.
        let steps = IntegrationRule::MAX_GAUSS_LEGENDRE_POINTS + 1;
        let ig = IntegratedGradients::new().with_steps(steps).with_internal_batch_size(1);
        let setting = "IntegratedGradients::with_steps (with GaussLegendre)";
        let (planned, map, calls) = run(&ig, &[1, 4]);
        assert_too_large(planned, setting, steps, 10_000);
        assert_too_large(map, setting, steps, 10_000);
        assert_eq!(calls, 0);
        let e = ig.attribute_with_delta(&mut row_sums(&Cell::new(0)), &Inputs::new(&input(&[1, 4]))).unwrap_err();
        assert!(matches!(e, Error::TooLarge { maximum: 10_000, .. }), "{e:?}");
    }

    #[test]
    fn the_most_steps_run_and_give_the_integral() {
        // Σ_k w_k · 1 = 1 for a row-sum model: the attribution is x − b = x.
        let ig = IntegratedGradients::new()
            .with_rule(IntegrationRule::RiemannMiddle)
            .with_steps(IntegrationRule::MAX_POINTS);
        let (planned, map, calls) = run(&ig, &[2, 2]);
        assert_eq!((planned.unwrap(), calls), (1, 1));
        let map = map.unwrap();
        assert_eq!(map.shape, [2, 2]);
        for (a, x) in map.data.iter().zip(&input(&[2, 2]).data) {
            assert!((a - x).abs() < 1e-9, "{a} vs {x}");
        }
        let ig = ig.with_internal_batch_size(2 * 400_000);
        let (planned, map, calls) = run(&ig, &[2, 2]);
        assert_eq!((planned.unwrap(), calls), (3, 3));
        assert!(map.unwrap().data.iter().zip(&input(&[2, 2]).data).all(|(a, x)| (a - x).abs() < 1e-9));
        let gauss = IntegratedGradients::new().with_steps(64);
        let (_, map, _) = run(&gauss, &[1, 3]);
        assert!(map.unwrap().data.iter().zip(&input(&[1, 3]).data).all(|(a, x)| (a - x).abs() < 1e-12));
    }

    #[test]
    fn a_model_call_whose_values_overflow_is_a_size_overflow_in_model_calls() {
        // 10⁶ points of 2⁴⁵ values each in one call: more values than a usize counts.
        let ig = IntegratedGradients::new().with_rule(IntegrationRule::RiemannLeft).with_steps(1_000_000);
        let e = Attribution::<Host>::model_calls(&ig, &[1, 1 << 45]).unwrap_err();
        assert!(matches!(e, Error::SizeOverflow { .. }), "{e:?}");
        assert!(e.to_string().starts_with("the values of one IntegratedGradients model call overflows"), "{e}");
        // The rows of a call: 2⁴⁶ examples × 2¹⁹ points.
        let ig = ig.with_steps(1 << 19);
        let e = Attribution::<Host>::model_calls(&ig, &[1 << 46, 1]).unwrap_err();
        assert!(matches!(e, Error::SizeOverflow { .. }), "{e:?}");
        assert!(e.to_string().starts_with("the rows of one IntegratedGradients model call overflows"), "{e}");
        // Fewer points per call fit.
        let ig = ig.with_internal_batch_size(1 << 46);
        assert_eq!(Attribution::<Host>::model_calls(&ig, &[1 << 46, 1]).unwrap(), 1 << 19);
    }

    #[test]
    fn several_inputs_get_their_own_batches_and_the_delta_vanishes() {
        use crate::attribution::MultiInputs;
        use crate::model::FnMultiModel;
        // F_r = Σ of row r of both inputs: every map is x_i − b_i = x_i, and Σ A = F(x) − F(0).
        let (x1, x2) = (input(&[2, 3]), input(&[2, 2]));
        let calls = Cell::new(0);
        let mut model = FnMultiModel::<Host, _>::new(|xs: &[HostTensor]| {
            calls.set(calls.get() + 1);
            let rows = xs[0].shape[0];
            let sums = (0..rows)
                .map(|r| {
                    xs.iter().map(|x| x.data.chunks(x.data.len() / rows).nth(r).unwrap().iter().sum::<f64>()).sum()
                })
                .collect();
            Ok::<_, String>(HostTensor { shape: vec![rows], data: sums })
        });
        let inputs = MultiInputs::new([&x1, &x2]);
        // 4 rows per call: 2 points of 2 examples, ⌈5 / 2⌉ = 3 calls.
        let ig = IntegratedGradients::new()
            .with_rule(IntegrationRule::RiemannTrapezoid)
            .with_steps(5)
            .with_internal_batch_size(4);
        assert_eq!(MultiAttribution::<Host>::model_calls(&ig, &[vec![2, 3], vec![2, 2]]).unwrap(), 3);
        let maps = MultiAttribution::<Host>::attribute(&ig, &mut model, &inputs).unwrap();
        assert_eq!(calls.get(), 3);
        for (map, x) in maps.iter().zip([&x1, &x2]) {
            assert_eq!(map.shape, x.shape);
            assert!(map.data.iter().zip(&x.data).all(|(a, x)| (a - x).abs() < 1e-12), "{map:?} vs {x:?}");
        }
        let (_, delta) = ig.attribute_several_with_delta(&mut model, &inputs).unwrap();
        assert_eq!(calls.get(), 3 + 4);
        assert!(delta.len() == 2 && delta.iter().all(|d| d.abs() < 1e-12), "{delta:?}");
    }

    #[test]
    fn a_batch_the_allocator_refuses_is_too_large_to_allocate() {
        match batch_buffer(usize::MAX / 4) {
            Err(Error::TooLargeToAllocate { what, values, hint, .. }) => {
                assert_eq!(values, usize::MAX / 4);
                assert_eq!(what, "the scaled inputs of one IntegratedGradients model call");
                assert_eq!(hint, BATCH_HINT);
            }
            other => panic!("{:?}", other.map(|v| v.capacity())),
        }
        assert!(batch_buffer(12).unwrap().capacity() >= 12);
    }
}
