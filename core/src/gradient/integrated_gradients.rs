//! Integrated Gradients.

use crate::attribution::{
    check_input_shape, Attribution, Inputs, NoProgress, ProgressCounter, ProgressHook, ResolvedBaseline, TargetSelector,
};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::{Error, Result};
use crate::gradient::input_gradient::{check_gradient_inputs, target_gradient};
use crate::gradient::IntegrationRule;
use crate::model::Forward;

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

    /// Model calls for the gradients alone.
    fn gradient_calls(&self, input_shape: &[usize]) -> Result<usize> {
        check_input_shape(input_shape)?;
        self.check_steps()?;
        Ok(self.steps.div_ceil(self.points_per_call(input_shape[0])?))
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
        if !self.multiply_by_inputs {
            return Err(Error::InvalidSetting {
                setting: "IntegratedGradients::with_multiply_by_inputs(false)".into(),
                reason: "the completeness delta compares Σ (x − b) ⊙ ∫∇F with F(x) − F(b), so it needs the \
                         attribution multiplied by the inputs"
                    .into(),
            });
        }
        let shape = check_gradient_inputs(inputs)?;
        let total = self.gradient_calls(&shape)? + 1;
        let mut progress = NoProgress;
        let mut counter = ProgressCounter::new(&mut progress, total);
        let (x, b, attribution) = self.integrate(model, inputs, &shape, &mut counter)?;
        let (examples, size) = (shape[0], x.len() / shape[0]);
        let mut endpoints = x;
        endpoints.extend_from_slice(&b);
        let mut endpoint_shape = shape.clone();
        endpoint_shape[0] *= 2;
        let batch = B::from_f64_slice(inputs.input, &endpoint_shape, &endpoints)?;
        let output = model.forward(&batch).map_err(Error::Model)?;
        counter.advance(1);
        let output_shape = B::shape(&output);
        let selector = TargetSelector::new(&inputs.target, &output_shape, 2 * examples, examples)?;
        let scores = selector.select(&B::to_f64_vec(&output)?, &output_shape, 2 * examples)?;
        let delta = (0..examples)
            .map(|n| {
                let sum: f64 = attribution[n * size..(n + 1) * size].iter().sum();
                sum - (scores[n] - scores[examples + n])
            })
            .collect();
        Ok((B::from_f64_slice(inputs.input, &shape, &attribution)?, delta))
    }

    /// `(x, b, A)` on the host, `b` expanded to the input's shape.
    fn integrate<B: GradientBackend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        shape: &[usize],
        counter: &mut ProgressCounter<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        self.check_steps()?;
        let (alphas, weights) = self.rule.points(self.steps)?;
        let per_call = self.points_per_call(shape[0])?;
        let examples = shape[0];
        let x = B::to_f64_vec(inputs.input)?;
        let size = x.len() / examples;
        let b = ResolvedBaseline::resolve(&inputs.baseline, inputs.input, shape)?.to_host(examples, size)?;
        let mut integral = vec![0.0; x.len()];
        let mut scaled = Vec::with_capacity(per_call * x.len());
        for first in (0..self.steps).step_by(per_call) {
            let points = first..(first + per_call).min(self.steps);
            scaled.clear();
            for &alpha in &alphas[points.clone()] {
                scaled.extend(x.iter().zip(&b).map(|(x, b)| b + alpha * (x - b)));
            }
            let mut batch_shape = shape.to_vec();
            batch_shape[0] = examples * points.len();
            let batch = B::from_f64_slice(inputs.input, &batch_shape, &scaled)?;
            let gradient = target_gradient(model, &batch, &inputs.target, examples)?;
            drop(batch);
            for (rows, &w) in gradient.chunks(x.len()).zip(&weights[points]) {
                integral.iter_mut().zip(rows).for_each(|(sum, g)| *sum += w * g);
            }
            counter.advance(1);
        }
        if self.multiply_by_inputs {
            integral.iter_mut().zip(x.iter().zip(&b)).for_each(|(a, (x, b))| *a *= x - b);
        }
        Ok((x, b, integral))
    }
}

impl<B: GradientBackend> Attribution<B> for IntegratedGradients {
    /// `⌈n_steps / p⌉` with `p = max(1, internal_batch_size / N)` points per call.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        self.gradient_calls(input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let shape = check_gradient_inputs(inputs)?;
        let total = self.gradient_calls(&shape)?;
        let mut counter = ProgressCounter::new(progress, total);
        let (_, _, attribution) = self.integrate(model, inputs, &shape, &mut counter)?;
        B::from_f64_slice(inputs.input, &shape, &attribution)
    }
}
