//! Region-perturbation AOPC (Samek et al. 2017).

use crate::backend::{row_major_strides, Backend, TensorOf};
use crate::error::{Error, Result};
use crate::metrics::geometry::ranking;
use crate::metrics::model_scores::{scores, CurveRows};
use crate::metrics::{MapGeometry, Score};
use crate::model::Forward;

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
        Error::check_at_least("RegionPerturbation::patch", self.patch, 1)?;
        Error::check_at_least("RegionPerturbation::regions", self.regions, 1)?;
        Error::check_at_least("RegionPerturbation::batch", self.batch, 1)?;
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
        let order = ranking(&patch_sums);
        let removed = order.len().min(self.regions);
        // Point k: the k most relevant patches removed, made when its batch is built.
        let row = |k: usize| {
            let mut current = x.clone();
            for &cell in order.iter().take(k) {
                for &p in &members[cell] {
                    for &i in &elements[p] {
                        current[i] = self.baseline;
                    }
                }
            }
            current
        };
        let rows = CurveRows { count: removed + 1, row: &row };
        let s = scores(model, input, &geometry.example_shape, rows, target, self.score, self.batch)?;
        Ok(s.iter().map(|v| s[0] - v).sum::<f64>() / s.len() as f64)
    }
}
