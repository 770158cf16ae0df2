//! Region-perturbation AOPC (Samek et al. 2017).

use crate::backend::{row_major_strides, Backend, TensorOf};
use crate::error::{try_filled, Error, Result};
use crate::metrics::geometry::{check_finite, ranking, SMALLER_MAP};
use crate::metrics::model_scores::{scores, CurveRows};
use crate::metrics::{MapGeometry, Score};
use crate::model::Forward;

/// Region-perturbation AOPC (Samek et al. 2017), most relevant first: the spatial positions
/// are cut into non-overlapping patches of `patch` positions per axis (cropped at the
/// borders: `Π_r ⌈s_r / patch⌉` patches for the spatial shape `s`), ranked by summed
/// attribution ([`MapGeometry::position_sums`] summed over the patch; ties by patch index,
/// row-major over the grid of patches); the top `L = regions` patches are set to `baseline`
/// (all their channels) one after another, and
/// `AOPC = 1/(L+1) Σ_{k=0}^{L} (f(x) − f(x^{(k)}))` with `x^{(0)} = x`. Higher is better.
/// (Samek et al. fill patches with uniform noise; a fixed baseline makes the number
/// reproducible.)
///
/// The `L + 1` model inputs are made and evaluated `batch` at a time, each from the one
/// before it: memory is one batch of `min(batch, L + 1) × Π d` values, allocated fallibly (a
/// batch the allocator refuses is [`Error::TooLargeToAllocate`]).
///
/// Errors, before any model call: `patch`, `regions` or `batch` 0 ([`Error::TooSmall`]),
/// more `regions` than the input holds patches ([`Error::TooLarge`]), an invalid geometry, an
/// input that is not one example `(1, d…)` of it, an attribution that is not `Π d` values or
/// holds a NaN or infinite value ([`Error::InvalidSetting`]).
#[derive(Clone, Debug)]
pub struct RegionPerturbation {
    /// Patch side in positions, `≥ 1` (a patch wider than an axis covers all of it).
    pub patch: usize,
    /// `L`, the number of patches perturbed, `≥ 1` and at most the number of patches.
    pub regions: usize,
    /// The value perturbed positions take.
    pub baseline: f64,
    /// Points per model call, `≥ 1` (more than the `L + 1` points means one call).
    pub batch: usize,
    /// Probability or raw output.
    pub score: Score,
}

impl RegionPerturbation {
    /// The AOPC of one example `input` `(1, d…)` with its attribution (`Π d` values,
    /// row-major), for class `target`.
    pub fn aopc<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<f64> {
        Error::check_at_least("RegionPerturbation::patch", self.patch, 1)?;
        Error::check_at_least("RegionPerturbation::regions", self.regions, 1)?;
        Error::check_at_least("RegionPerturbation::batch", self.batch, 1)?;
        geometry.check_input(&B::shape(input))?;
        geometry.check(attribution.len(), "attribution")?;
        check_finite("attribution", attribution)?;
        let positions = geometry.positions()?;
        let spatial = positions.spatial();
        let grid: Vec<usize> = spatial.iter().map(|d| d.div_ceil(self.patch)).collect();
        // At most one patch per position, so the product fits.
        let patches: usize = grid.iter().product();
        Error::check_at_most("RegionPerturbation::regions (at most the number of patches)", self.regions, patches)?;
        let x = B::to_f64_vec(input)?;
        geometry.check(x.len(), "input")?;
        let spatial_strides = row_major_strides(spatial);
        let grid_strides = row_major_strides(&grid);
        let sums = geometry.position_sums(attribution)?;
        let mut patch_sums = try_filled("the patch sums of a map", patches, 0.0, SMALLER_MAP)?;
        for (p, s) in sums.iter().enumerate() {
            let cell: usize =
                (0..spatial.len()).map(|k| (p / spatial_strides[k]) % spatial[k] / self.patch * grid_strides[k]).sum();
            patch_sums[cell] += s;
        }
        let order = ranking(&patch_sums)?;
        // Point k: point k − 1 with the k-th most relevant patch removed, made when its batch
        // is built.
        let advance = |k: usize, row: &mut [f64]| {
            let cell = order[k - 1];
            let lo: Vec<usize> = grid.iter().zip(&grid_strides).map(|(&g, &s)| (cell / s) % g * self.patch).collect();
            let hi: Vec<usize> = lo.iter().zip(spatial).map(|(&l, &d)| l.saturating_add(self.patch).min(d)).collect();
            for_each_in_box(&lo, &hi, &spatial_strides, |p| {
                for i in positions.elements(p) {
                    row[i] = self.baseline;
                }
            });
        };
        let rows = CurveRows {
            count: self.regions + 1,
            len: x.len(),
            start: &|row: &mut [f64]| row.copy_from_slice(&x),
            advance: &advance,
        };
        let s = scores(model, input, &geometry.example_shape, rows, target, self.score, self.batch)?;
        Ok(s.iter().map(|v| s[0] - v).sum::<f64>() / s.len() as f64)
    }
}

/// Calls `f` with the row-major index (for `strides`) of every point of the box
/// `lo[r] ≤ c[r] < hi[r]` (non-empty on every axis), in row-major order; once, with 0,
/// for a box of no axes.
fn for_each_in_box(lo: &[usize], hi: &[usize], strides: &[usize], mut f: impl FnMut(usize)) {
    let mut c = lo.to_vec();
    loop {
        f(c.iter().zip(strides).map(|(a, s)| a * s).sum());
        let mut axis = c.len();
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            c[axis] += 1;
            if c[axis] < hi[axis] {
                break;
            }
            c[axis] = lo[axis];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::{tensor, SumModel};

    fn metric(patch: usize, regions: usize) -> RegionPerturbation {
        RegionPerturbation { patch, regions, baseline: 0.0, batch: 2, score: Score::Raw }
    }

    #[test]
    fn more_regions_than_patches_is_an_error() {
        let x = tensor(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
        let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
        for regions in [3, usize::MAX] {
            let mut model = SumModel::default();
            match metric(2, regions).aopc(&mut model, &x, &[1.0; 4], &geometry, 0) {
                Err(Error::TooLarge { value, maximum, .. }) => assert_eq!((value, maximum), (regions, 2)),
                other => panic!("{regions} regions: expected TooLarge, got {other:?}"),
            }
            assert!(model.calls.is_empty());
        }
    }

    #[test]
    fn cropped_patches_of_a_grid_by_hand() {
        // 3×3 positions, patches of 2: {0, 1, 3, 4}, {2, 5}, {6, 7}, {8}. Attribution p: patch
        // sums 8, 7, 13, 8, order 2, 0, 3 (ties by index). x = p + 1: patch values 12, 9, 15,
        // 9 of 45: scores 45, 30, 18, 9, AOPC (0 + 15 + 27 + 36) / 4.
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let attribution: Vec<f64> = (0..9).map(f64::from).collect();
        let geometry = MapGeometry { example_shape: vec![3, 3], channel_axis: None };
        let aopc = metric(2, 3).aopc(&mut SumModel::default(), &tensor(&[1, 3, 3], &x), &attribution, &geometry, 0);
        assert_eq!(aopc.unwrap(), 19.5);
    }

    #[test]
    fn non_finite_attributions_are_errors() {
        let x = tensor(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
        let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
        match metric(2, 1).aopc(&mut SumModel::default(), &x, &[1.0, 2.0, f64::NAN, 0.0], &geometry, 0) {
            Err(Error::InvalidSetting { setting, .. }) => assert_eq!(setting, "attribution"),
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }

    #[test]
    fn boxes_are_walked_row_major() {
        let mut seen = Vec::new();
        // Rows 1..3, columns 0..2 of a 4 × 5 grid (strides 5, 1).
        for_each_in_box(&[1, 0], &[3, 2], &[5, 1], |p| seen.push(p));
        assert_eq!(seen, [5, 6, 10, 11]);
        seen.clear();
        for_each_in_box(&[], &[], &[], |p| seen.push(p));
        assert_eq!(seen, [0]);
    }
}
