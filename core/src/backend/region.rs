//! Regions of an example that get occluded, and batches of them for one model call.

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
    /// Work is proportional to the number of runs, never to the size of the example.
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
    /// Calls `f(offset, len)` for each contiguous run of this region in example `example`.
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
    /// the baseline. For backends that build the batch on a device with a select.
    pub fn dense_mask(&self) -> Vec<bool> {
        let size: usize = self.example_shape.iter().product();
        let mut mask = vec![false; self.rows() * size];
        for (j, region) in self.regions.iter().enumerate() {
            for n in 0..self.examples {
                let row = &mut mask[(j * self.examples + n) * size..][..size];
                region.for_each_run(n, self.example_shape, |o, l| row[o..o + l].fill(true));
            }
        }
        mask
    }
}

/// Row-major strides (in elements) of a shape.
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for r in (0..shape.len().saturating_sub(1)).rev() {
        strides[r] = strides[r + 1] * shape[r + 1];
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let m: Vec<u8> = batch.dense_mask().into_iter().map(u8::from).collect();
        assert_eq!(m, [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(batch.batch_shape(), [4, 4]);
    }
}
