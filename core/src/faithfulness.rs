//! Faithfulness metrics that query the model: deletion and insertion curves (RISE, Petsiuk
//! et al. 2018) and region-perturbation AOPC (Samek et al. 2017).

use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::forward::{Forward, ModelJobs};
use crate::region::row_major_strides;

/// How a model output row becomes the score a curve records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Score {
    /// The softmax probability of the target class (the default).
    #[default]
    Probability,
    /// The raw output of the target class.
    Raw,
}

/// One example's geometry for the metrics: its per-example shape and, optionally, the axis
/// of that shape that holds channels. Positions are the other axes; a position's attribution
/// is the sum over its channels, and perturbing a position perturbs all its channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapGeometry {
    /// `d`, the per-example shape.
    pub example_shape: Vec<usize>,
    /// The channel axis in `d`, if any.
    pub channel_axis: Option<usize>,
}

impl MapGeometry {
    /// The spatial shape: `d` without the channel axis.
    pub fn spatial_shape(&self) -> Vec<usize> {
        self.example_shape.iter().enumerate().filter(|(i, _)| Some(*i) != self.channel_axis).map(|(_, d)| *d).collect()
    }

    fn channels(&self) -> usize {
        self.channel_axis.map_or(1, |c| self.example_shape[c])
    }

    /// For every spatial position (row-major), the flat indices of its elements.
    fn position_elements(&self) -> Vec<Vec<usize>> {
        let strides = row_major_strides(&self.example_shape);
        let spatial_axes: Vec<usize> =
            (0..self.example_shape.len()).filter(|i| Some(*i) != self.channel_axis).collect();
        let spatial = self.spatial_shape();
        let count: usize = spatial.iter().product();
        let spatial_strides = row_major_strides(&spatial);
        (0..count)
            .map(|p| {
                let base: usize = spatial_axes
                    .iter()
                    .enumerate()
                    .map(|(k, &axis)| (p / spatial_strides[k]) % spatial[k] * strides[axis])
                    .sum();
                match self.channel_axis {
                    Some(c) => (0..self.channels()).map(|ch| base + ch * strides[c]).collect(),
                    None => vec![base],
                }
            })
            .collect()
    }

    /// The channel-summed attribution per spatial position.
    pub fn position_sums(&self, attribution: &[f64]) -> Vec<f64> {
        self.position_elements().iter().map(|els| els.iter().map(|&i| attribution[i]).sum()).collect()
    }

    fn check(&self, len: usize, what: &'static str) -> Result<()> {
        let expected: usize = self.example_shape.iter().product();
        if self.channel_axis.is_some_and(|c| c >= self.example_shape.len()) || expected == 0 {
            return Err(Error::InvalidParameter {
                parameter: "channel axis",
                reason: format!("{:?} for an example of shape {:?}", self.channel_axis, self.example_shape),
            });
        }
        if len != expected {
            return Err(Error::InvalidParameter {
                parameter: what,
                reason: format!("{len} values for one example of shape {:?} ({expected} expected)", self.example_shape),
            });
        }
        Ok(())
    }
}

/// A perturbation curve: the score after each step, against the fraction of positions
/// perturbed, and its normalised area (trapezoid rule over `x ∈ [0, 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PerturbationCurve {
    /// `k / steps` for `k = 0 … steps`.
    pub fractions: Vec<f64>,
    /// The score at each fraction.
    pub scores: Vec<f64>,
    /// `Σ_k (s_k + s_{k+1}) / 2 · (x_{k+1} − x_k)`.
    pub auc: f64,
}

/// Trapezoid area of `scores` at evenly spaced `x ∈ [0, 1]`.
pub fn trapezoid_auc(scores: &[f64]) -> f64 {
    if scores.len() < 2 {
        return scores.first().copied().unwrap_or(0.0);
    }
    let dx = 1.0 / (scores.len() - 1) as f64;
    scores.windows(2).map(|w| (w[0] + w[1]) / 2.0 * dx).sum()
}

/// Evaluates the model on host examples `rows` (each one example of `like`'s per-example
/// shape), `batch` at a time, and returns the score of `target` for each. The calls go through
/// [`Forward::forward_jobs`], so a parallel model runs them side by side.
fn scores<B: Backend>(
    model: &mut dyn Forward<Backend = B>,
    like: &TensorOf<B>,
    example_shape: &[usize],
    rows: &[Vec<f64>],
    target: usize,
    score: Score,
    batch: usize,
) -> Result<Vec<f64>> {
    let jobs = ScoreJobs { like, example_shape, chunks: rows.chunks(batch.max(1)).collect(), target, score };
    let mut out = Vec::with_capacity(rows.len());
    model.forward_jobs(&jobs, &mut |_, scores| {
        out.extend(scores);
        Ok(())
    })?;
    Ok(out)
}

/// The model calls of [`scores`]: one per chunk of examples.
struct ScoreJobs<'a, B: Backend> {
    like: &'a TensorOf<B>,
    example_shape: &'a [usize],
    chunks: Vec<&'a [Vec<f64>]>,
    target: usize,
    score: Score,
}

impl<B: Backend> ModelJobs<B> for ScoreJobs<'_, B> {
    fn len(&self) -> usize {
        self.chunks.len()
    }

    fn build(&self, index: usize) -> Result<TensorOf<B>> {
        let chunk = self.chunks[index];
        let mut shape = vec![chunk.len()];
        shape.extend_from_slice(self.example_shape);
        B::from_f64_slice(self.like, &shape, &chunk.concat())
    }

    fn score(&self, index: usize, output: &TensorOf<B>) -> Result<Vec<f64>> {
        let rows = self.chunks[index].len();
        let y_shape = B::shape(output);
        if y_shape.first() != Some(&rows) || y_shape.len() != 2 {
            return Err(Error::OutputBatch { rows, output_shape: y_shape });
        }
        let classes = y_shape[1];
        if self.target >= classes {
            return Err(Error::TargetOutOfRange { index: self.target, dim: 1, size: classes, output_shape: y_shape });
        }
        let values = B::to_f64_vec(output)?;
        Ok(values
            .chunks(classes)
            .map(|row| match self.score {
                Score::Raw => row[self.target],
                Score::Probability => {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
                    (row[self.target] - max).exp() / sum
                }
            })
            .collect())
    }
}

/// Separable Gaussian blur of one example over its spatial axes, channels kept apart:
/// `b_p = Σ_o g(o) x_{clamp(p+o)} / Σ_o g(o)` along each spatial axis in turn, with
/// `g(o) = exp(−o²/(2σ²))` for `|o| ≤ ⌈3σ⌉` and positions clamped at the edges. `σ ≤ 0`
/// returns the input.
pub fn gaussian_blur(values: &[f64], geometry: &MapGeometry, sigma: f64) -> Result<Vec<f64>> {
    geometry.check(values.len(), "values")?;
    if !sigma.is_finite() {
        return Err(Error::InvalidParameter { parameter: "blur sigma", reason: format!("{sigma} is not finite") });
    }
    if sigma <= 0.0 {
        return Ok(values.to_vec());
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let norm: f64 = kernel.iter().sum();
    let strides = row_major_strides(&geometry.example_shape);
    let mut current = values.to_vec();
    for axis in (0..geometry.example_shape.len()).filter(|a| Some(*a) != geometry.channel_axis) {
        let (d, s) = (geometry.example_shape[axis] as isize, strides[axis]);
        let next: Vec<f64> = (0..current.len())
            .map(|i| {
                let coordinate = ((i / s) as isize) % d;
                kernel
                    .iter()
                    .zip(-radius..=radius)
                    .map(|(k, o)| {
                        let c = (coordinate + o).clamp(0, d - 1);
                        k * current[(i as isize + (c - coordinate) * s as isize) as usize]
                    })
                    .sum::<f64>()
                    / norm
            })
            .collect();
        current = next;
    }
    Ok(current)
}

/// Deletion and insertion curves (RISE): positions ranked by channel-summed attribution,
/// most relevant first, `⌈P / steps⌉` positions per step.
///
/// - deletion starts from the input and sets the ranked positions to `baseline`; a faithful
///   map makes the score fall fast (low AUC is good);
/// - insertion starts from a blurred copy of the input (Gaussian, `σ = blur_sigma` positions)
///   and puts the original values back; a faithful map makes the score rise fast (high AUC
///   is good).
///
/// The `steps + 1` model inputs are evaluated `batch` at a time.
#[derive(Clone, Debug)]
pub struct DeletionInsertion {
    /// Number of steps (the curve has `steps + 1` points), `≥ 1`.
    pub steps: usize,
    /// The value deleted positions take (in the model's input space).
    pub baseline: f64,
    /// The insertion start's blur, in positions.
    pub blur_sigma: f64,
    /// Examples per model call.
    pub batch: usize,
    /// Probability or raw output.
    pub score: Score,
}

impl Default for DeletionInsertion {
    /// 50 steps, baseline 0, blur σ = 5 positions, batches of 16, probabilities.
    fn default() -> Self {
        DeletionInsertion { steps: 50, baseline: 0.0, blur_sigma: 5.0, batch: 16, score: Score::Probability }
    }
}

/// Positions sorted by decreasing attribution (ties by index).
fn ranking(sums: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sums.len()).collect();
    order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]).then(a.cmp(&b)));
    order
}

impl DeletionInsertion {
    fn check(&self) -> Result<()> {
        if self.steps == 0 || self.batch == 0 {
            return Err(Error::InvalidParameter {
                parameter: "steps",
                reason: "steps and batch must be at least 1".into(),
            });
        }
        Ok(())
    }

    fn curve<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
        insertion: bool,
    ) -> Result<PerturbationCurve> {
        self.check()?;
        let x = B::to_f64_vec(input)?;
        geometry.check(x.len(), "input")?;
        geometry.check(attribution.len(), "attribution")?;
        let elements = geometry.position_elements();
        let order = ranking(&geometry.position_sums(attribution));
        let per_step = order.len().div_ceil(self.steps);
        let start = if insertion { gaussian_blur(&x, geometry, self.blur_sigma)? } else { x.clone() };
        let mut current = start;
        let mut rows = vec![current.clone()];
        for step in 0..self.steps {
            for &p in order.iter().skip(step * per_step).take(per_step) {
                for &i in &elements[p] {
                    current[i] = if insertion { x[i] } else { self.baseline };
                }
            }
            rows.push(current.clone());
        }
        let scores = scores(model, input, &geometry.example_shape, &rows, target, self.score, self.batch)?;
        let fractions = (0..=self.steps).map(|k| k as f64 / self.steps as f64).collect();
        Ok(PerturbationCurve { fractions, auc: trapezoid_auc(&scores), scores })
    }

    /// The deletion curve of one example `input` `(1, d…)` and its attribution (`Π d`
    /// values, row-major) for class `target`.
    pub fn deletion<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<PerturbationCurve> {
        self.curve(model, input, attribution, geometry, target, false)
    }

    /// The insertion curve (see [`DeletionInsertion`]).
    pub fn insertion<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<PerturbationCurve> {
        self.curve(model, input, attribution, geometry, target, true)
    }
}

/// Region-perturbation AOPC (Samek et al. 2017), most relevant first: the spatial positions
/// are cut into non-overlapping patches of `patch` positions per axis (cropped at the
/// borders), ranked by summed attribution; the top `regions` patches are set to `baseline`
/// one after another, and `AOPC = 1/(L+1) Σ_{k=0}^{L} (f(x) − f(x^{(k)}))` with `x^{(0)} = x`.
/// Higher is better. (Samek et al. fill patches with uniform noise; a fixed baseline makes
/// the number reproducible.)
#[derive(Clone, Debug)]
pub struct RegionPerturbation {
    /// Patch side in positions, `≥ 1`.
    pub patch: usize,
    /// `L`, the number of patches perturbed, `≥ 1`.
    pub regions: usize,
    /// The value perturbed positions take.
    pub baseline: f64,
    /// Examples per model call.
    pub batch: usize,
    /// Probability or raw output.
    pub score: Score,
}

impl RegionPerturbation {
    /// The AOPC of one example `input` `(1, d…)` with its attribution, for class `target`.
    pub fn aopc<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<f64> {
        if self.patch == 0 || self.regions == 0 || self.batch == 0 {
            return Err(Error::InvalidParameter {
                parameter: "patch",
                reason: "patch, regions and batch must be at least 1".into(),
            });
        }
        let x = B::to_f64_vec(input)?;
        geometry.check(x.len(), "input")?;
        geometry.check(attribution.len(), "attribution")?;
        let spatial = geometry.spatial_shape();
        let spatial_strides = row_major_strides(&spatial);
        let grid: Vec<usize> = spatial.iter().map(|d| d.div_ceil(self.patch)).collect();
        let grid_strides = row_major_strides(&grid);
        let patches: usize = grid.iter().product();
        let mut members = vec![Vec::new(); patches];
        for p in 0..spatial.iter().product::<usize>() {
            let cell: usize =
                (0..spatial.len()).map(|k| (p / spatial_strides[k]) % spatial[k] / self.patch * grid_strides[k]).sum();
            members[cell].push(p);
        }
        let sums = geometry.position_sums(attribution);
        let patch_sums: Vec<f64> = members.iter().map(|m| m.iter().map(|&p| sums[p]).sum()).collect();
        let elements = geometry.position_elements();
        let mut current = x.clone();
        let mut rows = vec![x];
        for &cell in ranking(&patch_sums).iter().take(self.regions) {
            for &p in &members[cell] {
                for &i in &elements[p] {
                    current[i] = self.baseline;
                }
            }
            rows.push(current.clone());
        }
        let s = scores(model, input, &geometry.example_shape, &rows, target, self.score, self.batch)?;
        Ok(s.iter().map(|v| s[0] - v).sum::<f64>() / s.len() as f64)
    }
}
