//! Reference models evaluated on the host, so the suite runs unchanged on every backend.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::model::{ModelError, Parameters};
use tiled_occlusion_core::{Error, Forward};

use crate::test_backend::checked_elements;

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

/// The number of values of an example of shape `shape`, checked for overflow.
fn example_values(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n))
        .ok_or_else(|| format!("an example of shape {shape:?} has more values than fit a usize"))
}

/// A model of one example's data, shared between threads.
pub type RowFunction = std::sync::Arc<dyn Fn(&[f64]) -> Vec<f64> + Send + Sync>;

impl HostModel {
    /// The model named as in the fixture format, from its named parameters `(shape, data)`.
    ///
    /// Every parameter is checked: its data holds as many values as its shape has elements
    /// (the product checked for overflow), it has the rank the model needs (`W`, `W1`, `W2`
    /// matrices, `b`, `b1`, `b2` vectors), and the shapes agree with each other (`W (C, D)`
    /// with `b (C)`; `W1 (H, D)` with `W2 (C, H)`, `b1 (H)`, `b2 (C)`; an `mlp` hidden size and
    /// the `gap` channels at least 1). A parameter the model does not take is an error too. The
    /// input's size is checked by [`HostModel::check_example`].
    pub fn from_params(kind: &str, params: &BTreeMap<String, (Vec<usize>, Vec<f64>)>) -> Result<Self, String> {
        let names: &[&str] = match kind {
            "linear" => &["W", "b"],
            "mlp" => &["W1", "W2"],
            "gap" => &["W"],
            "sq" => &["a"],
            "relu_mlp" => &["W1", "b1", "W2", "b2"],
            other => return Err(format!("unknown model kind {other:?}")),
        };
        if let Some(extra) = params.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(format!("model {kind} has no parameter {extra:?}; it takes {}", names.join(", ")));
        }
        let get = |name: &str| -> Result<(Vec<usize>, Vec<f64>), String> {
            let (shape, data) = params.get(name).ok_or_else(|| format!("model {kind} needs parameter {name}"))?;
            checked_elements(shape, data.len()).map_err(|e| format!("model {kind}: parameter {name}: {e}"))?;
            Ok((shape.clone(), data.clone()))
        };
        let matrix = |name: &str| -> Result<(usize, usize, Vec<f64>), String> {
            match get(name)? {
                (shape, data) if shape.len() == 2 => Ok((shape[0], shape[1], data)),
                (shape, _) => {
                    Err(format!("model {kind}: parameter {name} must be a matrix, but its shape is {shape:?}"))
                }
            }
        };
        let vector = |name: &str| -> Result<(usize, Vec<f64>), String> {
            match get(name)? {
                (shape, data) if shape.len() == 1 => Ok((shape[0], data)),
                (shape, _) => {
                    Err(format!("model {kind}: parameter {name} must be a vector, but its shape is {shape:?}"))
                }
            }
        };
        let agree = |a: &str, x: usize, b: &str, y: usize| {
            if x == y {
                Ok(())
            } else {
                Err(format!("model {kind}: {a} is {x}, but {b} is {y}"))
            }
        };
        match kind {
            "linear" => {
                let (outputs, _, w) = matrix("W")?;
                let (len, b) = vector("b")?;
                agree("the rows of W", outputs, "the length of b", len)?;
                Ok(HostModel::Linear { w, b })
            }
            "mlp" => {
                let (hidden, _, w1) = matrix("W1")?;
                if hidden == 0 {
                    return Err("model mlp: parameter W1 has 0 rows; the hidden size must be at least 1".into());
                }
                let (_, columns, w2) = matrix("W2")?;
                agree("the columns of W2", columns, "the hidden size (the rows of W1)", hidden)?;
                Ok(HostModel::Mlp { w1, w2, hidden })
            }
            "gap" => {
                let (_, channels, w) = matrix("W")?;
                if channels == 0 {
                    return Err("model gap: parameter W has 0 columns; it needs one per channel, at least 1".into());
                }
                Ok(HostModel::Gap { w, channels })
            }
            "sq" => Ok(HostModel::Sq { a: get("a")?.1 }),
            _ => {
                let (hidden, _, w1) = matrix("W1")?;
                let (len1, b1) = vector("b1")?;
                agree("the length of b1", len1, "the hidden size (the rows of W1)", hidden)?;
                let (outputs, columns, w2) = matrix("W2")?;
                agree("the columns of W2", columns, "the hidden size (the rows of W1)", hidden)?;
                let (len2, b2) = vector("b2")?;
                agree("the length of b2", len2, "the rows of W2", outputs)?;
                Ok(HostModel::ReluMlp { w1, b1, w2, b2 })
            }
        }
    }

    /// Output values per example, where the parameters say (`None` for `Custom`).
    fn outputs_per_example(&self) -> Option<usize> {
        match self {
            HostModel::Linear { b, .. } => Some(b.len()),
            HostModel::Mlp { w2, hidden, .. } => Some(w2.len() / (*hidden).max(1)),
            HostModel::Gap { w, channels } => Some(w.len() / (*channels).max(1)),
            HostModel::Sq { .. } => Some(1),
            HostModel::ReluMlp { b2, .. } => Some(b2.len()),
            HostModel::Reshaped { output_shape, .. } => output_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)),
            HostModel::Custom { .. } => None,
        }
    }

    /// Checks that the model can evaluate an example of shape `example_shape`: every
    /// parameter's length against the example's number of values `D` and the other parameters
    /// (naming the parameter and both numbers), a `gap` model's channels and positions, and a
    /// reshaped output's element count (its product checked for overflow). What
    /// [`HostModel::eval_example`] checks first; call it to refuse a model before any work.
    pub fn check_example(&self, example_shape: &[usize]) -> Result<(), String> {
        let d = example_values(example_shape)?;
        // `what` has `len` values, where `rows` rows of `columns` values are needed.
        let rows_of = |what: &str, len: usize, rows: usize, columns: usize, of: &str| match rows.checked_mul(columns) {
            Some(need) if need == len => Ok(()),
            need => Err(format!(
                "{what} has {len} values, expected {rows} × {columns} = {} ({of}, for an example of shape \
                     {example_shape:?})",
                need.map_or("more than fit a usize".to_string(), |n| n.to_string())
            )),
        };
        match self {
            HostModel::Linear { w, b } => {
                rows_of("W", w.len(), b.len(), d, "one row per value of b, one column per input value")
            }
            HostModel::Mlp { w1, w2, hidden } => {
                if *hidden == 0 {
                    return Err("the mlp model's hidden size is 0; it must be at least 1".into());
                }
                rows_of("W1", w1.len(), *hidden, d, "one row per hidden unit, one column per input value")?;
                if w2.len() % hidden != 0 {
                    return Err(format!(
                        "W2 has {} values, not a whole number of rows of the hidden size {hidden}",
                        w2.len()
                    ));
                }
                Ok(())
            }
            HostModel::Gap { w, channels } => {
                let c = match example_shape {
                    [] => {
                        return Err(
                            "the gap model needs examples of at least one dimension (channels first), got shape []"
                                .into(),
                        )
                    }
                    [_] => 1,
                    [c, ..] => *c,
                };
                if c != *channels {
                    return Err(format!("gap model has {channels} channels, the input {c}"));
                }
                if d == 0 {
                    return Err(format!(
                        "the gap model has no positions to average in an example of shape {example_shape:?}"
                    ));
                }
                if w.len() % c != 0 {
                    return Err(format!("W has {} values, not a whole number of rows of {c} channels", w.len()));
                }
                Ok(())
            }
            HostModel::Sq { a } => rows_of("a", a.len(), 1, d, "one weight per input value"),
            HostModel::ReluMlp { w1, b1, w2, b2 } => {
                rows_of("W1", w1.len(), b1.len(), d, "one row per value of b1, one column per input value")?;
                rows_of("W2", w2.len(), b2.len(), b1.len(), "one row per value of b2, one column per value of b1")
            }
            HostModel::Reshaped { model, output_shape } => {
                model.check_example(example_shape)?;
                let values = output_shape
                    .iter()
                    .try_fold(1usize, |a, &n| a.checked_mul(n))
                    .ok_or_else(|| format!("output_shape {output_shape:?}: the number of elements overflows"))?;
                match model.outputs_per_example() {
                    Some(outputs) if outputs != values => Err(format!(
                        "output_shape {output_shape:?} has {values} elements, but the model gives {outputs} outputs \
                         per example"
                    )),
                    _ => Ok(()),
                }
            }
            HostModel::Custom { .. } => Ok(()),
        }
    }

    /// Output values per example of a one-row input of per-example shape `example_shape`,
    /// after [`HostModel::check_example`] (and a check that `x` holds one example).
    pub fn eval_example(&self, x: &[f64], example_shape: &[usize]) -> Result<Vec<f64>, String> {
        self.check_example(example_shape)?;
        let d = x.len();
        if example_values(example_shape)? != d {
            return Err(format!("an example of shape {example_shape:?} given {d} values"));
        }
        // `rows` rows of `w` (row-major, `x.len()` columns each) times `x`; `w` has been checked.
        let matvec = |w: &[f64], rows: usize, x: &[f64]| -> Vec<f64> {
            let columns = x.len();
            (0..rows).map(|r| w[r * columns..(r + 1) * columns].iter().zip(x).map(|(a, b)| a * b).sum()).collect()
        };
        match self {
            HostModel::Linear { w, b } => Ok(matvec(w, b.len(), x).into_iter().zip(b).map(|(y, b)| y + b).collect()),
            HostModel::Mlp { w1, w2, hidden } => {
                let h: Vec<f64> = matvec(w1, *hidden, x).into_iter().map(f64::tanh).collect();
                Ok(matvec(w2, w2.len() / hidden, &h))
            }
            HostModel::Gap { w, channels } => {
                let per = d / channels;
                let means: Vec<f64> = x.chunks(per).map(|ch| ch.iter().sum::<f64>() / per as f64).collect();
                Ok(matvec(w, w.len() / channels, &means))
            }
            HostModel::Sq { a } => Ok(vec![a.iter().zip(x).map(|(a, x)| a * x * x).sum()]),
            HostModel::ReluMlp { w1, b1, w2, b2 } => {
                let h: Vec<f64> = matvec(w1, b1.len(), x).into_iter().zip(b1).map(|(y, b)| (y + b).max(0.0)).collect();
                Ok(matvec(w2, b2.len(), &h).into_iter().zip(b2).map(|(y, b)| y + b).collect())
            }
            HostModel::Reshaped { model, output_shape } => {
                let y = model.eval_example(x, example_shape)?;
                let values: usize = output_shape.iter().product(); // checked by `check_example`
                if y.len() != values {
                    return Err(format!("the reshaped output has {} values, expected {values}", y.len()));
                }
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
        let size = shape[1..]
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .filter(|&size| size.checked_mul(rows) == Some(x.len()))
            .ok_or_else(|| format!("a batch of shape {shape:?} given {} values", x.len()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_models_are_errors_not_panics() {
        let cases: Vec<(HostModel, &[usize], String)> = vec![
            (
                HostModel::Mlp { w1: vec![], w2: vec![], hidden: 0 },
                &[4],
                "the mlp model's hidden size is 0; it must be at least 1".into(),
            ),
            (
                HostModel::Mlp { w1: vec![1.0; 8], w2: vec![1.0; 3], hidden: 2 },
                &[4],
                "W2 has 3 values, not a whole number of rows of the hidden size 2".into(),
            ),
            (
                HostModel::Gap { w: vec![1.0], channels: 1 },
                &[],
                "the gap model needs examples of at least one dimension (channels first), got shape []".into(),
            ),
            (
                HostModel::Gap { w: vec![], channels: 0 },
                &[0, 3],
                "the gap model has no positions to average in an example of shape [0, 3]".into(),
            ),
            (
                HostModel::Gap { w: vec![1.0; 2], channels: 2 },
                &[2, 0],
                "the gap model has no positions to average in an example of shape [2, 0]".into(),
            ),
            (
                HostModel::ReluMlp { w1: vec![1.0; 8], b1: vec![0.0; 2], w2: vec![1.0], b2: vec![0.0] },
                &[4],
                "W2 has 1 values, expected 1 × 2 = 2 (one row per value of b2, one column per value of b1, for an \
                 example of shape [4])"
                    .into(),
            ),
            (
                HostModel::Reshaped {
                    model: Box::new(HostModel::Sq { a: vec![1.0; 4] }),
                    output_shape: vec![1 << 32, 1 << 32, 2],
                },
                &[4],
                "output_shape [4294967296, 4294967296, 2]: the number of elements overflows".into(),
            ),
            (
                HostModel::Linear { w: vec![1.0; 4], b: vec![0.0] },
                &[1 << 32, 1 << 32, 2],
                "an example of shape [4294967296, 4294967296, 2] has more values than fit a usize".into(),
            ),
        ];
        for (model, shape, want) in cases {
            assert_eq!(model.check_example(shape), Err(want.clone()));
            let x = vec![1.0; shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(0).min(16)];
            assert_eq!(model.eval_example(&x, shape), Err(want));
        }
        // A batch whose data does not fill its shape.
        let model = HostModel::Linear { w: vec![1.0; 4], b: vec![0.0] };
        assert_eq!(model.eval(&[1.0; 7], &[2, 4]), Err("a batch of shape [2, 4] given 7 values".into()));
        assert_eq!(model.eval_example(&[1.0; 3], &[4]), Err("an example of shape [4] given 3 values".into()));
    }

    #[test]
    fn well_formed_models_evaluate() {
        let relu = HostModel::ReluMlp { w1: vec![1.0; 6], b1: vec![-10.0, 1.0], w2: vec![1.0, 2.0], b2: vec![0.5] };
        assert_eq!(relu.eval_example(&[1.0, 2.0, 3.0], &[3]), Ok(vec![0.5 + 2.0 * 7.0]));
        let gap = HostModel::Gap { w: vec![1.0, 10.0], channels: 2 };
        assert_eq!(gap.eval_example(&[1.0, 3.0, 5.0, 7.0], &[2, 2]), Ok(vec![2.0 + 60.0]));
        // An empty example of a linear model: the bias alone.
        let linear = HostModel::Linear { w: vec![], b: vec![3.0, 4.0] };
        assert_eq!(linear.eval_example(&[], &[0]), Ok(vec![3.0, 4.0]));
    }
}
