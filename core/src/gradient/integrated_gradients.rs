//! Integrated Gradients.

use crate::attribution::{
    Attribution, Inputs, MultiAttribution, MultiInputs, NoProgress, ProgressCounter, ProgressHook, ResolvedBaseline,
    TargetSelector,
};
use crate::backend::{packed_shape, GradientBackend, TensorOf};
use crate::error::{Error, Result};
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

    /// The number of points `n_steps` (`≥ 1`; `≥ 2` for the trapezoidal rule).
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

    /// `n_steps` is enough for the rule.
    fn check_steps(&self) -> Result<()> {
        let minimum = self.rule.min_points();
        let setting = if minimum > 1 {
            format!("IntegratedGradients::with_steps (with {:?})", self.rule)
        } else {
            "IntegratedGradients::with_steps".into()
        };
        Error::check_at_least(setting, self.steps, minimum)
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

    /// Model calls for the gradients alone, for inputs of these shapes.
    fn gradient_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        let packed = packed_shape(input_shapes)?;
        self.check_steps()?;
        Ok(self.steps.div_ceil(self.points_per_call(packed[0])?))
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
        let mut endpoint_batches = Vec::with_capacity(integrals.len());
        for ((x, b, _), (input, shape)) in integrals.iter().zip(inputs.inputs.iter().zip(&shapes)) {
            let mut endpoints = x.clone();
            endpoints.extend_from_slice(b);
            let mut endpoint_shape = shape.clone();
            endpoint_shape[0] *= 2;
            endpoint_batches.push(B::from_f64_slice(input, &endpoint_shape, &endpoints)?);
        }
        let output = forward(&endpoint_batches).map_err(Error::Model)?;
        counter.advance(1);
        let output_shape = B::shape(&output);
        let selector = TargetSelector::new(inputs.target, &output_shape, 2 * examples, examples)?;
        let scores = selector.select(&B::to_f64_vec(&output)?, &output_shape, 2 * examples)?;
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
        let (alphas, weights) = self.rule.points(self.steps)?;
        let examples = shapes[0][0];
        let per_call = self.points_per_call(examples)?;
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
            let mut batches = Vec::with_capacity(paths.len());
            for ((x, b, _), (input, shape)) in paths.iter().zip(inputs.inputs.iter().zip(shapes)) {
                let mut scaled = Vec::with_capacity(points.len() * x.len());
                for &alpha in &alphas[points.clone()] {
                    scaled.extend(x.iter().zip(b).map(|(x, b)| b + alpha * (x - b)));
                }
                let mut batch_shape = shape.clone();
                batch_shape[0] = examples * points.len();
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
    /// `⌈n_steps / p⌉` with `p = max(1, internal_batch_size / N)` points per call.
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
    /// `⌈n_steps / p⌉` with `p = max(1, internal_batch_size / N)` points per call.
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
