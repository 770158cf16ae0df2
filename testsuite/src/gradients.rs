//! Gradient methods (Saliency, InputXGradient, IntegratedGradients) against closed forms, for
//! backends with autograd.
//!
//! The model is written with the backend's own differentiable operations
//! ([`GradientTestBackend::polynomial_model`]): `out[r, o] = Σ_i L[o, i]·x_i + Q[o, i]·x_i²`
//! over the flattened example. For a target whose score weights the outputs by `c`, the score
//! is `F(x) = Σ_i l_i x_i + q_i x_i²` with `l = cᵀL`, `q = cᵀQ`, so
//!
//! - `∂F/∂x_i = l_i + 2 q_i x_i` (Saliency, InputXGradient);
//! - along `b + α(x − b)` the gradient is linear in `α`, so a rule with weight sum
//!   `S = Σ w_k` and first moment `m = Σ w_k α_k` gives
//!   `A_i = (x_i − b_i)(S (l_i + 2 q_i b_i) + 2 m q_i (x_i − b_i))`: `S = 1, m = ½` for the
//!   midpoint, trapezoidal and Gauss–Legendre rules (exact: `A_i = (x_i − b_i)(l_i +
//!   q_i (x_i + b_i))`), `S = 1` and `m = (n−1)/(2n)` for the left and `(n+1)/(2n)` for the
//!   right Riemann sum, `S = (n−1)/n, m = (n−1)/(2n)` for Captum's trapezoid;
//! - the completeness delta is `Σ_i (x_i − b_i)((S − 1)(l_i + 2 q_i b_i) + (2m − 1) q_i (x_i − b_i))`;
//! - with `Q = 0` (a linear model): IG `= (x − b) ⊙ l` and Saliency `= |l|` for every rule.
//!
//! These closed forms are written here independently of the core's quadrature code.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::backend::{GradientBackend, TensorOf};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::{
    Attribution, Baseline, Contrast, FnMultiModel, Forward, InputXGradient, Inputs, IntegratedGradients,
    IntegrationRule, MultiAttribution, MultiInputs, NoiseTunnel, Saliency, Target,
};

use crate::properties::check_strategy;
use crate::rng::SplitMix64;
use crate::test_backend::{close, host, max_abs_diff, tensor, TestBackend};

/// A backend under test whose [`Backend`](tiled_occlusion_core::backend::Backend) has autograd.
pub trait GradientTestBackend: TestBackend<B: GradientBackend> {
    /// The model `out[r, o] = Σ_i L[o, i]·x[r, i] + Q[o, i]·x[r, i]²` (`x[r]` the flattened
    /// row `r`, `L` and `Q` row-major `(outputs, size)`), built from the backend's own
    /// differentiable operations in its element type.
    fn polynomial_model(linear: &[f64], quadratic: &[f64], outputs: usize) -> Box<dyn Forward<Backend = Self::B>>;

    /// `a + b`, with the backend's own differentiable addition (the output of a model of two
    /// inputs made of one polynomial model per input).
    fn add_outputs(a: &TensorOf<Self::B>, b: &TensorOf<Self::B>) -> Result<TensorOf<Self::B>, ModelError>;
}

/// A random case: shapes, values, target, baseline and IG settings.
#[derive(Clone, Debug)]
pub struct GradientCase {
    examples: usize,
    example_shape: Vec<usize>,
    outputs: usize,
    steps: usize,
    rule: IntegrationRule,
    internal_batch_size: Option<usize>,
    target_kind: usize,
    baseline_kind: usize,
    linear_only: bool,
    seed: u64,
}

fn cases() -> impl Strategy<Value = GradientCase> {
    (
        1usize..=3,
        proptest::collection::vec(1usize..=4, 1..=3),
        2usize..=4,
        2usize..=12,
        0usize..IntegrationRule::ALL.len(),
        proptest::option::of(1usize..=20),
        0usize..4,
        0usize..3,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(examples, example_shape, outputs, steps, rule, ibs, target_kind, baseline_kind, linear_only, seed)| {
                GradientCase {
                    examples,
                    example_shape,
                    outputs,
                    steps,
                    rule: IntegrationRule::ALL[rule],
                    internal_batch_size: ibs,
                    target_kind,
                    baseline_kind,
                    linear_only,
                    seed,
                }
            },
        )
}

/// The case's data on the host.
struct Data {
    size: usize,
    x: Vec<f64>,
    b: Vec<f64>,
    linear: Vec<f64>,
    quadratic: Vec<f64>,
    /// The output weights of each example's target score, `(N, outputs)`.
    weights: Vec<f64>,
    target: Target,
}

impl GradientCase {
    fn data(&self) -> Data {
        let mut rng = SplitMix64::new(self.seed);
        let size: usize = self.example_shape.iter().product();
        let n = self.examples;
        let x = rng.values(n * size);
        let linear = rng.values(self.outputs * size);
        let quadratic = if self.linear_only { vec![0.0; self.outputs * size] } else { rng.values(self.outputs * size) };
        let b = match self.baseline_kind {
            0 => vec![0.25; n * size],
            1 => std::iter::repeat_n(rng.values(size), n).flatten().collect(),
            _ => rng.values(n * size),
        };
        let o = self.outputs;
        let classes: Vec<usize> = (0..n).map(|_| rng.below(o)).collect();
        let (target, weights): (Target, Vec<f64>) = match self.target_kind {
            0 => {
                let c = classes[0];
                (Target::Class(c), (0..n).flat_map(|_| (0..o).map(move |j| f64::from(u8::from(j == c)))).collect())
            }
            1 => (
                Target::PerExample(classes.clone()),
                classes.iter().flat_map(|&c| (0..o).map(move |j| f64::from(u8::from(j == c)))).collect(),
            ),
            2 => {
                let (c, other) = (classes[0], (classes[0] + 1) % o);
                let row: Vec<f64> = (0..o)
                    .map(|j| {
                        if j == c {
                            1.0
                        } else if j == other {
                            -1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                (Target::Contrastive { class: c, against: Contrast::Class(other) }, row.repeat(n))
            }
            _ => {
                let c = classes[0];
                let row: Vec<f64> = (0..o).map(|j| if j == c { 1.0 } else { -1.0 / (o - 1) as f64 }).collect();
                (Target::Contrastive { class: c, against: Contrast::MeanOfOthers }, row.repeat(n))
            }
        };
        Data { size, x, b, linear, quadratic, weights, target }
    }

    fn shape(&self) -> Vec<usize> {
        let mut shape = vec![self.examples];
        shape.extend_from_slice(&self.example_shape);
        shape
    }

    /// The baseline tensor: none for a scalar baseline, one of the example's shape, or one
    /// per example.
    fn baseline_tensor<T: TestBackend>(&self, d: &Data) -> Option<TensorOf<T::B>> {
        match self.baseline_kind {
            0 => None,
            1 => Some(tensor::<T>(&self.example_shape, &d.b[..d.size])),
            _ => Some(tensor::<T>(&self.shape(), &d.b)),
        }
    }

    /// Weight sum `S = Σ w_k` and first moment `m = Σ w_k α_k` of the rule with `n` points,
    /// in closed form.
    fn moments(&self) -> (f64, f64) {
        let n = self.steps as f64;
        match self.rule {
            IntegrationRule::RiemannLeft => (1.0, (n - 1.0) / (2.0 * n)),
            IntegrationRule::RiemannRight => (1.0, (n + 1.0) / (2.0 * n)),
            IntegrationRule::CaptumTrapezoid => ((n - 1.0) / n, (n - 1.0) / (2.0 * n)),
            _ => (1.0, 0.5),
        }
    }
}

/// A case made ready on a backend: its host data, the backend's model, the input and the
/// baseline tensor (when the case's baseline is one).
struct Prepared<T: GradientTestBackend> {
    d: Data,
    model: Box<dyn Forward<Backend = T::B>>,
    x: TensorOf<T::B>,
    baseline: Option<TensorOf<T::B>>,
}

impl GradientCase {
    fn prepare<T: GradientTestBackend>(&self) -> Prepared<T> {
        let d = self.data();
        let model = T::polynomial_model(&d.linear, &d.quadratic, self.outputs);
        let x = tensor::<T>(&self.shape(), &d.x);
        let baseline = self.baseline_tensor::<T>(&d);
        Prepared { d, model, x, baseline }
    }
}

impl<T: GradientTestBackend> Prepared<T> {
    /// The input with the case's target and baseline, borrowing the tensors of `self`.
    fn inputs<'a>(d: &Data, x: &'a TensorOf<T::B>, baseline: &'a Option<TensorOf<T::B>>) -> Inputs<'a, T::B> {
        let value = match baseline {
            Some(t) => Baseline::Tensor(t),
            None => Baseline::Scalar(d.b[0]),
        };
        Inputs::new(x).with_target(d.target.clone()).with_baseline(value)
    }
}

impl Data {
    /// `(l, q)` of example `n`'s target score.
    fn coefficients(&self, n: usize, outputs: usize) -> (Vec<f64>, Vec<f64>) {
        let c = &self.weights[n * outputs..(n + 1) * outputs];
        let combine = |m: &[f64]| -> Vec<f64> {
            (0..self.size).map(|i| (0..outputs).map(|o| c[o] * m[o * self.size + i]).sum()).collect()
        };
        (combine(&self.linear), combine(&self.quadratic))
    }

    /// `f(n, i, x_i, b_i, l_i, q_i)` for every element.
    fn map(&self, outputs: usize, f: impl Fn(f64, f64, f64, f64) -> f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.x.len());
        for n in 0..self.x.len() / self.size {
            let (l, q) = self.coefficients(n, outputs);
            for i in 0..self.size {
                let k = n * self.size + i;
                out.push(f(self.x[k], self.b[k], l[i], q[i]));
            }
        }
        out
    }
}

fn attribute<T: GradientTestBackend>(
    method: &dyn Attribution<T::B>,
    model: &mut dyn Forward<Backend = T::B>,
    inputs: &Inputs<'_, T::B>,
) -> Result<Vec<f64>, TestCaseError> {
    let a = method.attribute(model, inputs).map_err(|e| TestCaseError::fail(format!("attribute failed: {e}")))?;
    Ok(host::<T>(&a))
}

fn check_close<T: TestBackend>(what: &str, got: &[f64], want: &[f64]) -> Result<(), TestCaseError> {
    prop_assert!(
        close(got, want, T::TOLERANCE),
        "{}: {what}: max difference {}\n  got {got:?}\n want {want:?}",
        T::NAME,
        max_abs_diff(got, want)
    );
    Ok(())
}

/// Saliency (absolute and signed) and InputXGradient equal `|∇F|`, `∇F` and `x ⊙ ∇F` with
/// `∇F = l + 2 q x`, for every kind of target.
pub fn saliency_and_input_x_gradient_match_closed_forms<T: GradientTestBackend>() {
    check_strategy::<T, _>("saliency_and_input_x_gradient_match_closed_forms", cases(), |case| {
        let Prepared::<T> { d, mut model, x, baseline } = case.prepare();
        let inputs = Prepared::<T>::inputs(&d, &x, &baseline);
        let gradient = d.map(case.outputs, |x, _, l, q| l + 2.0 * q * x);
        let got = attribute::<T>(&Saliency::signed(), model.as_mut(), &inputs)?;
        check_close::<T>("signed saliency", &got, &gradient)?;
        let got = attribute::<T>(&Saliency::new(), model.as_mut(), &inputs)?;
        check_close::<T>("saliency", &got, &gradient.iter().map(|g| g.abs()).collect::<Vec<_>>())?;
        let got = attribute::<T>(&InputXGradient::new(), model.as_mut(), &inputs)?;
        let want: Vec<f64> = d.x.iter().zip(&gradient).map(|(x, g)| x * g).collect();
        check_close::<T>("input x gradient", &got, &want)
    });
}

/// Integrated Gradients equals `(x − b)(S(l + 2qb) + 2mq(x − b))` for every rule, baseline
/// kind, target and internal batch size (and `(x − b) ⊙ l` on linear models); without the
/// multiplication by the inputs it is the bracket alone.
pub fn integrated_gradients_match_closed_forms<T: GradientTestBackend>() {
    check_strategy::<T, _>("integrated_gradients_match_closed_forms", cases(), |case| {
        let Prepared::<T> { d, mut model, x, baseline } = case.prepare();
        let inputs = Prepared::<T>::inputs(&d, &x, &baseline);
        let (total, m) = case.moments();
        let mut ig = IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule);
        if let Some(rows) = case.internal_batch_size {
            ig = ig.with_internal_batch_size(rows);
        }
        let integral = d.map(case.outputs, |x, b, l, q| total * (l + 2.0 * q * b) + 2.0 * m * q * (x - b));
        let want: Vec<f64> = integral.iter().zip(d.x.iter().zip(&d.b)).map(|(g, (x, b))| g * (x - b)).collect();
        let got = attribute::<T>(&ig, model.as_mut(), &inputs)?;
        check_close::<T>(&format!("{:?} with {} steps", case.rule, case.steps), &got, &want)?;
        let got = attribute::<T>(&ig.with_multiply_by_inputs(false), model.as_mut(), &inputs)?;
        check_close::<T>("integrated gradient alone", &got, &integral)
    });
}

/// The completeness delta `Σ A − (F(x) − F(b))` equals
/// `Σ (x − b)((S − 1)(l + 2qb) + (2m − 1)q(x − b))`: zero for the exact rules, `∓ Σ q(x − b)²/n`
/// for the left and right sums.
pub fn completeness_delta_matches_the_quadrature_error<T: GradientTestBackend>() {
    check_strategy::<T, _>("completeness_delta_matches_the_quadrature_error", cases(), |case| {
        let Prepared::<T> { d, mut model, x, baseline } = case.prepare();
        let inputs = Prepared::<T>::inputs(&d, &x, &baseline);
        let ig = IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule);
        let (_, delta) = ig
            .attribute_with_delta(model.as_mut(), &inputs)
            .map_err(|e| TestCaseError::fail(format!("attribute_with_delta failed: {e}")))?;
        let (total, m) = case.moments();
        let terms = d.map(case.outputs, |x, b, l, q| {
            (x - b) * ((total - 1.0) * (l + 2.0 * q * b) + (2.0 * m - 1.0) * q * (x - b))
        });
        let want: Vec<f64> = terms.chunks(d.size).map(|t| t.iter().sum()).collect();
        // The delta subtracts F(x) − F(b), computed in the backend's element type.
        let scale = d.size as f64;
        prop_assert!(close(&delta, &want, T::TOLERANCE * scale), "{}: delta {delta:?}, closed form {want:?}", T::NAME);
        Ok(())
    });
}

/// A model that counts its calls and rows and passes everything on.
struct Counting<'a, B: GradientBackend> {
    inner: &'a mut dyn Forward<Backend = B>,
    calls: usize,
    rows: usize,
}

impl<B: GradientBackend> Forward for Counting<'_, B> {
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> Result<TensorOf<B>, ModelError> {
        self.calls += 1;
        self.rows += B::shape(batch)[0];
        self.inner.forward(batch)
    }
}

/// `model_calls` is what IG really does and what progress reports: `⌈n / p⌉` calls with
/// `p = max(1, ⌊internal_batch_size / N⌋)` points each, `N·n` rows in all; Saliency and
/// InputXGradient make one call. The result does not depend on the batching.
pub fn gradient_model_calls_match_formulas<T: GradientTestBackend>() {
    check_strategy::<T, _>("gradient_model_calls_match_formulas", cases(), |case| {
        let Prepared::<T> { d, mut model, x, baseline } = case.prepare();
        let inputs = Prepared::<T>::inputs(&d, &x, &baseline);
        let rows = case.internal_batch_size.unwrap_or(usize::MAX / 2);
        let ig = IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule).with_internal_batch_size(rows);
        let per_call = (rows / case.examples).clamp(1, case.steps);
        let expected_calls = case.steps.div_ceil(per_call);
        let methods: [(&dyn Attribution<T::B>, usize); 3] =
            [(&ig, expected_calls), (&Saliency::new(), 1), (&InputXGradient::new(), 1)];
        for (method, expected) in methods {
            prop_assert_eq!(
                method.model_calls(&case.shape()).map_err(|e| TestCaseError::fail(e.to_string()))?,
                expected
            );
            let mut counting = Counting { inner: model.as_mut(), calls: 0, rows: 0 };
            let mut last = (0, 0);
            let mut progress = |done: usize, total: usize| last = (done, total);
            method
                .attribute_with_progress(&mut counting, &inputs, &mut progress)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(counting.calls, expected);
            prop_assert_eq!(last, (expected, expected));
        }
        let mut counting = Counting { inner: model.as_mut(), calls: 0, rows: 0 };
        let batched = attribute::<T>(&ig, &mut counting, &inputs)?;
        prop_assert_eq!(counting.rows, case.examples * case.steps);
        let whole = attribute::<T>(
            &IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule),
            model.as_mut(),
            &inputs,
        )?;
        check_close::<T>("batched vs one call", &batched, &whole)
    });
}

/// The noise wrappers take gradient methods unchanged: on a linear model the gradient is
/// the same everywhere, so SmoothGrad of the signed saliency is `l` whatever the noise, and
/// a NoiseTunnel without noise gives the inner method.
pub fn noise_tunnel_wraps_gradient_methods<T: GradientTestBackend>() {
    check_strategy::<T, _>("noise_tunnel_wraps_gradient_methods", cases(), |case| {
        let d = case.data();
        let mut model = T::polynomial_model(&d.linear, &vec![0.0; d.quadratic.len()], case.outputs);
        let x = tensor::<T>(&case.shape(), &d.x);
        let inputs = Inputs::<T::B>::new(&x).with_target(d.target.clone());
        let smooth = NoiseTunnel::new(Saliency::signed()).with_samples(5).with_stdev(0.5).with_seed(case.seed);
        let got = attribute::<T>(&smooth, model.as_mut(), &inputs)?;
        check_close::<T>("SmoothGrad of a constant gradient", &got, &d.map(case.outputs, |_, _, l, _| l))?;
        let ig = IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule);
        let quiet = NoiseTunnel::new(ig).with_samples(3).with_stdev(0.0);
        let got = attribute::<T>(&quiet, model.as_mut(), &inputs)?;
        let want = attribute::<T>(&ig, model.as_mut(), &inputs)?;
        check_close::<T>("NoiseTunnel without noise", &got, &want)
    });
}

/// A method, its inputs, and what its error must name.
type InvalidCase<'a, B> = (&'a dyn Attribution<B>, &'a Inputs<'a, B>, &'static str);

/// Invalid gradient settings are errors that name the problem: configuration errors before
/// any model call, targets that do not fit the output after the first one.
pub fn invalid_gradient_settings_are_errors<T: GradientTestBackend>() {
    let mut rng = SplitMix64::new(11);
    let (linear, quadratic) = (rng.values(3 * 4), rng.values(3 * 4));
    let mut model = T::polynomial_model(&linear, &quadratic, 3);
    let x = tensor::<T>(&[2, 4], &rng.values(8));
    let inputs = Inputs::<T::B>::new(&x).with_target(Target::Class(1));
    let mut counting = Counting { inner: model.as_mut(), calls: 0, rows: 0 };
    let cases: [InvalidCase<'_, T::B>; 6] = [
        (&IntegratedGradients::new().with_steps(0), &inputs, "IntegratedGradients::with_steps"),
        (&IntegratedGradients::new().with_steps(1).with_rule(IntegrationRule::RiemannTrapezoid), &inputs, "at least 2"),
        (
            &IntegratedGradients::new().with_internal_batch_size(0),
            &inputs,
            "IntegratedGradients::with_internal_batch_size",
        ),
        (&Saliency::new(), &Inputs::new(&x).with_target(Target::PerExample(vec![0])), "1 per-example targets"),
        (&InputXGradient::new(), &Inputs::new(&x).with_target(Target::Class(3)), "target index 3"),
        (&IntegratedGradients::new(), &Inputs::new(&x).with_target(Target::None), "None"),
    ];
    for (method, inputs, needle) in cases {
        match method.attribute(&mut counting, inputs) {
            Ok(_) => panic!("{}: expected an error naming {needle:?}", T::NAME),
            Err(e) => assert!(e.to_string().contains(needle), "{}: {e} does not name {needle:?}", T::NAME),
        }
    }
    // One call each for the two targets that only the output's shape can refute.
    assert_eq!(counting.calls, 2, "{}: configuration errors must come before any model call", T::NAME);
    let local = IntegratedGradients::new().with_multiply_by_inputs(false);
    let e = local.attribute_with_delta(model.as_mut(), &inputs).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("IntegratedGradients::with_multiply_by_inputs(false)"), "{}: {e}", T::NAME);
}

/// A method by name, as a method of one input and of several.
type BothForms<'m, B> = (&'static str, &'m dyn Attribution<B>, &'m dyn MultiAttribution<B>);

/// The case's baseline: its tensor, or the scalar.
fn baseline_of<'t, T: TestBackend>(tensor: &'t Option<TensorOf<T::B>>, d: &Data) -> Baseline<'t, T::B> {
    tensor.as_ref().map_or(Baseline::Scalar(d.b[0]), Baseline::Tensor)
}

/// Over several inputs, on the model `F(x_0, x_1) = P_0(x_0) + P_1(x_1)` (one polynomial model
/// per input, added with the backend's own operation): the gradient of `F` with respect to
/// `x_i` is `P_i`'s, and IG's path integral splits input by input, so each input's Saliency,
/// InputXGradient and IntegratedGradients map equals the single-input method's on `P_i` alone
/// (itself held to the closed forms above), and the completeness delta of the two is the sum of
/// theirs; one gradient call per point batch, as for one input.
pub fn several_inputs_equal_each_input_alone<T: GradientTestBackend>() {
    check_strategy::<T, _>("several_inputs_equal_each_input_alone", cases(), |case| {
        let second = GradientCase { example_shape: vec![3], seed: case.seed ^ 0x5EC0, ..case.clone() };
        let Prepared::<T> { d, model: m0, x, baseline } = case.prepare();
        let Prepared::<T> { d: d1, model: m1, x: x1, baseline: baseline1 } = second.prepare();
        let mut parts = [m0, m1];
        let alone = |i: usize, parts: &mut [Box<dyn Forward<Backend = T::B>>; 2], method: &dyn Attribution<T::B>| {
            let (x, baseline, data) = if i == 0 { (&x, &baseline, &d) } else { (&x1, &baseline1, &d1) };
            let value = baseline.as_ref().map_or(Baseline::Scalar(data.b[0]), Baseline::Tensor);
            attribute::<T>(
                method,
                parts[i].as_mut(),
                &Inputs::new(x).with_target(d.target.clone()).with_baseline(value),
            )
        };
        let mut ig = IntegratedGradients::new().with_steps(case.steps).with_rule(case.rule);
        if let Some(rows) = case.internal_batch_size {
            ig = ig.with_internal_batch_size(rows);
        }
        let methods: [BothForms<'_, T::B>; 3] = [
            ("signed saliency", &Saliency::signed(), &Saliency::signed()),
            ("input x gradient", &InputXGradient::new(), &InputXGradient::new()),
            ("integrated gradients", &ig, &ig),
        ];
        let want: Vec<[Vec<f64>; 2]> = methods
            .iter()
            .map(|(_, single, _)| Ok([alone(0, &mut parts, *single)?, alone(1, &mut parts, *single)?]))
            .collect::<Result<_, TestCaseError>>()?;
        let inputs = MultiInputs::new([&x, &x1])
            .with_baselines([baseline_of::<T>(&baseline, &d), baseline_of::<T>(&baseline1, &d1)])
            .with_target(d.target.clone());
        let calls = std::cell::Cell::new(0);
        let [p0, p1] = &mut parts;
        let mut model = FnMultiModel::<T::B, _>::new(|xs: &[TensorOf<T::B>]| -> Result<TensorOf<T::B>, ModelError> {
            calls.set(calls.get() + 1);
            T::add_outputs(&p0.forward(&xs[0])?, &p1.forward(&xs[1])?)
        });
        let shapes = [case.shape(), second.shape()];
        for ((what, single, several), want) in methods.iter().zip(&want) {
            calls.set(0);
            let maps = several
                .attribute(&mut model, &inputs)
                .map_err(|e| TestCaseError::fail(format!("{what} of two inputs: {e}")))?;
            prop_assert_eq!(maps.len(), 2);
            for i in 0..2 {
                check_close::<T>(&format!("{what}, input {i}"), &host::<T>(&maps[i]), &want[i])?;
            }
            let announced = several.model_calls(&shapes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(calls.get(), announced, "{}: calls", what);
            prop_assert_eq!(
                Some(announced),
                single.model_calls(&case.shape()).ok(),
                "{}: calls as for one input",
                what
            );
        }
        let (_, delta) = ig
            .attribute_several_with_delta(&mut model, &inputs)
            .map_err(|e| TestCaseError::fail(format!("delta of two inputs: {e}")))?;
        let delta_of = |i: usize, parts: &mut [Box<dyn Forward<Backend = T::B>>; 2]| {
            let (x, baseline, data) = if i == 0 { (&x, &baseline, &d) } else { (&x1, &baseline1, &d1) };
            let inputs = Inputs::new(x).with_target(d.target.clone()).with_baseline(baseline_of::<T>(baseline, data));
            ig.attribute_with_delta(parts[i].as_mut(), &inputs).map(|(_, delta)| delta)
        };
        let (d0, d1) = (delta_of(0, &mut parts), delta_of(1, &mut parts));
        let (d0, d1) =
            (d0.map_err(|e| TestCaseError::fail(e.to_string()))?, d1.map_err(|e| TestCaseError::fail(e.to_string()))?);
        let want: Vec<f64> = d0.iter().zip(&d1).map(|(a, b)| a + b).collect();
        check_close::<T>("completeness delta of two inputs", &delta, &want)
    });
}

/// Stamps out the gradient methods' cases (for a [`GradientTestBackend`]) for a marker
/// `$backend` as `mod gradients { #[test] fn … }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! gradients_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            gradients,
            $backend,
            [
                saliency_and_input_x_gradient_match_closed_forms,
                integrated_gradients_match_closed_forms,
                completeness_delta_matches_the_quadrature_error,
                gradient_model_calls_match_formulas,
                noise_tunnel_wraps_gradient_methods,
                invalid_gradient_settings_are_errors,
                several_inputs_equal_each_input_alone,
            ]
        );
    };
}
