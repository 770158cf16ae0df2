//! The occlusion mask of a batch in the small form a device backend uploads.

use crate::backend::{Region, RegionBatch};
use crate::error::Result;

/// A host tensor of `0`/`1` bytes: row-major `values` of shape `shape`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskTensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// `1` where the batch holds the baseline, row-major.
    pub values: Vec<u8>,
}

/// The occlusion mask of a [`RegionBatch`] of `P` regions over `N` examples of shape
/// `(d_1, …, d_m)`, `1` where the batch holds the baseline, as a device backend uploads it:
/// the mask of the batch `(P·N, d…)` is the mask broadcast to `(P, N, d…)` and viewed as
/// `(P·N, d…)`, so a backend builds the batch with one select,
/// `where(mask, baseline, input)`, with `input` viewed as `(1, N, d…)`.
///
/// ```
/// use tiled_occlusion_core::backend::{BoxRegion, MaskTensor, OcclusionMask, Region, RegionBatch};
/// let shape = [2, 3];
/// let batch = RegionBatch {
///     regions: vec![Region::Box(BoxRegion { start: vec![1, 0], end: vec![2, 2] })],
///     examples: 4,
///     example_shape: &shape,
/// };
/// // Rows 1..2 times columns 0..2: one factor per dimension, 5 values instead of 24.
/// let OcclusionMask::Factors(factors) = batch.occlusion_mask()? else { unreachable!() };
/// assert_eq!(factors[0], MaskTensor { shape: vec![1, 1, 2, 1], values: vec![0, 1] });
/// assert_eq!(factors[1], MaskTensor { shape: vec![1, 1, 1, 3], values: vec![1, 1, 0] });
/// # Ok::<(), tiled_occlusion_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcclusionMask {
    /// Every region is a box: the mask, of shape `(P, 1, d_1, …, d_m)`, is the product
    /// (logical and) of the factors, factor `r` of shape `(P, 1, 1, …, d_r, …, 1)` holding the
    /// extent of every box along dimension `r`. `P · Σ_r d_r` values to upload instead of the
    /// `P · N · Π_r d_r` of the dense mask. Never empty.
    Factors(Vec<MaskTensor>),
    /// Some region is not a box: the dense mask, of shape `(P, N, d_1, …, d_m)`.
    Dense(MaskTensor),
}

impl RegionBatch<'_> {
    /// The occlusion mask in the smallest form: per-dimension factors when every region is a
    /// box, dense otherwise (see [`OcclusionMask`]); the batch is checked first
    /// ([`RegionBatch::check`]).
    pub fn occlusion_mask(&self) -> Result<OcclusionMask> {
        self.check()?;
        let copies = self.regions.len();
        let rank = self.example_shape.len();
        let boxes: Option<Vec<_>> =
            self.regions.iter().map(|r| if let Region::Box(b) = r { Some(b) } else { None }).collect();
        Ok(match boxes {
            Some(boxes) if rank > 0 => OcclusionMask::Factors(
                (0..rank)
                    .map(|r| {
                        let d = self.example_shape[r];
                        let mut shape = vec![1; rank + 2];
                        shape[0] = copies;
                        shape[r + 2] = d;
                        let values =
                            boxes.iter().flat_map(|b| (0..d).map(move |i| u8::from(b.start[r] <= i && i < b.end[r])));
                        MaskTensor { shape, values: values.collect() }
                    })
                    .collect(),
            ),
            _ => {
                let mut shape = vec![copies, self.examples];
                shape.extend_from_slice(self.example_shape);
                OcclusionMask::Dense(MaskTensor {
                    shape,
                    values: self.dense_mask_of_checked()?.into_iter().map(u8::from).collect(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BoxRegion;

    /// The mask of `(P, N, d…)` a factored or dense mask stands for, broadcast on the host.
    fn expand(mask: &OcclusionMask, copies: usize, examples: usize, example_shape: &[usize]) -> Vec<u8> {
        let size: usize = example_shape.iter().product();
        let strides = crate::backend::row_major_strides(example_shape);
        (0..copies * examples * size)
            .map(|i| {
                let (j, n, p) = (i / (examples * size), (i / size) % examples, i % size);
                match mask {
                    OcclusionMask::Dense(m) => m.values[(j * examples + n) * size + p],
                    OcclusionMask::Factors(factors) => factors
                        .iter()
                        .enumerate()
                        .map(|(r, f)| f.values[j * example_shape[r] + (p / strides[r]) % example_shape[r]])
                        .product(),
                }
            })
            .collect()
    }

    #[test]
    fn factors_and_dense_masks_both_equal_the_dense_mask() {
        let shape = [3, 4];
        let boxes = RegionBatch {
            regions: vec![
                Region::Box(BoxRegion { start: vec![0, 1], end: vec![2, 4] }),
                Region::Box(BoxRegion { start: vec![2, 0], end: vec![3, 1] }),
            ],
            examples: 2,
            example_shape: &shape,
        };
        let factored = boxes.occlusion_mask().unwrap();
        assert!(matches!(&factored, OcclusionMask::Factors(f) if f.len() == 2));
        let dense: Vec<u8> = boxes.dense_mask().unwrap().into_iter().map(u8::from).collect();
        assert_eq!(expand(&factored, 2, 2, &shape), dense);

        let mixed = RegionBatch {
            regions: vec![Region::Box(BoxRegion { start: vec![0, 0], end: vec![1, 1] }), Region::Positions(&[5, 7])],
            examples: 2,
            example_shape: &shape,
        };
        let mask = mixed.occlusion_mask().unwrap();
        let OcclusionMask::Dense(m) = &mask else { panic!("a positions region needs the dense mask") };
        assert_eq!(m.shape, [2, 2, 3, 4]);
        let dense: Vec<u8> = mixed.dense_mask().unwrap().into_iter().map(u8::from).collect();
        assert_eq!(expand(&mask, 2, 2, &shape), dense);
    }
}
