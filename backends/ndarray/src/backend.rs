//! `ndarray::ArrayD` as a tensor of the core.

use std::marker::PhantomData;

use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_core::backend::{fill_occluded_batch, Backend, BaselineValue, Element, HostBaseline, RegionBatch};
use tiled_occlusion_core::{try_with_capacity, Error, Result};

/// What to change when an array is too large to allocate.
const LARGE_HINT: &str = "use smaller batches (perturbations_per_eval, samples batch sizes) or inputs";

/// The ndarray backend for element type `E`: its tensors are `ndarray::ArrayD<E>`, on the host.
///
/// Perturbed batches are built by copying the input once per region and writing the
/// baseline into the region only.
pub struct Ndarray<E>(PhantomData<fn() -> E>);

impl<E: Element> Backend for Ndarray<E> {
    type Tensor = ArrayD<E>;

    fn shape(tensor: &ArrayD<E>) -> Vec<usize> {
        tensor.shape().to_vec()
    }

    fn to_f64_vec(tensor: &ArrayD<E>) -> Result<Vec<f64>> {
        let mut values = try_with_capacity("a copy of an array in f64", tensor.len(), LARGE_HINT)?;
        values.extend(tensor.iter().map(|v| v.to_f64_lossless()));
        Ok(values)
    }

    fn from_f64_slice(_like: &ArrayD<E>, shape: &[usize], data: &[f64]) -> Result<ArrayD<E>> {
        let mut values = try_with_capacity("an array", data.len(), LARGE_HINT)?;
        values.extend(data.iter().map(|&v| E::from_f64_nearest(v)));
        ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| {
            Error::backend(format!("ndarray: making an array of shape {shape:?} from {} values", data.len()), e)
        })
    }

    fn occluded_batch(
        input: &ArrayD<E>,
        baseline: &BaselineValue<'_, Self>,
        regions: &RegionBatch<'_>,
    ) -> Result<ArrayD<E>> {
        let input = input.as_standard_layout();
        let input = contiguous(&input)?;
        let baseline_data;
        let host_baseline = match baseline {
            BaselineValue::Scalar(v) => HostBaseline::Scalar(E::from_f64_nearest(*v)),
            BaselineValue::PerPosition(b) | BaselineValue::PerExample(b) => {
                baseline_data = b.as_standard_layout();
                let data = contiguous(&baseline_data)?;
                let size: usize = regions.example_shape.iter().product();
                let expected = if matches!(baseline, BaselineValue::PerExample(_)) { input.len() } else { size };
                if data.len() != expected {
                    let problem = format!("the baseline has {} elements, expected {expected}", data.len());
                    return Err(Error::backend("ndarray: building the perturbed batch", problem));
                }
                if matches!(baseline, BaselineValue::PerExample(_)) {
                    HostBaseline::PerExample(data)
                } else {
                    HostBaseline::PerPosition(data)
                }
            }
        };
        let mut out = Vec::new();
        fill_occluded_batch(input, host_baseline, regions, &mut out)?;
        ArrayD::from_shape_vec(IxDyn(&regions.batch_shape()), out)
            .map_err(|e| Error::backend("ndarray: building the perturbed batch", e))
    }
}

fn contiguous<'a, E>(array: &'a ndarray::CowArray<'_, E, IxDyn>) -> Result<&'a [E]> {
    array
        .as_slice()
        .ok_or_else(|| Error::backend("ndarray: reading an array", "not contiguous after as_standard_layout"))
}
