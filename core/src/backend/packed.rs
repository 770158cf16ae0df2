//! Several input tensors seen as one: the backend combinator behind multi-input attributions.
//!
//! `K` tensors of backend `B`, part `i` of shape `(N, d^i…)`, are one tensor of shape `(N, D)`,
//! `D = Σ_i D_i` with `D_i = Π d^i`: position `p` of a packed example is position `p − o_i` of
//! part `i`, `o_i = Σ_{j<i} D_j ≤ p < o_i + D_i`. Occluding a packed region occludes, in every
//! part, the positions of the region that lie in it, so the engine's law
//! `S[n, p] = Σ_j Δ_j[n]·[p ∈ R_j]` holds over the union of the parts' positions, and a region
//! that lies in one part leaves the others untouched (Captum's tuple inputs).

use std::marker::PhantomData;

use crate::backend::{Backend, BaselineValue, Region, RegionBatch, TensorOf};
use crate::error::{Error, Result};

/// The packed view of several tensors of backend `B` (see the module's formula).
pub struct Packed<B>(PhantomData<fn() -> B>);

/// How one part is occluded: its own baseline, owned.
pub enum PartBaseline<B: Backend> {
    /// One value everywhere.
    Scalar(f64),
    /// A tensor of the part's per-example shape.
    PerPosition(TensorOf<B>),
    /// A tensor of the part's shape `(N, d^i…)`.
    PerExample(TensorOf<B>),
}

/// A tensor of [`Packed`]: several parts, their baselines, or one plain tensor (model outputs).
pub enum PackedTensor<B: Backend> {
    /// Parts of `rows` rows each, seen as `(rows, D)`.
    Parts {
        /// The tensors, in order.
        parts: Vec<TensorOf<B>>,
        /// Each part's per-example shape `d^i`.
        example_shapes: Vec<Vec<usize>>,
        /// The rows every part has.
        rows: usize,
    },
    /// One baseline per part (what [`BaselineValue::PerPosition`] carries for [`Packed`]).
    Baselines(Vec<PartBaseline<B>>),
    /// A plain tensor: a model output.
    Whole(TensorOf<B>),
}

impl<B: Backend> PackedTensor<B> {
    /// The packed tensor of `parts`, each of shape `(N, d^i…)`, all with the same `N`.
    pub fn from_parts(parts: Vec<TensorOf<B>>) -> Result<Self> {
        let shapes: Vec<Vec<usize>> = parts.iter().map(|p| B::shape(p)).collect();
        let rows = packed_shape(&shapes)?[0];
        let example_shapes = shapes.into_iter().map(|s| s[1..].to_vec()).collect();
        Ok(PackedTensor::Parts { parts, example_shapes, rows })
    }

    /// The parts, or an error naming what this tensor is instead.
    pub fn into_parts(self) -> Result<Vec<TensorOf<B>>> {
        match self {
            PackedTensor::Parts { parts, .. } => Ok(parts),
            _ => Err(Error::backend("packed inputs", "a tensor of several inputs was expected")),
        }
    }

    /// The parts, borrowed.
    pub fn parts(&self) -> Result<&[TensorOf<B>]> {
        match self {
            PackedTensor::Parts { parts, .. } => Ok(parts),
            _ => Err(Error::backend("packed inputs", "a tensor of several inputs was expected")),
        }
    }

    /// Each part's first packed position `o_i`, and `D` last.
    pub fn offsets(example_shapes: &[Vec<usize>]) -> Vec<usize> {
        let mut offsets = vec![0];
        for shape in example_shapes {
            offsets.push(offsets.last().copied().unwrap_or(0) + shape.iter().product::<usize>());
        }
        offsets
    }
}

/// What of a packed region lies in one part.
enum Piece<'r> {
    /// A region of the part itself.
    Inner(&'r Region<'r>),
    /// Its positions in the part: one shared list, or one per example.
    Lists(Vec<Vec<usize>>),
}

/// The positions of `region` (packed, example `n`) that lie in `[lo, hi)`, moved to the part.
fn part_positions(region: &Region<'_>, n: usize, packed_shape: &[usize], lo: usize, hi: usize) -> Vec<usize> {
    let mut out = Vec::new();
    region.for_each_run(n, packed_shape, |o, l| out.extend((o.max(lo)..(o + l).min(hi)).map(|p| p - lo)));
    out
}

impl<B: Backend> Backend for Packed<B> {
    type Tensor = PackedTensor<B>;

    fn check_input(input: &PackedTensor<B>) -> Result<()> {
        input.parts()?.iter().try_for_each(B::check_input)
    }

    fn shape(tensor: &PackedTensor<B>) -> Vec<usize> {
        match tensor {
            PackedTensor::Parts { example_shapes, rows, .. } => {
                vec![*rows, example_shapes.iter().map(|s| s.iter().product::<usize>()).sum()]
            }
            PackedTensor::Baselines(parts) => vec![parts.len()],
            PackedTensor::Whole(t) => B::shape(t),
        }
    }

    fn to_f64_vec(tensor: &PackedTensor<B>) -> Result<Vec<f64>> {
        match tensor {
            PackedTensor::Parts { parts, example_shapes, rows } => {
                let hosts = parts.iter().map(B::to_f64_vec).collect::<Result<Vec<_>>>()?;
                let sizes: Vec<usize> = example_shapes.iter().map(|s| s.iter().product()).collect();
                let mut out = Vec::with_capacity(rows * sizes.iter().sum::<usize>());
                for r in 0..*rows {
                    for (host, &size) in hosts.iter().zip(&sizes) {
                        out.extend_from_slice(&host[r * size..(r + 1) * size]);
                    }
                }
                Ok(out)
            }
            PackedTensor::Baselines(_) => Err(Error::backend("packed inputs", "baselines are not read back")),
            PackedTensor::Whole(t) => B::to_f64_vec(t),
        }
    }

    /// A `(rows, D)` shape like a packed input gives parts of `rows` rows; anything else a
    /// plain tensor.
    fn from_f64_slice(like: &PackedTensor<B>, shape: &[usize], data: &[f64]) -> Result<PackedTensor<B>> {
        match like {
            PackedTensor::Parts { parts, example_shapes, .. }
                if shape.len() == 2 && shape[1] == Self::shape(like)[1] =>
            {
                let rows = shape[0];
                let offsets = PackedTensor::<B>::offsets(example_shapes);
                let width = shape[1];
                let mut out = Vec::with_capacity(parts.len());
                for (i, (part, example_shape)) in parts.iter().zip(example_shapes).enumerate() {
                    let (lo, hi) = (offsets[i], offsets[i + 1]);
                    let values: Vec<f64> =
                        (0..rows).flat_map(|r| data[r * width + lo..r * width + hi].iter().copied()).collect();
                    let mut part_shape = vec![rows];
                    part_shape.extend_from_slice(example_shape);
                    out.push(B::from_f64_slice(part, &part_shape, &values)?);
                }
                Ok(PackedTensor::Parts { parts: out, example_shapes: example_shapes.clone(), rows })
            }
            PackedTensor::Parts { parts, .. } => match parts.first() {
                Some(first) => Ok(PackedTensor::Whole(B::from_f64_slice(first, shape, data)?)),
                None => Err(Error::backend("packed inputs", "no input tensor")),
            },
            PackedTensor::Whole(t) => Ok(PackedTensor::Whole(B::from_f64_slice(t, shape, data)?)),
            PackedTensor::Baselines(_) => Err(Error::backend("packed inputs", "no tensor to make one like")),
        }
    }

    fn occluded_batch(
        input: &PackedTensor<B>,
        baseline: &BaselineValue<'_, Self>,
        regions: &RegionBatch<'_>,
    ) -> Result<PackedTensor<B>> {
        let PackedTensor::Parts { parts, example_shapes, .. } = input else {
            return Err(Error::backend("packed inputs", "only several inputs can be occluded"));
        };
        let baselines = match baseline {
            BaselineValue::Scalar(_) => None,
            BaselineValue::PerPosition(PackedTensor::Baselines(b))
            | BaselineValue::PerExample(PackedTensor::Baselines(b)) => Some(b),
            _ => return Err(Error::backend("packed inputs", "a baseline per input was expected")),
        };
        let offsets = PackedTensor::<B>::offsets(example_shapes);
        let mut out = Vec::with_capacity(parts.len());
        for (i, (part, example_shape)) in parts.iter().zip(example_shapes).enumerate() {
            let (lo, hi) = (offsets[i], offsets[i + 1]);
            // Per region, what of it lies in this part: a region of the part as it is (its fast
            // paths kept), or its positions here, shared or one list per example.
            let pieces: Vec<Piece<'_>> = regions
                .regions
                .iter()
                .map(|region| match region {
                    Region::InPart { offset, region, .. } if *offset == lo => Piece::Inner(region),
                    Region::InPart { .. } => Piece::Lists(vec![Vec::new()]),
                    Region::PerExample(_) => Piece::Lists(
                        (0..regions.examples)
                            .map(|n| part_positions(region, n, regions.example_shape, lo, hi))
                            .collect(),
                    ),
                    _ => Piece::Lists(vec![part_positions(region, 0, regions.example_shape, lo, hi)]),
                })
                .collect();
            let part_regions = pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Inner(region) => (*region).clone(),
                    Piece::Lists(l) if l.len() == 1 => Region::Positions(&l[0]),
                    Piece::Lists(l) => Region::PerExample(l.iter().map(Vec::as_slice).collect()),
                })
                .collect();
            let batch = RegionBatch { regions: part_regions, examples: regions.examples, example_shape };
            let value = match (baseline, baselines.map(|b| b.get(i))) {
                (BaselineValue::Scalar(v), None) | (_, Some(Some(PartBaseline::Scalar(v)))) => {
                    BaselineValue::Scalar(*v)
                }
                (_, Some(Some(PartBaseline::PerPosition(t)))) => BaselineValue::PerPosition(t),
                (_, Some(Some(PartBaseline::PerExample(t)))) => BaselineValue::PerExample(t),
                _ => return Err(Error::backend("packed inputs", format!("no baseline for input {i}"))),
            };
            out.push(B::occluded_batch(part, &value, &batch)?);
        }
        Ok(PackedTensor::Parts { parts: out, example_shapes: example_shapes.clone(), rows: regions.rows() })
    }
}

/// `(N, Σ_i Π d^i)`, the packed shape of inputs of `shapes`: every input's shape, their one
/// batch size `N` and the sum checked.
pub(crate) fn packed_shape(shapes: &[Vec<usize>]) -> Result<Vec<usize>> {
    let examples = shapes.first().and_then(|s| s.first()).copied().unwrap_or(0);
    let mut total = 0usize;
    for (i, shape) in shapes.iter().enumerate() {
        crate::attribution::check_input_shape(shape)?;
        if shape[0] != examples {
            return Err(Error::InvalidSetting {
                setting: "the input tensors".into(),
                reason: format!(
                    "every input needs the same batch size: input 0 has shape {:?}, input {i} {shape:?}",
                    shapes[0]
                ),
            });
        }
        let size = Error::checked_product("the elements per example of an input", &shape[1..])?;
        total = total.checked_add(size).ok_or_else(|| Error::SizeOverflow {
            what: "the elements per example of all inputs".into(),
            detail: format!("more than {}", usize::MAX),
        })?;
    }
    Ok(vec![examples, total])
}
