//! Ordered lists of regions: what gets occluded, region by region.

use crate::backend::{BoxRegion, Region};

/// An ordered list of regions to occlude, enumerated lazily.
pub trait RegionSchedule: Sync {
    /// Number of regions.
    fn len(&self) -> usize;

    /// Whether there is no region.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Region `index` (`index < len()`).
    fn region(&self, index: usize) -> Region<'_>;
}

/// The boxes of a grid: per dimension `r` a list of ranges `[lo, hi)`, and one box per
/// combination, enumerated row-major (last dimension fastest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowGrid {
    ranges: Vec<Vec<(usize, usize)>>,
}

impl WindowGrid {
    /// A grid from its per-dimension ranges.
    pub fn new(ranges: Vec<Vec<(usize, usize)>>) -> Self {
        WindowGrid { ranges }
    }

    /// The per-dimension ranges.
    pub fn ranges(&self) -> &[Vec<(usize, usize)>] {
        &self.ranges
    }

    /// Number of boxes: `Π_r |ranges_r|`.
    pub fn len(&self) -> usize {
        self.ranges.iter().map(Vec::len).product()
    }

    /// Whether the grid has no box.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Box `index`.
    pub fn window(&self, mut index: usize) -> BoxRegion {
        let rank = self.ranges.len();
        let mut start = vec![0; rank];
        let mut end = vec![0; rank];
        for r in (0..rank).rev() {
            let n = self.ranges[r].len();
            let (lo, hi) = self.ranges[r][index % n];
            start[r] = lo;
            end[r] = hi;
            index /= n;
        }
        BoxRegion { start, end }
    }
}

/// Several grids one after another (the phases of a tiling), as one schedule.
#[derive(Clone, Debug)]
pub struct WindowSchedule {
    grids: Vec<WindowGrid>,
    /// `ends[i]` = number of boxes in grids `0..=i`.
    ends: Vec<usize>,
}

impl WindowSchedule {
    /// The grids in order.
    pub fn new(grids: Vec<WindowGrid>) -> Self {
        let ends = grids
            .iter()
            .scan(0, |acc, g| {
                *acc += g.len();
                Some(*acc)
            })
            .collect();
        WindowSchedule { grids, ends }
    }

    /// The grids.
    pub fn grids(&self) -> &[WindowGrid] {
        &self.grids
    }
}

impl RegionSchedule for WindowSchedule {
    fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    fn region(&self, index: usize) -> Region<'_> {
        let grid = self.ends.partition_point(|&end| end <= index);
        let before = if grid == 0 { 0 } else { self.ends[grid - 1] };
        Region::Box(self.grids[grid].window(index - before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerates_every_box_of_every_grid() {
        let a = WindowGrid::new(vec![vec![(0, 1), (1, 2)], vec![(0, 3)]]);
        let b = WindowGrid::new(vec![vec![(0, 2)], vec![(0, 1), (1, 2), (2, 3)]]);
        let s = WindowSchedule::new(vec![a, b]);
        assert_eq!(s.len(), 5);
        let boxes: Vec<_> = (0..5)
            .map(|i| match s.region(i) {
                Region::Box(b) => (b.start, b.end),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(boxes[0], (vec![0, 0], vec![1, 3]));
        assert_eq!(boxes[1], (vec![1, 0], vec![2, 3]));
        assert_eq!(boxes[2], (vec![0, 0], vec![2, 1]));
        assert_eq!(boxes[4], (vec![0, 2], vec![2, 3]));
    }
}
