//! One method configuration per input tensor: attributions of several inputs at once
//! (Captum's tuple inputs, with per-input windows, strides, masks and baselines).

use crate::attribution::{MultiAttribution, MultiInputs, ProgressHook};
use crate::backend::{packed_shape, Backend, BaselineValue, Packed, Region, TensorOf};
use crate::error::{Error, Result};
use crate::model::{MultiForward, PackedModel};
use crate::perturbation::engine::{run_model_calls, OcclusionRun};
use crate::perturbation::occlusion::divide_by_coverage;
use crate::perturbation::{FeatureAblation, FeatureMask, MaskLayout, Occlusion, RegionSchedule, TiledOcclusion};

/// Occlusion, TiledOcclusion or FeatureAblation over several inputs, one configuration per
/// input (Captum's tuple inputs): input `i` of shape `(N, d^i…)` gets method `i`'s windows
/// (window, strides or `k`) or mask; every region lies in one input and occludes only it.
///
/// - **Occlusion, TiledOcclusion**: the windows are numbered input by input, and
///   `A_i[n, p] = Σ_{j ∈ windows of i} Δ_j[n]·[p ∈ R_j] / c_i[p]` with each method's own
///   normalisation `c_i` (coverage, or the number of phases for the mean), so attribution `i`
///   equals the single-input method on input `i` with the others held fixed.
/// - **FeatureAblation**: ids are global across the inputs (Captum 0.9): the positions of id `g`
///   in every input are ablated together, `A_i[n, p] = Δ_{g_i(n, p)}[n]`. An input without a
///   mask ([`FeatureAblation::per_element`]) has one group per element of its own.
///
/// `P` (perturbations per call) must be the same for every input's method
/// ([`PerInput::with_perturbations_per_eval`] sets it for all). Model calls:
/// `1 + ceil(R / P)` for `R` regions in all.
///
/// Example: the facade's `docs/methods.md`, "Several inputs".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerInput<M> {
    methods: Vec<M>,
}

impl<M> PerInput<M> {
    /// Method `i` for input `i`.
    pub fn new(methods: impl IntoIterator<Item = M>) -> Self {
        PerInput { methods: methods.into_iter().collect() }
    }

    /// The methods, one per input.
    pub fn methods(&self) -> &[M] {
        &self.methods
    }
}

/// A method that can run on one input of several: its regions and its normalisation.
pub(crate) trait PartMethod {
    /// `P`.
    fn per_eval(&self) -> usize;
    /// Sets `P`.
    fn set_per_eval(&mut self, per_eval: usize);
    /// The regions on an input of shape `input_shape`, in its per-example positions (made on
    /// demand: counting them allocates nothing in proportion to the input).
    fn part_regions(&self, input_shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>>;
    /// The divisor of every per-example position's sum (`None`: the sums are the
    /// attribution); asked only for an input that exists, so its size is allocated.
    fn part_divisors(&self, input_shape: &[usize]) -> Result<Option<Vec<f64>>>;
}

impl PartMethod for Occlusion {
    fn per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn set_per_eval(&mut self, per_eval: usize) {
        *self = self.clone().with_perturbations_per_eval(per_eval);
    }

    fn part_regions(&self, input_shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        Ok(Box::new(self.schedule(input_shape)?))
    }

    fn part_divisors(&self, input_shape: &[usize]) -> Result<Option<Vec<f64>>> {
        Ok(Some(crate::perturbation::occlusion::coverage(&self.schedule(input_shape)?)?))
    }
}

impl PartMethod for TiledOcclusion {
    fn per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn set_per_eval(&mut self, per_eval: usize) {
        *self = self.clone().with_perturbations_per_eval(per_eval);
    }

    fn part_regions(&self, input_shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        Ok(Box::new(self.shifted_part(input_shape)?.0))
    }

    fn part_divisors(&self, input_shape: &[usize]) -> Result<Option<Vec<f64>>> {
        let divisor = self.shifted_part(input_shape)?.1;
        let size = Error::checked_product("the elements per example of an input", &input_shape[1..])?;
        divisor.map(|d| filled(d, size)).transpose()
    }
}

macro_rules! per_eval_builder {
    ($method:ty) => {
        impl PerInput<$method> {
            /// Sets `P`, the regions per model call, for every input's method.
            pub fn with_perturbations_per_eval(mut self, per_eval: usize) -> Self {
                self.methods.iter_mut().for_each(|m| m.set_per_eval(per_eval));
                self
            }
        }
    };
}
per_eval_builder!(Occlusion);
per_eval_builder!(TiledOcclusion);
per_eval_builder!(FeatureAblation);

impl PartMethod for FeatureAblation {
    fn per_eval(&self) -> usize {
        self.perturbations_per_eval()
    }

    fn set_per_eval(&mut self, per_eval: usize) {
        *self = self.clone().with_perturbations_per_eval(per_eval);
    }

    fn part_regions(&self, input_shape: &[usize]) -> Result<Box<dyn RegionSchedule + '_>> {
        Ok(Box::new(self.groups(input_shape)?))
    }

    fn part_divisors(&self, _: &[usize]) -> Result<Option<Vec<f64>>> {
        Ok(None)
    }
}

/// The regions of several inputs' schedules, input after input, in packed positions.
struct PackedSchedule<'m> {
    /// Per input: its first packed position, its per-example shape and its regions.
    parts: Vec<(usize, Vec<usize>, Box<dyn RegionSchedule + 'm>)>,
    /// Per input, the index of its first region (and the total last).
    starts: Vec<usize>,
}

impl RegionSchedule for PackedSchedule<'_> {
    fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    fn region(&self, index: usize) -> Region<'_> {
        let part = self.starts.partition_point(|&s| s <= index) - 1;
        let (offset, example_shape, schedule) = &self.parts[part];
        Region::InPart { offset: *offset, example_shape, region: Box::new(schedule.region(index - self.starts[part])) }
    }

    fn varies_by_example(&self) -> bool {
        self.parts.iter().any(|(_, _, s)| s.varies_by_example())
    }
}

/// The one `P` of the methods, or an error naming them.
fn common_per_eval<M: PartMethod>(methods: &[M]) -> Result<usize> {
    let all: Vec<usize> = methods.iter().map(PartMethod::per_eval).collect();
    match all.first() {
        Some(&p) if all.iter().all(|&q| q == p) => Ok(p),
        Some(_) => Err(Error::InvalidSetting {
            setting: "PerInput".into(),
            reason: format!("the inputs' methods have different perturbations_per_eval {all:?}; set one for all"),
        }),
        None => Err(Error::InvalidSetting { setting: "PerInput::new".into(), reason: "no method given".into() }),
    }
}

/// The methods against the inputs: one each.
fn check_count(methods: usize, inputs: usize) -> Result<()> {
    if methods == inputs {
        return Ok(());
    }
    Err(Error::InvalidSetting {
        setting: "PerInput::new".into(),
        reason: format!("{methods} method configurations given for {inputs} inputs (one per input)"),
    })
}

/// `size` copies of `value`, allocated fallibly.
fn filled(value: f64, size: usize) -> Result<Vec<f64>> {
    crate::error::try_filled("the divisors of an input's sums", size, value, "use smaller inputs")
}

/// The packed schedule of the methods on inputs of `shapes` (every size and their sum checked
/// first; nothing allocated in proportion to them).
fn packed_schedule<'m, M: PartMethod>(methods: &'m [M], shapes: &[Vec<usize>]) -> Result<PackedSchedule<'m>> {
    check_count(methods.len(), shapes.len())?;
    packed_shape(shapes)?;
    let mut parts = Vec::with_capacity(methods.len());
    let mut starts = vec![0usize];
    let mut offset = 0usize;
    for (method, shape) in methods.iter().zip(shapes) {
        let schedule = method.part_regions(shape)?;
        let total =
            starts.last().copied().unwrap_or(0).checked_add(schedule.len()).ok_or_else(|| Error::SizeOverflow {
                what: "the regions of all inputs".into(),
                detail: format!("more than {}", usize::MAX),
            })?;
        starts.push(total);
        parts.push((offset, shape[1..].to_vec(), schedule));
        // Cannot overflow: `packed_shape` checked the sum of the sizes.
        offset += shape[1..].iter().product::<usize>();
    }
    Ok(PackedSchedule { parts, starts })
}

/// The divisors of the packed positions' sums (`None` when no method divides), for inputs that
/// exist: an input whose method does not divide gets 1.
fn packed_divisors<M: PartMethod>(methods: &[M], shapes: &[Vec<usize>]) -> Result<Option<Vec<f64>>> {
    let mut per_input = Vec::with_capacity(methods.len());
    for (method, shape) in methods.iter().zip(shapes) {
        per_input.push(method.part_divisors(shape)?);
    }
    if per_input.iter().all(Option::is_none) {
        return Ok(None);
    }
    let total = packed_shape(shapes)?[1];
    let mut divisors =
        crate::error::try_with_capacity("the divisors of the inputs' sums", total, "use smaller inputs")?;
    for (divisor, shape) in per_input.into_iter().zip(shapes) {
        match divisor {
            Some(d) => divisors.extend(d),
            None => divisors.extend(std::iter::repeat_n(1.0, shape[1..].iter().product())),
        }
    }
    Ok(Some(divisors))
}

/// One occlusion-type run over the packed inputs: the engine on the union of the inputs'
/// positions, the sums divided by `divisors`, unpacked into one attribution per input.
fn attribute_packed<B: Backend>(
    model: &mut dyn MultiForward<Backend = B>,
    inputs: &MultiInputs<'_, B>,
    schedule: &dyn RegionSchedule,
    divisors: Option<&[f64]>,
    per_eval: usize,
    progress: &mut dyn ProgressHook,
) -> Result<Vec<TensorOf<B>>> {
    let (input, baselines) = inputs.packed()?;
    let shape = <Packed<B> as Backend>::shape(&input);
    let run = OcclusionRun {
        input: &input,
        input_shape: &shape,
        baseline: BaselineValue::PerPosition(&baselines),
        target: &inputs.target,
        schedule,
        per_eval,
        refuses_batch_level: None,
    };
    let mut drops = run.checked_drop_sums(&mut PackedModel { model }, progress)?;
    if let Some(divisors) = divisors {
        divide_by_coverage(&mut drops.sums, divisors);
    }
    <Packed<B> as Backend>::from_f64_slice(&input, &drops.shape, &drops.sums)?.into_parts()
}

macro_rules! windowed_per_input {
    ($method:ty) => {
        impl PerInput<$method> {
            /// Model calls for inputs of shapes `input_shapes`: `1 + ceil(R / P)` for the `R`
            /// windows of all inputs.
            pub fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
                let per_eval = common_per_eval(&self.methods)?;
                run_model_calls(packed_schedule(&self.methods, input_shapes)?.len(), per_eval)
            }
        }

        impl<B: Backend> MultiAttribution<B> for PerInput<$method> {
            fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
                PerInput::<$method>::model_calls(self, input_shapes)
            }

            fn attribute_with_progress(
                &self,
                model: &mut dyn MultiForward<Backend = B>,
                inputs: &MultiInputs<'_, B>,
                progress: &mut dyn ProgressHook,
            ) -> Result<Vec<TensorOf<B>>> {
                let per_eval = common_per_eval(&self.methods)?;
                let shapes = inputs.shapes();
                let schedule = packed_schedule(&self.methods, &shapes)?;
                let divisors = packed_divisors(&self.methods, &shapes)?;
                attribute_packed(model, inputs, &schedule, divisors.as_deref(), per_eval, progress)
            }
        }
    };
}
windowed_per_input!(Occlusion);
windowed_per_input!(TiledOcclusion);

/// New feature ids, distinct from every id of the given masks and from each other: counting up
/// from the largest id given (the ids after it, then, past `i64::MAX`, from `i64::MIN` on),
/// skipping the ids taken. `max + i` overflowed (a mask holding `i64::MAX`): a panic, or, wrapped,
/// an input's elements merged into another input's group.
struct FreshIds {
    /// The masks' ids, sorted, without repeats.
    taken: Vec<i64>,
    /// The next id to try; every id issued lies between the first `next` and this one, so the
    /// walk meets an issued id again only after `2^64` steps.
    next: i64,
    /// The ids issued so far.
    issued: u64,
}

impl FreshIds {
    fn new<'a>(ids: impl Iterator<Item = &'a i64>) -> FreshIds {
        let mut taken: Vec<i64> = ids.copied().collect();
        taken.sort_unstable();
        taken.dedup();
        let next = taken.last().map_or(1, |max| max.wrapping_add(1));
        FreshIds { taken, next, issued: 0 }
    }

    /// `count` ids neither taken nor issued before (`2^64` ids exist in all).
    fn take(&mut self, count: usize) -> Result<Vec<i64>> {
        let free = u64::MAX - (self.taken.len() as u64).saturating_add(self.issued).saturating_sub(1);
        if count as u64 > free {
            return Err(Error::SizeOverflow {
                what: "the feature ids of the inputs without a mask".into(),
                detail: format!("{count} new ids, but only {free} of the 2^64 ids are free"),
            });
        }
        let mut fresh = crate::error::try_with_capacity(
            "the feature ids of an input without a mask",
            count,
            "give the input a mask",
        )?;
        while fresh.len() < count {
            let id = self.next;
            self.next = id.wrapping_add(1);
            if self.taken.binary_search(&id).is_err() {
                fresh.push(id);
            }
        }
        self.issued += count as u64;
        Ok(fresh)
    }
}

impl PerInput<FeatureAblation> {
    /// The one FeatureAblation of the packed inputs `(N, D)`: ids global across the inputs;
    /// an input without a mask gets one new id per element.
    fn packed_ablation(&self, shapes: &[Vec<usize>]) -> Result<FeatureAblation> {
        check_count(self.methods.len(), shapes.len())?;
        let per_eval = common_per_eval(&self.methods)?;
        let examples = shapes.first().and_then(|s| s.first()).copied().unwrap_or(0);
        if self.methods.iter().all(|m| m.mask().is_none()) {
            return Ok(FeatureAblation::per_element().with_perturbations_per_eval(per_eval));
        }
        let mut layouts = Vec::with_capacity(shapes.len());
        for (method, shape) in self.methods.iter().zip(shapes) {
            layouts.push(method.checked(shape)?.0.map(|(_, layout)| layout));
        }
        let per_example = layouts.contains(&Some(MaskLayout::PerExample));
        // Copies of every example a wrapper batches (`r`, the same for every per-example mask,
        // which keeps its N maps): the packed mask has N rows and serves the N · r.
        let repeats = self.methods.iter().map(FeatureAblation::repeats).max().unwrap_or(1);
        if self.methods.iter().zip(&layouts).any(|(m, l)| *l == Some(MaskLayout::PerExample) && m.repeats() != repeats)
        {
            return Err(Error::InvalidSetting {
                setting: "PerInput".into(),
                reason: "internal: the inputs' FeatureAblations were made for different copies of every example \
                         (only wrappers make copies; please report this)"
                    .into(),
            });
        }
        let mut fresh_ids = FreshIds::new(self.methods.iter().filter_map(|m| m.mask()).flat_map(|m| m.ids()));
        // Per input, its ids per example (rows of N, or one shared row).
        let mut rows: Vec<Vec<i64>> = vec![Vec::new(); if per_example { examples / repeats } else { 1 }];
        for ((method, shape), layout) in self.methods.iter().zip(shapes).zip(&layouts) {
            let size: usize = shape[1..].iter().product();
            let own: Vec<Vec<i64>> = match (method.mask(), layout) {
                (Some(mask), Some(MaskLayout::PerExample)) => {
                    mask.ids().chunks(size.max(1)).map(<[i64]>::to_vec).collect()
                }
                (Some(mask), _) => vec![mask.ids().to_vec()],
                (None, _) => vec![fresh_ids.take(size)?],
            };
            for (n, row) in rows.iter_mut().enumerate() {
                row.extend_from_slice(&own[if own.len() == 1 { 0 } else { n }]);
            }
        }
        let width: usize = shapes.iter().map(|s| s[1..].iter().product::<usize>()).sum();
        let (mask_shape, repeats) =
            if per_example { (vec![examples / repeats, width], repeats) } else { (vec![width], 1) };
        let mask = FeatureMask::new(mask_shape, rows.concat())?;
        Ok(FeatureAblation::new(mask).with_perturbations_per_eval(per_eval).with_repeats(repeats))
    }

    /// Model calls for inputs of shapes `input_shapes`: `1 + ceil(G / P)` for the `G` ids of
    /// all inputs.
    pub fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        self.packed_ablation(input_shapes)?.model_calls(&packed_shape(input_shapes)?)
    }
}

impl<B: Backend> MultiAttribution<B> for PerInput<FeatureAblation> {
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        PerInput::<FeatureAblation>::model_calls(self, input_shapes)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        let shapes = inputs.shapes();
        let ablation = self.packed_ablation(&shapes)?;
        let schedule = ablation.groups(&packed_shape(&shapes)?)?;
        attribute_packed(model, inputs, &schedule, None, ablation.perturbations_per_eval(), progress)
    }

    /// Every per-example mask `(N, d^i…)` serving `N·times` rows, map `n` the rows `[n·times,
    /// (n+1)·times)` (kept as it is, not repeated).
    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        check_count(self.methods.len(), input_shapes.len())?;
        Error::check_at_least("the copies of every example", times, 1)?;
        let mut repeated = Vec::with_capacity(self.methods.len());
        let mut any = false;
        for (method, shape) in self.methods.iter().zip(input_shapes) {
            match method.checked(shape)?.0 {
                Some((_, MaskLayout::PerExample)) => {
                    any = true;
                    let repeats = Error::checked_product("the copies of every example", &[method.repeats(), times])?;
                    repeated.push(method.clone().with_repeats(repeats));
                }
                _ => repeated.push(method.clone()),
            }
        }
        Ok(any.then(|| Box::new(PerInput::new(repeated)) as Box<dyn MultiAttribution<B>>))
    }
}

#[cfg(test)]
mod tests {
    use crate::attribution::MultiAttribution;
    use crate::backend::{packed_shape, Region};
    use crate::perturbation::RegionSchedule;
    use crate::test_host::Host;
    use crate::{FeatureAblation, FeatureMask, NoiseTunnel, PerInput};

    /// The packed groups' per-example lists, region by region.
    fn lists(method: &PerInput<FeatureAblation>, shapes: &[Vec<usize>]) -> Vec<Vec<Vec<usize>>> {
        let schedule = method.packed_ablation(shapes).unwrap().groups(&packed_shape(shapes).unwrap()).unwrap();
        (0..schedule.len())
            .map(|j| match schedule.region(j) {
                Region::PerExample(lists) => lists.iter().map(|l| l.to_vec()).collect(),
                other => panic!("a per-example region, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn copies_of_examples_share_the_packed_mask() {
        // Input 0 with a per-example mask, input 1 without: three copies of each example give
        // the groups of the mask repeated by hand (FeatureMask::repeat_interleave).
        let mask = FeatureMask::new([2, 2], [0, 1, 1, 2]).unwrap();
        let method = PerInput::new([FeatureAblation::new(mask.clone()), FeatureAblation::per_element()]);
        let copies = [vec![6, 2], vec![6, 3]];
        let repeated = MultiAttribution::<Host>::for_repeated_examples(&method, &[vec![2, 2], vec![2, 3]], 3)
            .unwrap()
            .expect("a per-example mask has a repeated form");
        let by_hand =
            PerInput::new([FeatureAblation::new(mask.repeat_interleave(3).unwrap()), FeatureAblation::per_element()]);
        let ours = PerInput::new([FeatureAblation::new(mask).with_repeats(3), FeatureAblation::per_element()]);
        assert_eq!(lists(&ours, &copies), lists(&by_hand, &copies));
        assert_eq!(repeated.model_calls(&copies).ok(), by_hand.model_calls(&copies).ok());
        // 10^6 distinct ids around 500 copies per call: the cost query counts the ids of the
        // mask once (it repeated the mask 500 times first: 4 GB).
        let (n, d) = (2, 500_000);
        let big = FeatureMask::new([n, d], (0..(n * d) as i64).collect::<Vec<_>>()).unwrap();
        let method = PerInput::new([FeatureAblation::new(big), FeatureAblation::per_element()]);
        let tunnel = NoiseTunnel::new(method).with_samples(500).with_samples_batch_size(500);
        assert_eq!(MultiAttribution::<Host>::model_calls(&tunnel, &[vec![n, d], vec![n, 3]]).ok(), Some(1 + n * d + 3));
    }
}
