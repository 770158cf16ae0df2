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
/// the input plus work proportional to the region. The batch ([`RegionBatch::check`]), the
/// input's length and the baseline's are checked first: an error names what does not fit
/// (they were slice indices out of range, a panic).
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
    regions.check()?;
    let size: usize = regions.example_shape.iter().product();
    let wrong = |what: &str, got: usize, expected: usize| {
        Err(Error::InvalidSetting {
            setting: format!("fill_occluded_batch {what}"),
            reason: format!(
                "{got} values, but {} examples of shape {:?} need {expected}",
                regions.examples, regions.example_shape
            ),
        })
    };
    let examples_size = Error::checked_product("the input", &[regions.examples, size])?;
    if input.len() != examples_size {
        return wrong("input", input.len(), examples_size);
    }
    match baseline {
        HostBaseline::PerPosition(b) if b.len() != size => return wrong("baseline (per position)", b.len(), size),
        HostBaseline::PerExample(b) if b.len() != examples_size => {
            return wrong("baseline (per example)", b.len(), examples_size)
        }
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use super::{fill_occluded_batch, HostBaseline};
    use crate::backend::{BoxRegion, Region, RegionBatch};
    use crate::error::Error;

    fn batch(region: Region<'_>, examples: usize) -> RegionBatch<'_> {
        RegionBatch { regions: vec![region], examples, example_shape: &[4] }
    }

    /// What a backend might hand over wrongly is named; each of these indexed out of range.
    #[test]
    fn batches_inputs_and_baselines_that_do_not_fit_are_errors() {
        let mut out = Vec::new();
        let whole = || Region::Box(BoxRegion { start: vec![1], end: vec![3] });
        let fill = |input: &[f64], baseline, region, examples, out: &mut Vec<f64>| {
            fill_occluded_batch(input, baseline, &batch(region, examples), out)
        };
        let invalid = |r: Result<(), Error>| matches!(r, Err(Error::InvalidSetting { .. }));
        // The input holds one example of 4, the batch says 2.
        assert!(invalid(fill(&[1.0; 4], HostBaseline::Scalar(0.0), whole(), 2, &mut out)));
        // Offset 4 of an example of 4 positions; a box past the end; a box of rank 2.
        assert!(invalid(fill(&[1.0; 4], HostBaseline::Scalar(0.0), Region::Positions(&[4]), 1, &mut out)));
        let past = Region::Box(BoxRegion { start: vec![2], end: vec![5] });
        assert!(invalid(fill(&[1.0; 4], HostBaseline::Scalar(0.0), past, 1, &mut out)));
        let rank_2 = Region::Box(BoxRegion { start: vec![0, 0], end: vec![1, 1] });
        assert!(invalid(fill(&[1.0; 4], HostBaseline::Scalar(0.0), rank_2, 1, &mut out)));
        // Baselines too short.
        assert!(invalid(fill(&[1.0; 4], HostBaseline::PerPosition(&[0.0]), whole(), 1, &mut out)));
        assert!(invalid(fill(&[1.0; 8], HostBaseline::PerExample(&[0.0; 4]), whole(), 2, &mut out)));
        assert!(out.is_empty(), "nothing is written before the checks pass");
        // And what fits is filled: positions 1 and 2 of both examples from the baseline.
        let baseline = [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0];
        fill(&[1.0; 8], HostBaseline::PerExample(&baseline), whole(), 2, &mut out).unwrap();
        assert_eq!(out, [1.0, 8.0, 7.0, 1.0, 1.0, 4.0, 3.0, 1.0]);
    }
}
