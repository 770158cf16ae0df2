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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureAblation {
    mask: Option<FeatureMask>,
    perturbations_per_eval: usize,
}

impl FeatureAblation {
    /// FeatureAblation over the groups of `mask`.
    pub fn new(mask: FeatureMask) -> Self {
        FeatureAblation { mask: Some(mask), perturbations_per_eval: 1 }
    }

    /// FeatureAblation with every element its own group.
    pub fn per_element() -> Self {
        FeatureAblation { mask: None, perturbations_per_eval: 1 }
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

    /// The groups for an input of shape `input_shape`, after checking every parameter.
    pub fn groups(&self, input_shape: &[usize]) -> Result<GroupSchedule> {
        check_input_shape(input_shape)?;
        Error::check_at_least("FeatureAblation::with_perturbations_per_eval", self.perturbations_per_eval, 1)?;
        let example_shape = &input_shape[1..];
        let size = Error::checked_product("the number of elements per example", example_shape)?;
        let Some(mask) = &self.mask else {
            return Ok(GroupSchedule::PerElement { example_shape: example_shape.to_vec(), size });
        };
        if mask.layout(input_shape)? == MaskLayout::Shared {
            let groups = group_positions(mask.ids());
            return Ok(GroupSchedule::Shared(groups.into_values().collect()));
        }
        // Sparse: each group keeps only the examples it occurs in, so the schedule is as large
        // as the mask (a dense group × example table of a mask with distinct ids per example
        // grew as N² · d: a 640 KB mask asked for about 38 GB).
        let mut groups: BTreeMap<i64, Vec<(usize, Vec<usize>)>> = BTreeMap::new();
        for (n, ids) in mask.ids().chunks(size).enumerate() {
            for (id, positions) in group_positions(ids) {
                groups.entry(id).or_default().push((n, positions));
            }
        }
        Ok(GroupSchedule::PerExample { examples: input_shape[0], groups: groups.into_values().collect() })
    }

    /// Model calls for an input of shape `input_shape`: `1 + ceil(G / P)`.
    pub fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        run_model_calls(self.groups(input_shape)?.len(), self.perturbations_per_eval)
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

    /// A per-example mask `(N, d…)` is repeated to `(N·times, d…)`; a shared mask serves as it is.
    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        match &self.mask {
            Some(mask) if mask.layout(input_shape)? == MaskLayout::PerExample => Ok(Some(Box::new(FeatureAblation {
                mask: Some(mask.repeat_interleave(times)?),
                perturbations_per_eval: self.perturbations_per_eval,
            }))),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FeatureAblation, GroupSchedule};
    use crate::backend::Region;
    use crate::perturbation::{FeatureMask, RegionSchedule};

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
