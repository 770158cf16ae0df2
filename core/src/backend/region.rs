//! Regions of an example that get occluded, and batches of them for one model call.

use crate::error::{try_filled, Error, Result, PER_EVAL_HINT};

/// A box of per-example positions: `[start_r, end_r)` in every per-example dimension `r`,
/// already cropped to the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxRegion {
    /// Inclusive start per dimension.
    pub start: Vec<usize>,
    /// Exclusive end per dimension (`end_r <= d_r`).
    pub end: Vec<usize>,
}

impl BoxRegion {
    /// Number of positions in the box: `Π_r (end_r − start_r)`.
    pub fn len(&self) -> usize {
        self.start.iter().zip(&self.end).map(|(s, e)| e.saturating_sub(*s)).product()
    }

    /// Whether the box holds no position.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f(offset, len)` for each contiguous run of the box in the row-major layout of
    /// an example of shape `example_shape`: every run is one stretch of the last dimension.
    /// Work is proportional to the number of runs, never to the size of the example. The box
    /// must lie in the shape ([`Region::check`] says whether it does; a box of another rank
    /// panics).
    pub fn for_each_run(&self, example_shape: &[usize], mut f: impl FnMut(usize, usize)) {
        let rank = example_shape.len();
        if self.is_empty() {
            return;
        }
        if rank == 0 {
            // The box of a 0-d example is its one element.
            return f(0, 1);
        }
        let strides = row_major_strides(example_shape);
        let last = rank - 1;
        let run = self.end[last] - self.start[last];
        let mut index = self.start.clone();
        loop {
            let offset: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
            f(offset, run);
            // Advance the odometer over every dimension but the last.
            let mut dim = last;
            loop {
                if dim == 0 {
                    return;
                }
                dim -= 1;
                index[dim] += 1;
                if index[dim] < self.end[dim] {
                    break;
                }
                index[dim] = self.start[dim];
            }
        }
    }
}

/// One region to occlude: the same box in every example, the same set of positions in
/// every example, or a set of positions per example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Region<'a> {
    /// A box, the same in every example.
    Box(BoxRegion),
    /// Row-major per-example offsets, the same in every example.
    Positions(&'a [usize]),
    /// Row-major per-example offsets, one list per example (the list may be empty).
    PerExample(Vec<&'a [usize]>),
    /// A region of one of several inputs packed side by side
    /// ([`Packed`](crate::backend::Packed)): `region` in that input's per-example shape
    /// `example_shape`, its positions moved by `offset`, the input's first packed position.
    InPart {
        /// The input's first position in the packed example.
        offset: usize,
        /// The input's per-example shape.
        example_shape: &'a [usize],
        /// The region within the input.
        region: std::boxed::Box<Region<'a>>,
    },
}

impl Region<'_> {
    /// Whether this region lies in `examples` examples of shape `example_shape`: a box of the
    /// example's rank with `start_r ≤ end_r ≤ d_r`, offsets below `Π d`, at most one list per
    /// example, a part inside the example; else [`Error::InvalidSetting`] naming what is out.
    /// The regions the methods make always do; a backend handed a batch built elsewhere checks
    /// it before it indexes with it ([`RegionBatch::check`]).
    ///
    /// ```
    /// use tiled_occlusion_core::backend::{BoxRegion, Region};
    /// let inside = Region::Box(BoxRegion { start: vec![0, 1], end: vec![2, 3] });
    /// assert!(inside.check(1, &[2, 3]).is_ok());
    /// assert!(inside.check(1, &[2, 2]).is_err()); // end 3 > d = 2
    /// assert!(Region::Positions(&[6]).check(1, &[2, 3]).is_err()); // 6 ≥ 2 · 3
    /// ```
    pub fn check(&self, examples: usize, example_shape: &[usize]) -> Result<()> {
        let out = |reason: String| Err(Error::InvalidSetting { setting: "a region of the batch".into(), reason });
        let size = Error::checked_product("the positions of an example", example_shape)?;
        match self {
            Region::Box(b) => {
                if b.start.len() != example_shape.len() || b.end.len() != example_shape.len() {
                    return out(format!(
                        "the box [{:?}, {:?}) does not have the rank of the example shape {example_shape:?}",
                        b.start, b.end
                    ));
                }
                let fits = b.start.iter().zip(&b.end).zip(example_shape).all(|((s, e), d)| s <= e && e <= d);
                if !fits {
                    return out(format!("the box [{:?}, {:?}) is not inside {example_shape:?}", b.start, b.end));
                }
            }
            Region::Positions(p) => {
                if let Some(o) = p.iter().find(|&&o| o >= size) {
                    return out(format!("offset {o} is outside an example of {size} positions"));
                }
            }
            Region::PerExample(lists) => {
                if lists.len() > examples {
                    return out(format!("{} lists of offsets for {examples} examples", lists.len()));
                }
                for list in lists {
                    Region::Positions(list).check(examples, example_shape)?;
                }
            }
            Region::InPart { offset, example_shape: part_shape, region } => {
                let part = Error::checked_product("the positions of a part", part_shape)?;
                if offset.checked_add(part).is_none_or(|end| end > size) {
                    return out(format!(
                        "a part of {part} positions at offset {offset} is outside an example of {size} positions"
                    ));
                }
                region.check(examples, part_shape)?;
            }
        }
        Ok(())
    }

    /// Calls `f(offset, len)` for each contiguous run of this region in example `example`
    /// (the region must lie in the shape: [`Region::check`]).
    pub fn for_each_run(&self, example: usize, example_shape: &[usize], mut f: impl FnMut(usize, usize)) {
        self.runs(example, example_shape, &mut f);
    }

    /// [`Region::for_each_run`], not generic (a region in a part recurses).
    fn runs(&self, example: usize, example_shape: &[usize], f: &mut dyn FnMut(usize, usize)) {
        match self {
            Region::Box(b) => b.for_each_run(example_shape, f),
            Region::Positions(p) => p.iter().for_each(|&o| f(o, 1)),
            Region::PerExample(lists) => {
                if let Some(p) = lists.get(example) {
                    p.iter().for_each(|&o| f(o, 1));
                }
            }
            Region::InPart { offset, example_shape, region } => {
                region.runs(example, example_shape, &mut |o, l| f(o + offset, l));
            }
        }
    }
}

/// The regions of one model call: the perturbed batch holds `regions.len() · examples`
/// rows, region-major: rows `[j·N, (j+1)·N)` are all `N` examples with region `j` occluded.
#[derive(Clone, Debug)]
pub struct RegionBatch<'a> {
    /// The regions, in row-block order.
    pub regions: Vec<Region<'a>>,
    /// `N`, the number of examples in the input.
    pub examples: usize,
    /// `d`, the per-example shape.
    pub example_shape: &'a [usize],
}

impl RegionBatch<'_> {
    /// Whether every region lies in the examples ([`Region::check`]) and the batch's
    /// `rows · Π d` values fit a `usize` ([`Error::SizeOverflow`]): what [`fill_occluded_batch`],
    /// [`RegionBatch::dense_mask`] and [`RegionBatch::occlusion_mask`] check first.
    ///
    /// [`fill_occluded_batch`]: crate::backend::fill_occluded_batch
    pub fn check(&self) -> Result<()> {
        let rows = Error::checked_product("the rows of the perturbed batch", &[self.regions.len(), self.examples])?;
        let size = Error::checked_product("the positions of an example", self.example_shape)?;
        Error::checked_product("the perturbed batch", &[rows, size])?;
        self.regions.iter().try_for_each(|r| r.check(self.examples, self.example_shape))
    }

    /// Rows of the perturbed batch: `regions.len() · examples`.
    pub fn rows(&self) -> usize {
        self.regions.len() * self.examples
    }

    /// Shape of the perturbed batch: `(rows, d_1, …, d_m)`.
    pub fn batch_shape(&self) -> Vec<usize> {
        let mut shape = Vec::with_capacity(self.example_shape.len() + 1);
        shape.push(self.rows());
        shape.extend_from_slice(self.example_shape);
        shape
    }

    /// A dense row-major mask of shape `(rows, d_1, …, d_m)`: `true` where the batch holds
    /// the baseline. For backends that build the batch on a device with a select. The batch
    /// is checked first ([`RegionBatch::check`]) and the mask allocated fallibly.
    pub fn dense_mask(&self) -> Result<Vec<bool>> {
        self.check()?;
        self.dense_mask_of_checked()
    }

    /// [`RegionBatch::dense_mask`] of a batch already checked.
    pub(crate) fn dense_mask_of_checked(&self) -> Result<Vec<bool>> {
        let size: usize = self.example_shape.iter().product();
        let values = self.rows() * size;
        let mut mask = try_filled("the dense occlusion mask", values, false, PER_EVAL_HINT)?;
        for (j, region) in self.regions.iter().enumerate() {
            for n in 0..self.examples {
                let row = &mut mask[(j * self.examples + n) * size..][..size];
                region.for_each_run(n, self.example_shape, |o, l| row[o..o + l].fill(true));
            }
        }
        Ok(mask)
    }
}

/// Row-major strides (in elements) of a shape: `stride_r = Π_{q > r} d_q`, saturating at
/// `usize::MAX` for a shape whose size does not fit a `usize` (no tensor has one; it was an
/// overflow).
///
/// ```
/// use tiled_occlusion_core::backend::row_major_strides;
/// assert_eq!(row_major_strides(&[2, 3, 4]), [12, 4, 1]);
/// assert_eq!(row_major_strides(&[2, usize::MAX, 2]), [usize::MAX, 2, 1]);
/// ```
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for r in (0..shape.len().saturating_sub(1)).rev() {
        strides[r] = strides[r + 1].saturating_mul(shape[r + 1]);
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_outside_their_examples_are_named() {
        let ok = |r: &Region<'_>, n: usize, shape: &[usize]| r.check(n, shape).is_ok();
        let boxed = |s: Vec<usize>, e: Vec<usize>| Region::Box(BoxRegion { start: s, end: e });
        assert!(ok(&boxed(vec![0, 1], vec![2, 3]), 1, &[2, 3]));
        assert!(!ok(&boxed(vec![0, 1], vec![2, 4]), 1, &[2, 3]), "end past d");
        assert!(!ok(&boxed(vec![2, 1], vec![1, 3]), 1, &[2, 3]), "start after end");
        assert!(!ok(&boxed(vec![0], vec![2]), 1, &[2, 3]), "rank 1 in rank 2");
        assert!(ok(&Region::Positions(&[0, 5]), 1, &[2, 3]));
        assert!(!ok(&Region::Positions(&[6]), 1, &[2, 3]));
        let lists: Vec<&[usize]> = vec![&[0], &[1]];
        assert!(ok(&Region::PerExample(lists.clone()), 2, &[2]));
        assert!(!ok(&Region::PerExample(lists), 1, &[2]), "two lists for one example");
        let part = |offset| Region::InPart { offset, example_shape: &[2], region: Box::new(Region::Positions(&[1])) };
        assert!(ok(&part(4), 1, &[6]));
        assert!(!ok(&part(5), 1, &[6]), "a part past the example");
        assert!(!ok(&part(usize::MAX), 1, &[6]), "offset + part overflows");
        let batch = RegionBatch { regions: vec![Region::Positions(&[0])], examples: usize::MAX, example_shape: &[2] };
        assert!(matches!(batch.check(), Err(Error::SizeOverflow { .. })));
        assert!(matches!(batch.dense_mask(), Err(Error::SizeOverflow { .. })), "checked before the mask is made");
    }

    #[test]
    fn box_runs_cover_exactly_the_box() {
        let shape = [3, 4, 5];
        let b = BoxRegion { start: vec![1, 0, 2], end: vec![3, 2, 5] };
        let mut seen = [0u8; 60];
        b.for_each_run(&shape, |o, l| seen[o..o + l].iter_mut().for_each(|v| *v += 1));
        for i in 0..3 {
            for j in 0..4 {
                for k in 0..5 {
                    let inside = (1..3).contains(&i) && j < 2 && k >= 2;
                    assert_eq!(seen[i * 20 + j * 5 + k], u8::from(inside), "{i} {j} {k}");
                }
            }
        }
        assert_eq!(b.len(), 2 * 2 * 3);
    }

    #[test]
    fn dense_mask_is_region_major() {
        let shape = [4];
        let batch = RegionBatch {
            regions: vec![Region::Box(BoxRegion { start: vec![0], end: vec![2] }), Region::PerExample(vec![&[3], &[]])],
            examples: 2,
            example_shape: &shape,
        };
        let m: Vec<u8> = batch.dense_mask().unwrap().into_iter().map(u8::from).collect();
        assert_eq!(m, [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(batch.batch_shape(), [4, 4]);
    }
}
