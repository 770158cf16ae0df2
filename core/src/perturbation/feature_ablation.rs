//! FeatureAblation: occlude groups of positions given by an integer mask.

use std::collections::BTreeMap;

use crate::attribution::{check_input_shape, Attribution, Inputs, ProgressHook};
use crate::backend::{Backend, BoxRegion, Region, TensorOf};
use crate::error::{Error, Result};
use crate::model::Forward;
use crate::perturbation::engine::{output_drop_sums_of_inputs, run_model_calls};
use crate::perturbation::{FeatureMask, MaskLayout, RegionSchedule};

/// FeatureAblation (Captum's, with group masks): every group `g` of the mask is occluded as
/// one region and every position of the group receives its output drop:
///
/// `A[n, p] = Δ_{g(n, p)}[n]`, with `Δ_g[n] = τ(F(X))[n] − τ(F(X^{R_g}))[n]`.
///
/// Groups are taken in increasing id order. With per-example masks, a group absent from an
/// example leaves that example unperturbed in the group's rows. Without a mask every element
/// is its own group. Model calls: `1 + ceil(G / P)` for `G` groups.
///
/// Occlusion with non-overlapping windows equals FeatureAblation with the matching block mask.
///
/// ```
/// use tiled_occlusion_core::{FeatureAblation, FeatureMask};
/// let mask = FeatureMask::new([4], [0, 0, 1, 1]).unwrap();
/// assert_eq!(FeatureAblation::new(mask).model_calls(&[3, 4]).unwrap(), 1 + 2);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FeatureAblation {
    mask: Option<FeatureMask>,
    perturbations_per_eval: usize,
    /// Copies of every example the input holds in place, `r`: rows `[n·r, (n+1)·r)` are
    /// copies of example `n`, and a per-example mask's map `n` serves them all. 1, but in the
    /// form [`Attribution::for_repeated_examples`] gives wrappers that batch noisy copies
    /// (the mask is not repeated: a mask of 10^6 ids around 500 samples per call was 4 GB
    /// for a cost query).
    repeats: usize,
}

/// The settings, with the copies of every example only when there are some: the form of
/// earlier versions otherwise, since partial runs fingerprint a method by it (parts made before
/// would no longer merge).
impl std::fmt::Debug for FeatureAblation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("FeatureAblation");
        s.field("mask", &self.mask).field("perturbations_per_eval", &self.perturbations_per_eval);
        if self.repeats != 1 {
            s.field("repeats", &self.repeats);
        }
        s.finish()
    }
}

impl FeatureAblation {
    /// FeatureAblation over the groups of `mask`.
    pub fn new(mask: FeatureMask) -> Self {
        FeatureAblation { mask: Some(mask), perturbations_per_eval: 1, repeats: 1 }
    }

    /// FeatureAblation with every element its own group.
    pub fn per_element() -> Self {
        FeatureAblation { mask: None, perturbations_per_eval: 1, repeats: 1 }
    }

    /// Sets `P`, the number of occluded copies of the batch per model call.
    pub fn with_perturbations_per_eval(mut self, perturbations_per_eval: usize) -> Self {
        self.perturbations_per_eval = perturbations_per_eval;
        self
    }

    /// `P`.
    pub fn perturbations_per_eval(&self) -> usize {
        self.perturbations_per_eval
    }

    /// The mask (`None`: every element its own group).
    pub fn mask(&self) -> Option<&FeatureMask> {
        self.mask.as_ref()
    }

    /// The same method for an input holding `repeats` copies of every example in place (see
    /// the field): the form wrappers' copies need, without repeating the mask.
    pub(crate) fn with_repeats(mut self, repeats: usize) -> Self {
        self.repeats = repeats;
        self
    }

    /// `r`, the copies of every example its input holds (1 but for wrappers' copies).
    pub(crate) fn repeats(&self) -> usize {
        self.repeats
    }

    /// The checks every use makes: the input's shape, `P`, the mask's shape against the input
    /// (with `r` copies of each example, a per-example mask of `N` maps for `N · r` rows).
    /// Returns the mask and its layout, and the positions per example.
    pub(crate) fn checked(&self, input_shape: &[usize]) -> Result<(Option<(&FeatureMask, MaskLayout)>, usize)> {
        check_input_shape(input_shape)?;
        Error::check_at_least("FeatureAblation::with_perturbations_per_eval", self.perturbations_per_eval, 1)?;
        let size = Error::checked_product("the number of elements per example", &input_shape[1..])?;
        let Some(mask) = &self.mask else { return Ok((None, size)) };
        if self.repeats == 1 {
            return Ok((Some((mask, mask.layout(input_shape)?)), size));
        }
        // Only a per-example mask is kept with copies: its maps serve r rows each.
        let mut original = input_shape.to_vec();
        original[0] = input_shape[0] / self.repeats;
        if input_shape[0] % self.repeats != 0 || mask.layout(&original)? != MaskLayout::PerExample {
            return Err(Error::FeatureMaskShape {
                mask_shape: mask.shape().to_vec(),
                input_shape: input_shape.to_vec(),
            });
        }
        Ok((Some((mask, MaskLayout::PerExample)), size))
    }

    /// The groups for an input of shape `input_shape`, after checking every parameter.
    pub fn groups(&self, input_shape: &[usize]) -> Result<GroupSchedule> {
        let example_shape = &input_shape.get(1..).unwrap_or_default();
        let (mask, size) = match self.checked(input_shape)? {
            (None, size) => return Ok(GroupSchedule::PerElement { example_shape: example_shape.to_vec(), size }),
            (Some((mask, MaskLayout::Shared)), _) => {
                let groups = group_positions(mask.ids());
                return Ok(GroupSchedule::Shared(groups.into_values().collect()));
            }
            (Some((mask, MaskLayout::PerExample)), size) => (mask, size),
        };
        // Sparse: each group keeps only the examples it occurs in, so the schedule is as large
        // as the mask (a dense group × example table of a mask with distinct ids per example
        // grew as N² · d: a 640 KB mask asked for about 38 GB). With `r` copies, `r` entries per
        // example and group, each with its positions (what the mask repeated `r` times gave);
        // the cost query (`group_count`) makes none of them.
        let mut groups: BTreeMap<i64, Vec<(usize, Vec<usize>)>> = BTreeMap::new();
        for (n, ids) in mask.ids().chunks(size).enumerate() {
            for (id, positions) in group_positions(ids) {
                let entry = groups.entry(id).or_default();
                for copy in 1..self.repeats {
                    entry.push((n * self.repeats + copy - 1, positions.clone()));
                }
                entry.push((n * self.repeats + self.repeats - 1, positions));
            }
        }
        Ok(GroupSchedule::PerExample { examples: input_shape[0], groups: groups.into_values().collect() })
    }

    /// `G`, the number of groups for an input of shape `input_shape`: the distinct ids of the
    /// mask (whatever the copies of each example), or `Π d` without one. Checks what
    /// [`FeatureAblation::groups`] checks, and makes none of the groups.
    pub fn group_count(&self, input_shape: &[usize]) -> Result<usize> {
        match self.checked(input_shape)? {
            (None, size) => Ok(size),
            (Some((mask, _)), _) => {
                let mut ids = crate::error::try_with_capacity(
                    "the ids of a feature mask",
                    mask.ids().len(),
                    "the mask is larger than this machine can sort",
                )?;
                ids.extend_from_slice(mask.ids());
                ids.sort_unstable();
                ids.dedup();
                Ok(ids.len())
            }
        }
    }

    /// Model calls for an input of shape `input_shape`: `1 + ceil(G / P)`.
    pub fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        run_model_calls(self.group_count(input_shape)?, self.perturbations_per_eval)
    }
}

/// Positions of each id, ids ascending.
fn group_positions(ids: &[i64]) -> BTreeMap<i64, Vec<usize>> {
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (p, id) in ids.iter().enumerate() {
        groups.entry(*id).or_default().push(p);
    }
    groups
}

/// The groups of a [`FeatureAblation`] for one input, in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupSchedule {
    /// Every element its own group, in row-major order (computed on demand: `size` groups).
    PerElement {
        /// The per-example shape.
        example_shape: Vec<usize>,
        /// `Π example_shape`.
        size: usize,
    },
    /// Per group, its positions in every example.
    Shared(Vec<Vec<usize>>),
    /// Per group, the examples it occurs in (ascending) with its positions there; the other
    /// examples are left unperturbed in the group's rows.
    PerExample {
        /// `N`, the examples of the input.
        examples: usize,
        /// Per group, `(example, positions)` for each example holding the group.
        groups: Vec<Vec<(usize, Vec<usize>)>>,
    },
}

impl RegionSchedule for GroupSchedule {
    fn len(&self) -> usize {
        match self {
            GroupSchedule::PerElement { size, .. } => *size,
            GroupSchedule::Shared(g) => g.len(),
            GroupSchedule::PerExample { groups, .. } => groups.len(),
        }
    }

    fn region(&self, index: usize) -> Region<'_> {
        match self {
            GroupSchedule::PerElement { example_shape, .. } => {
                let mut start = vec![0; example_shape.len()];
                let mut rest = index;
                for (r, &d) in example_shape.iter().enumerate().rev() {
                    start[r] = rest % d;
                    rest /= d;
                }
                let end = start.iter().map(|s| s + 1).collect();
                Region::Box(BoxRegion { start, end })
            }
            GroupSchedule::Shared(g) => Region::Positions(&g[index]),
            GroupSchedule::PerExample { examples, groups } => {
                let mut lists: Vec<&[usize]> = vec![&[]; *examples];
                for (n, positions) in &groups[index] {
                    lists[*n] = positions;
                }
                Region::PerExample(lists)
            }
        }
    }

    fn varies_by_example(&self) -> bool {
        matches!(self, GroupSchedule::PerExample { .. })
    }
}

impl<B: Backend> Attribution<B> for FeatureAblation {
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        FeatureAblation::model_calls(self, input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let shape = B::shape(inputs.input);
        let schedule = self.groups(&shape)?;
        let drops =
            output_drop_sums_of_inputs(model, inputs, &shape, &schedule, self.perturbations_per_eval, progress)?;
        B::from_f64_slice(inputs.input, &drops.shape, &drops.sums)
    }

    /// A per-example mask `(N, d…)` serves `N·times` rows, map `n` the rows `[n·times,
    /// (n+1)·times)` (kept as it is, not repeated); a shared mask serves as it is.
    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        Error::check_at_least("the copies of every example", times, 1)?;
        match self.checked(input_shape)?.0 {
            Some((_, MaskLayout::PerExample)) => Ok(Some(Box::new(FeatureAblation {
                mask: self.mask.clone(),
                perturbations_per_eval: self.perturbations_per_eval,
                repeats: Error::checked_product("the copies of every example", &[self.repeats, times])?,
            }))),

            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FeatureAblation, GroupSchedule};
    use crate::attribution::Attribution;
    use crate::backend::Region;
    use crate::perturbation::{FeatureMask, RegionSchedule};
    use crate::test_host::Host;

    #[test]
    fn copies_of_examples_share_their_map_of_the_mask() {
        // Against the mask repeated by hand (FeatureMask::repeat_interleave): the same groups.
        let mask = FeatureMask::new([2, 3], [0, 0, 1, 1, 2, 2]).unwrap();
        let method = FeatureAblation::new(mask.clone());
        let repeated = Attribution::<Host>::for_repeated_examples(&method, &[2, 3], 3).unwrap().unwrap();
        let by_hand = FeatureAblation::new(mask.repeat_interleave(3).unwrap());
        let lists = |s: &GroupSchedule| {
            (0..s.len())
                .map(|j| match s.region(j) {
                    Region::PerExample(lists) => lists.iter().map(|l| l.to_vec()).collect::<Vec<_>>(),
                    _ => panic!("a per-example region"),
                })
                .collect::<Vec<_>>()
        };
        let copies = FeatureAblation { repeats: 3, ..method.clone() };
        assert_eq!(lists(&copies.groups(&[6, 3]).unwrap()), lists(&by_hand.groups(&[6, 3]).unwrap()));
        assert_eq!(repeated.model_calls(&[6, 3]).ok(), Some(1 + 3));
        // Copies of copies multiply; a batch that is not N · r rows is refused.
        let twice = Attribution::<Host>::for_repeated_examples(&copies, &[6, 3], 2).unwrap().unwrap();
        assert_eq!(twice.model_calls(&[12, 3]).ok(), Some(1 + 3));
        assert!(copies.groups(&[5, 3]).is_err() && copies.model_calls(&[4, 3]).is_err());
        assert!(Attribution::<Host>::for_repeated_examples(&method, &[2, 3], 0).is_err());
        // A shared mask serves copies as it is.
        let shared = FeatureAblation::new(FeatureMask::new([3], [0, 1, 1]).unwrap());
        assert!(Attribution::<Host>::for_repeated_examples(&shared, &[2, 3], 3).unwrap().is_none());
        // 10^6 distinct ids around 500 copies per call: counted from the mask alone (it was
        // the mask repeated 500 times and its groups, 4 GB and an abort, for a cost query).
        let (n, d) = (2, 500_000);
        let big = FeatureAblation::new(FeatureMask::new([n, d], (0..(n * d) as i64).collect::<Vec<_>>()).unwrap());
        let copies = Attribution::<Host>::for_repeated_examples(&big, &[n, d], 500).unwrap().unwrap();
        assert_eq!(copies.model_calls(&[n * 500, d]).ok(), Some(1 + n * d));
    }

    #[test]
    fn the_settings_print_as_before_without_copies() {
        // Partial runs fingerprint a method by its Debug form: parts of earlier versions merge.
        let method = FeatureAblation::per_element().with_perturbations_per_eval(4);
        assert_eq!(format!("{method:?}"), "FeatureAblation { mask: None, perturbations_per_eval: 4 }");
        assert!(format!("{:?}", method.with_repeats(3)).ends_with("perturbations_per_eval: 4, repeats: 3 }"));
    }

    #[test]
    fn the_group_count_is_the_number_of_groups() {
        let shared = FeatureAblation::new(FeatureMask::new([4], [7, -1, 7, 3]).unwrap());
        let per_example = FeatureAblation::new(FeatureMask::new([2, 2], [5, 5, 6, 5]).unwrap());
        for (method, shape) in [(&shared, [3, 4]), (&per_example, [2, 2]), (&FeatureAblation::per_element(), [2, 5])] {
            assert_eq!(method.group_count(&shape).unwrap(), method.groups(&shape).unwrap().len(), "{method:?}");
        }
        // Ids 7, −1, 3, counted by hand.
        assert_eq!(shared.group_count(&[3, 4]).ok(), Some(3));
    }

    #[test]
    fn per_example_groups_hold_only_the_examples_they_occur_in() {
        // Example 0: ids [0, 0, 1]; example 1: [1, 2, 2]. Group 1 is in both, 0 and 2 in one.
        let mask = FeatureMask::new([2, 3], [0, 0, 1, 1, 2, 2]).unwrap();
        let schedule = FeatureAblation::new(mask).groups(&[2, 3]).unwrap();
        let lists = |j: usize| match schedule.region(j) {
            Region::PerExample(lists) => lists.iter().map(|l| l.to_vec()).collect::<Vec<_>>(),
            _ => panic!("a per-example region"),
        };
        assert_eq!(schedule.len(), 3);
        assert_eq!(lists(0), [vec![0, 1], vec![]]);
        assert_eq!(lists(1), [vec![2], vec![0]]);
        assert_eq!(lists(2), [vec![], vec![1, 2]]);
        // Distinct ids in every example (N · d groups): one entry per group, not a table of
        // N · d groups × N examples (which grew as N² · d).
        let (n, d) = (3000, 20);
        let mask = FeatureMask::new([n, d], (0..(n * d) as i64).collect::<Vec<_>>()).unwrap();
        match FeatureAblation::new(mask).groups(&[n, d]).unwrap() {
            GroupSchedule::PerExample { examples, groups } => {
                assert_eq!((examples, groups.len()), (n, n * d));
                assert!(groups.iter().enumerate().all(|(g, e)| e.len() == 1 && e[0] == (g / d, vec![g % d])));
            }
            other => panic!("{other:?}"),
        }
    }
}
