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
        let mut groups: BTreeMap<i64, Vec<Vec<usize>>> = BTreeMap::new();
        let examples = input_shape[0];
        for (n, ids) in mask.ids().chunks(size).enumerate() {
            for (id, positions) in group_positions(ids) {
                groups.entry(id).or_insert_with(|| vec![Vec::new(); examples])[n] = positions;
            }
        }
        Ok(GroupSchedule::PerExample(groups.into_values().collect()))
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
    /// Per group, per example, its positions there.
    PerExample(Vec<Vec<Vec<usize>>>),
}

impl RegionSchedule for GroupSchedule {
    fn len(&self) -> usize {
        match self {
            GroupSchedule::PerElement { size, .. } => *size,
            GroupSchedule::Shared(g) => g.len(),
            GroupSchedule::PerExample(g) => g.len(),
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
            GroupSchedule::PerExample(g) => Region::PerExample(g[index].iter().map(Vec::as_slice).collect()),
        }
    }

    fn varies_by_example(&self) -> bool {
        matches!(self, GroupSchedule::PerExample(_))
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
