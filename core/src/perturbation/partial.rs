//! Partial runs of the occlusion-type methods and their merge: the model calls of one
//! attribution split into parts that can run anywhere (other threads, processes, machines),
//! merged into the map a single run gives, bit for bit.
//!
//! A run makes the unperturbed call and `C = ceil(R / P)` perturbed calls, call `c` occluding
//! regions `[c·P, min((c+1)·P, R))`. Part `i` of `n` makes the unperturbed call and the perturbed
//! calls `[⌊i·C/n⌋, ⌊(i+1)·C/n⌋)` (the same batches as a single run), and keeps every region's
//! drops `Δ_j = τ(F(X)) − τ(F(X^{R_j}))`. The merge checks that the parts are the `n` parts of
//! one configuration on one input, then adds the drops into `S[m, p] = Σ_j Δ_j[m]·[p ∈ R_j]` in
//! region order, exactly as a single run adds them, and normalises as the method does.

use std::fmt::Write as _;
use std::ops::Range;

use crate::attribution::{Attribution, Inputs, NoProgress, ProgressCounter, ProgressHook, ResolvedBaseline};
use crate::backend::{Backend, TensorOf};
use crate::error::{try_reserve, Error, Result};
use crate::model::Forward;
use crate::perturbation::engine::{add_region_drop, run_model_calls, zeroed_sums, OcclusionRun};
use crate::perturbation::occlusion::{coverage, divide_by_coverage};
use crate::perturbation::{Aggregation, FeatureAblation, Occlusion, RegionSchedule, TiledOcclusion, TilingMode};

/// Part `index` of `count` of a run's perturbed model calls (`index < count`, `count ≥ 1`).
///
/// With `C` perturbed calls, the part makes calls `[⌊index·C/count⌋, ⌊(index+1)·C/count⌋)`, so
/// the `count` parts make every call once and their sizes differ by at most one call.
///
/// ```
/// use tiled_occlusion_core::perturbation::SchedulePart;
/// let part = SchedulePart::new(1, 3).unwrap();
/// assert_eq!(part.calls(10), 3..6);
/// assert!(SchedulePart::new(3, 3).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SchedulePart {
    index: usize,
    count: usize,
}

impl SchedulePart {
    /// Part `index` of `count`; an error unless `index < count`.
    pub fn new(index: usize, count: usize) -> Result<SchedulePart> {
        Error::check_at_least("SchedulePart::new (count)", count, 1)?;
        if index >= count {
            return Err(Error::InvalidSetting {
                setting: "SchedulePart::new".into(),
                reason: format!("part {index} of {count} does not exist: parts are numbered 0 to {}", count - 1),
            });
        }
        Ok(SchedulePart { index, count })
    }

    /// The part's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of parts.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The perturbed calls of this part among `calls`: `[⌊i·C/n⌋, ⌊(i+1)·C/n⌋)`, computed
    /// without overflow.
    pub fn calls(&self, calls: usize) -> Range<usize> {
        let at = |i: usize| ((i as u128 * calls as u128) / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// What a partial run returns: the drops of its regions and what the merge checks.
#[derive(Clone, Debug, PartialEq)]
pub struct PartialAttribution {
    /// Which part this is.
    pub part: SchedulePart,
    /// A 64-bit FNV-1a fingerprint of the method's settings, the target, the input's shape and
    /// values and the baseline: parts of different runs do not merge.
    pub fingerprint: u64,
    /// The input's shape `(N, d…)`.
    pub input_shape: Vec<usize>,
    /// The regions of the whole run, `R`.
    pub total_regions: usize,
    /// The regions this part evaluated, `[c_0·P, min(c_1·P, R))`.
    pub regions: Range<usize>,
    /// `τ(F(X))`, one score per row (`N`, or `M` for a batch-level output): every part of a run
    /// must have the same, bit for bit.
    pub reference: Vec<f64>,
    /// `Δ_j[m]` for the part's regions in order, row-major `(regions, rows)`.
    pub drops: Vec<f64>,
}

/// A 64-bit FNV-1a hash, written to as text or as numbers.
struct Fingerprint(u64);

impl Fingerprint {
    fn new() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn values(&mut self, values: &[f64]) {
        for v in values {
            self.bytes(&v.to_bits().to_le_bytes());
        }
    }
}

impl std::fmt::Write for Fingerprint {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// An occlusion-type method whose model calls can be split into parts and merged: Occlusion,
/// TiledOcclusion (shifted mode) and FeatureAblation.
///
/// `merge_parts(attribute_part(part i of n) for every i)` equals `attribute` bit for bit, for
/// any `n` (the parts make the same model calls, with the same batches, as a single run, and
/// the merge adds the drops in the same order), provided the model gives the same output for
/// the same batch.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use tiled_occlusion_core::perturbation::{PartitionedAttribution, SchedulePart};
/// use tiled_occlusion_core::{Attribution, Inputs, Occlusion};
/// use tiled_occlusion_ndarray::Ndarray;
///
/// let mut model = tiled_occlusion_ndarray::model(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1))));
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 6]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// let inputs = Inputs::new(&x);
/// let method = Occlusion::new([2]).with_strides(1);
/// // Three parts, as three machines would run them.
/// let parts = (0..3)
///     .map(|i| PartitionedAttribution::<Ndarray<f64>>::attribute_part(&method, &mut model, &inputs, SchedulePart::new(i, 3)?))
///     .collect::<Result<Vec<_>, _>>()?;
/// let merged = PartitionedAttribution::<Ndarray<f64>>::merge_parts(&method, &inputs, &parts)?;
/// assert_eq!(merged, method.attribute(&mut model, &inputs)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait PartitionedAttribution<B: Backend>: Attribution<B> {
    /// Runs part `part`: the unperturbed call and the part's perturbed calls.
    fn attribute_part(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        part: SchedulePart,
    ) -> Result<PartialAttribution> {
        self.attribute_part_with_progress(model, inputs, part, &mut NoProgress)
    }

    /// [`attribute_part`](Self::attribute_part), telling `progress` after every model call.
    fn attribute_part_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        part: SchedulePart,
        progress: &mut dyn ProgressHook,
    ) -> Result<PartialAttribution>;

    /// The map of all `n` parts of one run (in any order), as [`Attribution::attribute`] gives
    /// it. A missing, duplicated or foreign part (another method, setting, target, input or
    /// baseline, another model's reference scores) is an error that names it.
    fn merge_parts(&self, inputs: &Inputs<'_, B>, parts: &[PartialAttribution]) -> Result<TensorOf<B>>;
}

/// What a method contributes to a partial run and to the merge.
trait PartRun {
    /// The regions on an input of `shape`.
    fn part_schedule(&self, shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>>;
    /// `P`.
    fn part_per_eval(&self) -> usize;
    /// The method's normalisation of the merged sums.
    fn normalise(&self, shape: &[usize], sums: &mut [f64]) -> Result<()>;
}

impl PartRun for Occlusion {
    fn part_schedule(&self, shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        Ok(Box::new(self.schedule(shape)?))
    }

    fn part_per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn normalise(&self, shape: &[usize], sums: &mut [f64]) -> Result<()> {
        divide_by_coverage(sums, &coverage(&self.schedule(shape)?)?);
        Ok(())
    }
}

impl PartRun for TiledOcclusion {
    fn part_schedule(&self, shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        if self.mode() == TilingMode::Reference {
            return Err(Error::InvalidSetting {
                setting: "TiledOcclusion::with_mode(TilingMode::Reference)".into(),
                reason: "the reference mode runs one model per phase and cannot be split into parts; use the \
                         default mode"
                    .into(),
            });
        }
        Ok(Box::new(self.shifted_schedule(shape)?))
    }

    fn part_per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn normalise(&self, shape: &[usize], sums: &mut [f64]) -> Result<()> {
        if self.aggregation() == Aggregation::Mean {
            let phases = self.shifted_schedule(shape)?.phases();
            sums.iter_mut().for_each(|v| *v /= phases);
        }
        Ok(())
    }
}

impl PartRun for FeatureAblation {
    fn part_schedule(&self, shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        Ok(Box::new(self.groups(shape)?))
    }

    fn part_per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn normalise(&self, _: &[usize], _: &mut [f64]) -> Result<()> {
        Ok(())
    }
}

/// The fingerprint of a run of `method` on `inputs`.
fn fingerprint<B: Backend>(method: &dyn std::fmt::Debug, inputs: &Inputs<'_, B>, shape: &[usize]) -> Result<u64> {
    let mut f = Fingerprint::new();
    // Writing to a hasher cannot fail.
    let _ = write!(f, "{method:?}|{:?}|{shape:?}|", inputs.target);
    f.values(&B::to_f64_vec(inputs.input)?);
    match ResolvedBaseline::resolve(&inputs.baseline, inputs.input, shape)? {
        ResolvedBaseline::Scalar(v) => f.values(&[v]),
        ResolvedBaseline::Borrowed { tensor, .. } => f.values(&B::to_f64_vec(tensor)?),
        ResolvedBaseline::Owned { tensor, .. } => f.values(&B::to_f64_vec(&tensor)?),
    }
    Ok(f.0)
}

fn attribute_part_of<B: Backend, M: PartRun + std::fmt::Debug>(
    method: &M,
    model: &mut dyn Forward<Backend = B>,
    inputs: &Inputs<'_, B>,
    part: SchedulePart,
    progress: &mut dyn ProgressHook,
) -> Result<PartialAttribution> {
    let shape = B::shape(inputs.input);
    let schedule = method.part_schedule(&shape)?;
    let per_eval = method.part_per_eval();
    let regions = schedule.len();
    run_model_calls(regions, per_eval)?;
    let calls = part.calls(regions.div_ceil(per_eval));
    inputs.target.check_examples(shape[0])?;
    Error::checked_product(
        "the perturbed batch of one model call",
        &[per_eval.min(regions), shape[0], shape[1..].iter().product()],
    )?;
    let fingerprint = fingerprint(method, inputs, &shape)?;
    let baseline = ResolvedBaseline::resolve(&inputs.baseline, inputs.input, &shape)?;
    let run = OcclusionRun {
        input: inputs.input,
        input_shape: &shape,
        baseline: baseline.value(),
        target: &inputs.target,
        schedule: schedule.as_ref(),
        per_eval,
        refuses_batch_level: None,
    };
    let first = (calls.start * per_eval).min(regions);
    let last = (calls.end * per_eval).min(regions);
    let mut counter = ProgressCounter::new(progress, 1 + calls.len());
    // The drops grow with the calls made (R·rows values for the whole run, far less than the
    // batches the calls evaluate).
    let mut drops = Vec::new();
    let reference = run.output_drops(model, &mut counter, calls, &mut |rows, _, deltas| {
        if drops.capacity() == 0 {
            // The part's regions × the model's rows, once the model has said its rows.
            let values = Error::checked_product("the drops of a partial run", &[last - first, rows])?;
            try_reserve(&mut drops, "the drops of a partial run", values, "split the run into more parts")?;
        }
        drops.extend_from_slice(deltas);
        Ok(())
    })?;
    Ok(PartialAttribution {
        part,
        fingerprint,
        input_shape: shape,
        total_regions: regions,
        regions: first..last,
        reference,
        drops,
    })
}

fn merge_parts_of<B: Backend, M: PartRun + std::fmt::Debug>(
    method: &M,
    inputs: &Inputs<'_, B>,
    parts: &[PartialAttribution],
) -> Result<TensorOf<B>> {
    let refuse = |reason: String| Err(Error::InvalidSetting { setting: "merge_parts".into(), reason });
    let shape = B::shape(inputs.input);
    let schedule = method.part_schedule(&shape)?;
    let per_eval = method.part_per_eval();
    let Some(first) = parts.first() else { return refuse("no part given".into()) };
    let count = first.part.count();
    let fingerprint = fingerprint(method, inputs, &shape)?;
    if parts.len() != count {
        let mut seen: Vec<usize> = parts.iter().map(|p| p.part.index()).collect();
        seen.sort_unstable();
        return refuse(format!("{} parts given for a run split into {count} (indices given: {seen:?})", parts.len()));
    }
    let mut by_index: Vec<Option<&PartialAttribution>> = vec![None; count];
    for p in parts {
        let i = p.part.index();
        if p.part.count() != count {
            return refuse(format!(
                "part {i} is one of {}, part {} one of {count}",
                p.part.count(),
                first.part.index()
            ));
        }
        if p.fingerprint != fingerprint || p.input_shape != shape || p.total_regions != schedule.len() {
            return refuse(format!(
                "part {i} of {count} belongs to another run (another method, setting, target, input or baseline)"
            ));
        }
        if by_index[i].replace(p).is_some() {
            return refuse(format!("part {i} of {count} is given twice"));
        }
    }
    let rows = first.reference.len();
    if schedule.varies_by_example() && rows != shape[0] {
        return refuse(format!(
            "part {} of {count} holds {rows} reference scores for an input of {} examples with a mask per example",
            first.part.index(),
            shape[0]
        ));
    }
    let calls = schedule.len().div_ceil(per_eval);
    // Every part is checked before the sums are allocated: a part file is data a user (or a
    // damaged disk) can change, and its lengths must not size an allocation unchecked.
    let mut checked = Vec::with_capacity(count);
    for (i, p) in by_index.iter().enumerate() {
        // Every index is present: `count` parts, none twice.
        let Some(p) = p else { return refuse(format!("part {i} of {count} is missing")) };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        if bits(&p.reference) != bits(&first.reference) {
            return refuse(format!(
                "part {i} of {count} saw other unperturbed scores than part {}: another model, or one that is \
                 not deterministic",
                first.part.index()
            ));
        }
        let range = p.part.calls(calls);
        let regions = (range.start * per_eval).min(schedule.len())..(range.end * per_eval).min(schedule.len());
        if p.regions != regions {
            return refuse(format!("part {i} of {count} holds regions {:?}, not {regions:?}", p.regions));
        }
        if regions.len().checked_mul(rows) != Some(p.drops.len()) {
            return refuse(format!(
                "part {i} of {count} holds {} drops, not {} regions × {rows} rows",
                p.drops.len(),
                regions.len()
            ));
        }
        checked.push((regions, p));
    }
    let example_shape = &shape[1..];
    let size = Error::checked_product("the elements per example", example_shape)?;
    let mut sums = zeroed_sums(rows, size, "merge fewer rows at a time")?;
    for (regions, p) in checked {
        for (j, deltas) in regions.zip(p.drops.chunks(rows.max(1))) {
            add_region_drop(&mut sums, example_shape, &schedule.region(j), deltas);
        }
    }
    method.normalise(&shape, &mut sums)?;
    let mut out_shape = vec![rows];
    out_shape.extend_from_slice(example_shape);
    B::from_f64_slice(inputs.input, &out_shape, &sums)
}

macro_rules! partitioned {
    ($method:ty) => {
        impl<B: Backend> PartitionedAttribution<B> for $method {
            fn attribute_part_with_progress(
                &self,
                model: &mut dyn Forward<Backend = B>,
                inputs: &Inputs<'_, B>,
                part: SchedulePart,
                progress: &mut dyn ProgressHook,
            ) -> Result<PartialAttribution> {
                attribute_part_of(self, model, inputs, part, progress)
            }

            fn merge_parts(&self, inputs: &Inputs<'_, B>, parts: &[PartialAttribution]) -> Result<TensorOf<B>> {
                merge_parts_of(self, inputs, parts)
            }
        }
    };
}
partitioned!(Occlusion);
partitioned!(TiledOcclusion);
partitioned!(FeatureAblation);
