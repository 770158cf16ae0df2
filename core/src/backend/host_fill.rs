//! Building a perturbed batch in host memory, for backends whose data lives there.

use crate::backend::RegionBatch;
use crate::error::{try_reserve, Error, Result, PER_EVAL_HINT};

/// The baseline of one attribution call as host data of the input's element type.
#[derive(Clone, Copy, Debug)]
pub enum HostBaseline<'a, E> {
    /// One value for every position.
    Scalar(E),
    /// One value per per-example position (`Π d_r` values, row-major).
    PerPosition(&'a [E]),
    /// One value per position of every example (`N · Π d_r` values, row-major).
    PerExample(&'a [E]),
}

/// Appends the perturbed batch of `regions` to `out`: for every region `j` and example `n`,
/// a copy of example `n` of `input` whose positions in region `j` hold the baseline.
///
/// `input` holds `N · D` row-major elements, `D = Π d_r`. The cost per region is one copy of
/// the input plus work proportional to the region.
///
/// ```
/// use tiled_occlusion_core::backend::{fill_occluded_batch, BoxRegion, HostBaseline, Region, RegionBatch};
/// let input = [1.0, 2.0, 3.0, 4.0];
/// let shape = [4];
/// let batch = RegionBatch {
///     regions: vec![Region::Box(BoxRegion { start: vec![1], end: vec![3] })],
///     examples: 1,
///     example_shape: &shape,
/// };
/// let mut out = Vec::new();
/// fill_occluded_batch(&input, HostBaseline::Scalar(0.0), &batch, &mut out)?;
/// assert_eq!(out, [1.0, 0.0, 0.0, 4.0]);
/// # Ok::<(), tiled_occlusion_core::Error>(())
/// ```
pub fn fill_occluded_batch<E: Copy>(
    input: &[E],
    baseline: HostBaseline<'_, E>,
    regions: &RegionBatch<'_>,
    out: &mut Vec<E>,
) -> Result<()> {
    let size: usize = regions.example_shape.iter().product();
    let values = Error::checked_product("the perturbed batch", &[regions.regions.len(), input.len()])?;
    try_reserve(out, "the perturbed batch", values, PER_EVAL_HINT)?;
    for region in &regions.regions {
        let block = out.len();
        out.extend_from_slice(input);
        for n in 0..regions.examples {
            let row = block + n * size;
            let dst = &mut out[row..row + size];
            region.for_each_run(n, regions.example_shape, |o, l| {
                let run = &mut dst[o..o + l];
                match baseline {
                    HostBaseline::Scalar(v) => run.fill(v),
                    HostBaseline::PerPosition(b) => run.copy_from_slice(&b[o..o + l]),
                    HostBaseline::PerExample(b) => run.copy_from_slice(&b[n * size + o..n * size + o + l]),
                }
            });
        }
    }
    Ok(())
}
