//! `candle_core::Tensor` as a tiled-occlusion backend.

use candle_core::{DType, Device, Tensor};
use tiled_occlusion_core::backend::{Backend, BaselineValue, MaskTensor, OcclusionMask, RegionBatch};
use tiled_occlusion_core::{Error, Result};

/// The candle backend: inputs, baselines and model outputs are `candle_core::Tensor`s of a
/// floating-point dtype (`f16`, `bf16`, `f32`, `f64`) on any device.
///
/// Perturbed batches are built on the input's own device: the input is repeated once per
/// region and a select (`where_cond`) puts the baseline into the occluded positions. Only the
/// occlusion mask is uploaded; for window regions that is `P · Σ_r d_r` bytes per call
/// (one indicator per dimension, broadcast on the device), never the input. Output drops are
/// read back and accumulated in `f64` on the host; maps come back in the input's dtype and on
/// its device.
#[derive(Clone, Copy, Debug, Default)]
pub struct Candle;

/// Converts a candle error into a backend error that keeps its message.
pub(crate) fn backend_error(context: &str, e: candle_core::Error) -> Error {
    Error::backend(format!("candle: {context}"), e)
}

/// The input's dtype, when it is one the backend explains.
fn float_dtype(tensor: &Tensor) -> Result<DType> {
    match tensor.dtype() {
        dtype @ (DType::F16 | DType::BF16 | DType::F32 | DType::F64) => Ok(dtype),
        other => Err(Error::UnsupportedElementType {
            backend: "candle",
            found: format!("{other:?}"),
            supported: "f16, bf16, f32 or f64",
        }),
    }
}

/// `P` copies of `t` stacked along the batch dimension (region-major rows).
fn repeat_rows(t: &Tensor, copies: usize) -> candle_core::Result<Tensor> {
    let mut repeats = vec![1; t.rank()];
    repeats[0] = copies;
    t.repeat(repeats)
}

/// The `(P·N, d…)` selection mask of `regions` on `device`, `1` where the baseline goes: the
/// core's [`OcclusionMask`] of them (`host_mask`) uploaded (its factors multiplied on the
/// device), broadcast to `(P, N, d…)` and viewed as `(P·N, d…)`.
fn occlusion_mask(regions: &RegionBatch<'_>, host_mask: OcclusionMask, device: &Device) -> candle_core::Result<Tensor> {
    let upload = |m: MaskTensor| Tensor::from_vec(m.values, m.shape, device);
    let mask = match host_mask {
        OcclusionMask::Dense(m) => upload(m)?,
        OcclusionMask::Factors(factors) => {
            let mut mask: Option<Tensor> = None;
            for factor in factors {
                let factor = upload(factor)?;
                mask = Some(match mask {
                    None => factor,
                    Some(m) => m.broadcast_mul(&factor)?,
                });
            }
            match mask {
                Some(m) => m,
                None => Tensor::ones((regions.regions.len(), 1), DType::U8, device)?,
            }
        }
    };
    let mut full = vec![regions.regions.len(), regions.examples];
    full.extend_from_slice(regions.example_shape);
    mask.broadcast_as(full)?.reshape(regions.batch_shape())
}

impl Backend for Candle {
    type Tensor = Tensor;

    fn check_input(input: &Tensor) -> Result<()> {
        float_dtype(input).map(|_| ())
    }

    fn shape(tensor: &Tensor) -> Vec<usize> {
        tensor.dims().to_vec()
    }

    fn to_f64_vec(tensor: &Tensor) -> Result<Vec<f64>> {
        tensor
            .to_device(&Device::Cpu)
            .and_then(|t| t.to_dtype(DType::F64))
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f64>())
            .map_err(|e| backend_error("reading a tensor back to the host", e))
    }

    fn from_f64_slice(like: &Tensor, shape: &[usize], data: &[f64]) -> Result<Tensor> {
        Tensor::from_slice(data, shape, &Device::Cpu)
            .and_then(|t| t.to_dtype(like.dtype()))
            .and_then(|t| t.to_device(like.device()))
            .map_err(|e| backend_error("making the attribution tensor", e))
    }

    fn occluded_batch(input: &Tensor, baseline: &BaselineValue<'_, Self>, regions: &RegionBatch<'_>) -> Result<Tensor> {
        let dtype = float_dtype(input)?;
        let device = input.device();
        let batch_shape = regions.batch_shape();
        let copies = regions.regions.len();
        // Checks the batch's regions against its examples.
        let host_mask = regions.occlusion_mask()?;
        let build = || -> candle_core::Result<Tensor> {
            let mask = occlusion_mask(regions, host_mask, device)?;
            let repeated = repeat_rows(input, copies)?;
            let fill = match baseline {
                // Converted on the host (one element), so that every dtype works on every device.
                BaselineValue::Scalar(v) => Tensor::new(*v, &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?,
                BaselineValue::PerPosition(b) => {
                    let mut shape = vec![1];
                    shape.extend_from_slice(regions.example_shape);
                    b.to_device(device)?.to_dtype(dtype)?.reshape(shape)?
                }
                BaselineValue::PerExample(b) => repeat_rows(&b.to_device(device)?.to_dtype(dtype)?, copies)?,
            };
            mask.where_cond(&fill.broadcast_as(batch_shape.as_slice())?, &repeated)
        };
        build().map_err(|e| backend_error("building the perturbed batch", e))
    }
}
