//! Reference models evaluated on the host, so the suite runs unchanged on every backend.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::model::{ModelError, Parameters};
use tiled_occlusion_core::{Error, Forward};

/// A model given by a formula and its parameters (the models of the conformance fixtures).
///
/// `flat(x)` flattens each example row-major:
/// - `Linear`: `y = flat(x)·Wᵀ + b`, `W (C, D)`, `b (C)` → `(N, C)`;
/// - `Mlp`: `y = tanh(flat(x)·W1ᵀ)·W2ᵀ`, `W1 (H, D)`, `W2 (C, H)` → `(N, C)`;
/// - `Gap`: `y = mean over every non-channel position (channel = dim 1) · Wᵀ`, `W (C, channels)`
///   → `(N, C)`; any spatial size; a rank-1 example is one channel;
/// - `Sq`: `y = Σ a ⊙ x²` per example → `(N,)`;
/// - `Custom`: any row-wise closure over `(example, D)` host data, giving `C` outputs per row.
#[derive(Clone)]
pub enum HostModel {
    /// Affine.
    Linear {
        /// `(C, D)`, row-major.
        w: Vec<f64>,
        /// `(C)`.
        b: Vec<f64>,
    },
    /// One hidden tanh layer.
    Mlp {
        /// `(H, D)`, row-major.
        w1: Vec<f64>,
        /// `(C, H)`, row-major.
        w2: Vec<f64>,
        /// `H`.
        hidden: usize,
    },
    /// Global average pooling per channel, then linear.
    Gap {
        /// `(C, channels)`, row-major.
        w: Vec<f64>,
        /// `channels`.
        channels: usize,
    },
    /// Weighted sum of squares, one value per example.
    Sq {
        /// `(D)`.
        a: Vec<f64>,
    },
    /// `relu(flat(x)·W1ᵀ + b1)·W2ᵀ + b2` (Captum's `BasicModel_MultiLayer` is one).
    ReluMlp {
        /// `(H, D)`, row-major.
        w1: Vec<f64>,
        /// `(H)`.
        b1: Vec<f64>,
        /// `(C, H)`, row-major.
        w2: Vec<f64>,
        /// `(C)`.
        b2: Vec<f64>,
    },
    /// Another model's per-example outputs reshaped to `output_shape` (same number of values).
    Reshaped {
        /// The model.
        model: Box<HostModel>,
        /// The shape of one example's output.
        output_shape: Vec<usize>,
    },
    /// A row-wise function with `outputs` values per example (`0` means shape `(N,)`).
    Custom {
        /// The function of one example's data.
        f: RowFunction,
        /// Values per example; `0` gives an output of shape `(N,)` with one value per example.
        outputs: usize,
    },
}

/// A model of one example's data, shared between threads.
pub type RowFunction = std::sync::Arc<dyn Fn(&[f64]) -> Vec<f64> + Send + Sync>;

impl HostModel {
    /// The model named as in the fixture format, from its named parameters.
    pub fn from_params(kind: &str, params: &BTreeMap<String, (Vec<usize>, Vec<f64>)>) -> Result<Self, String> {
        let get = |name: &str| params.get(name).cloned().ok_or_else(|| format!("model {kind} needs parameter {name}"));
        match kind {
            "linear" => Ok(HostModel::Linear { w: get("W")?.1, b: get("b")?.1 }),
            "mlp" => {
                let (shape, w1) = get("W1")?;
                Ok(HostModel::Mlp { w1, w2: get("W2")?.1, hidden: shape.first().copied().unwrap_or(0) })
            }
            "gap" => {
                let (shape, w) = get("W")?;
                Ok(HostModel::Gap { w, channels: shape.get(1).copied().unwrap_or(0) })
            }
            "sq" => Ok(HostModel::Sq { a: get("a")?.1 }),
            "relu_mlp" => {
                Ok(HostModel::ReluMlp { w1: get("W1")?.1, b1: get("b1")?.1, w2: get("W2")?.1, b2: get("b2")?.1 })
            }
            other => Err(format!("unknown model kind {other:?}")),
        }
    }

    /// Output values per example of a one-row input of per-example shape `example_shape`.
    pub fn eval_example(&self, x: &[f64], example_shape: &[usize]) -> Result<Vec<f64>, String> {
        let dot = |w: &[f64], x: &[f64]| w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        let d = x.len();
        let check = |what: &str, len: usize, expected: usize| {
            if len == expected {
                Ok(())
            } else {
                Err(format!("{what} has {len} values, expected {expected} for an example of shape {example_shape:?}"))
            }
        };
        match self {
            HostModel::Linear { w, b } => {
                check("W", w.len(), b.len() * d)?;
                Ok(w.chunks(d).zip(b).map(|(row, b)| dot(row, x) + b).collect())
            }
            HostModel::Mlp { w1, w2, hidden } => {
                check("W1", w1.len(), hidden * d)?;
                let h: Vec<f64> = w1.chunks(d).map(|row| dot(row, x).tanh()).collect();
                Ok(w2.chunks(*hidden).map(|row| dot(row, &h)).collect())
            }
            HostModel::Gap { w, channels } => {
                let c = if example_shape.len() == 1 { 1 } else { example_shape[0] };
                if c != *channels {
                    return Err(format!("gap model has {channels} channels, the input {c}"));
                }
                let per = d / c;
                let means: Vec<f64> = x.chunks(per).map(|ch| ch.iter().sum::<f64>() / per as f64).collect();
                Ok(w.chunks(c).map(|row| dot(row, &means)).collect())
            }
            HostModel::Sq { a } => {
                check("a", a.len(), d)?;
                Ok(vec![a.iter().zip(x).map(|(a, x)| a * x * x).sum()])
            }
            HostModel::ReluMlp { w1, b1, w2, b2 } => {
                check("W1", w1.len(), b1.len() * d)?;
                let h: Vec<f64> = w1.chunks(d).zip(b1).map(|(row, b)| (dot(row, x) + b).max(0.0)).collect();
                Ok(w2.chunks(b1.len().max(1)).zip(b2).map(|(row, b)| dot(row, &h) + b).collect())
            }
            HostModel::Reshaped { model, output_shape } => {
                let y = model.eval_example(x, example_shape)?;
                check("the reshaped output", y.len(), output_shape.iter().product())?;
                Ok(y)
            }
            HostModel::Custom { f, .. } => Ok(f(x)),
        }
    }

    /// The named parameter vectors of the model (none for `Custom`), in a fixed order.
    pub fn parameters_mut(&mut self) -> Vec<(&'static str, &mut Vec<f64>)> {
        match self {
            HostModel::Linear { w, b } => vec![("W", w), ("b", b)],
            HostModel::Mlp { w1, w2, .. } => vec![("W1", w1), ("W2", w2)],
            HostModel::Gap { w, .. } => vec![("W", w)],
            HostModel::Sq { a } => vec![("a", a)],
            HostModel::ReluMlp { w1, b1, w2, b2 } => vec![("W1", w1), ("b1", b1), ("W2", w2), ("b2", b2)],
            HostModel::Reshaped { model, .. } => model.parameters_mut(),
            HostModel::Custom { .. } => vec![],
        }
    }

    /// The parameter values, for bit-for-bit comparisons.
    pub fn parameter_bits(&mut self) -> Vec<(&'static str, Vec<u64>)> {
        self.parameters_mut().into_iter().map(|(name, v)| (name, v.iter().map(|x| x.to_bits()).collect())).collect()
    }

    /// The output shape beyond the batch: `(C)`, or nothing for one value per example.
    fn trailing_shape(&self) -> Vec<usize> {
        match self {
            HostModel::Linear { b, .. } => vec![b.len()],
            HostModel::Mlp { w2, hidden, .. } => vec![w2.len() / hidden.max(&1)],
            HostModel::Gap { w, channels } => vec![w.len() / channels.max(&1)],
            HostModel::Sq { .. } => vec![],
            HostModel::ReluMlp { b2, .. } => vec![b2.len()],
            HostModel::Reshaped { output_shape, .. } => output_shape.clone(),
            HostModel::Custom { outputs: 0, .. } => vec![],
            HostModel::Custom { outputs, .. } => vec![*outputs],
        }
    }

    /// The model's output for a batch of shape `shape` (row-major `x`): `(data, shape)`.
    pub fn eval(&self, x: &[f64], shape: &[usize]) -> Result<(Vec<f64>, Vec<usize>), String> {
        let rows = shape.first().copied().ok_or("input has no batch dimension")?;
        let size: usize = shape[1..].iter().product();
        let mut out = Vec::new();
        for r in 0..rows {
            out.extend(self.eval_example(&x[r * size..(r + 1) * size], &shape[1..])?);
        }
        let mut out_shape = vec![rows];
        out_shape.extend(self.trailing_shape());
        Ok((out, out_shape))
    }
}

/// A [`HostModel`] as a model of backend `B`, counting its calls and the rows it evaluated.
///
/// Each call reads the batch back to the host, evaluates the formula in `f64`, and returns a
/// tensor made with `B::from_f64_slice` like the batch (so the backend's element type and
/// device round-trip on every call).
pub struct HostForward<B> {
    /// The model (its parameters change while FusionGrad runs).
    pub model: HostModel,
    /// Model calls so far.
    pub calls: usize,
    /// Rows evaluated so far.
    pub rows: usize,
    /// When set, call number `k` (0 = the first) returns an error instead of an output.
    pub fail_at_call: Option<usize>,
    /// When set, a call that would take the values evaluated so far (`Σ Π shape` of the
    /// batches) past this many returns [`HostForward::BUDGET_SPENT`] instead, before reading
    /// the batch: a model that refuses legitimately huge work.
    pub value_budget: Option<usize>,
    /// Values evaluated so far.
    pub values: usize,
    /// The saved copies, latest last (saves nest).
    saved: Vec<HostModel>,
    backend: PhantomData<fn() -> B>,
}

impl<B> HostForward<B> {
    /// The model, with counters at 0.
    pub fn new(model: HostModel) -> Self {
        HostForward {
            model,
            calls: 0,
            rows: 0,
            fail_at_call: None,
            value_budget: None,
            values: 0,
            saved: Vec::new(),
            backend: PhantomData,
        }
    }

    /// The message of a call refused by [`HostForward::value_budget`].
    pub const BUDGET_SPENT: &'static str = "the host model's value budget is spent";
}

impl<B> Parameters for HostForward<B> {
    fn save(&mut self) -> tiled_occlusion_core::Result<()> {
        self.saved.push(self.model.clone());
        Ok(())
    }

    fn restore(&mut self) -> tiled_occlusion_core::Result<()> {
        let saved = self
            .saved
            .pop()
            .ok_or_else(|| Error::backend("host model: restoring the parameters", "restore called before save"))?;
        self.model = saved;
        Ok(())
    }

    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> tiled_occlusion_core::Result<()> {
        for (name, values) in self.model.parameters_mut() {
            noise(name, values);
        }
        Ok(())
    }
}

impl<B: Backend> Forward for HostForward<B> {
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> Result<TensorOf<B>, ModelError> {
        if self.fail_at_call == Some(self.calls) {
            self.calls += 1;
            return Err(format!("model refused call {}", self.calls - 1).into());
        }
        let shape = B::shape(batch);
        let values =
            shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).and_then(|v| v.checked_add(self.values));
        match (values, self.value_budget) {
            (Some(v), Some(budget)) if v <= budget => self.values = v,
            (_, Some(_)) => return Err(Self::BUDGET_SPENT.into()),
            (v, None) => self.values = v.unwrap_or(usize::MAX),
        }
        let x = B::to_f64_vec(batch)?;
        let (y, y_shape) = self.model.eval(&x, &shape)?;
        self.calls += 1;
        self.rows += shape.first().copied().unwrap_or(0);
        Ok(B::from_f64_slice(batch, &y_shape, &y)?)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        if matches!(self.model, HostModel::Custom { .. }) {
            None
        } else {
            Some(self)
        }
    }
}
