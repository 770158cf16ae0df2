//! `tch::Tensor` as a tiled-occlusion backend.

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::backend::{Backend, BaselineValue, MaskTensor, OcclusionMask, RegionBatch};
use tiled_occlusion_core::{Error, Result};

/// The tch backend: inputs, baselines and model outputs are `tch::Tensor`s of kind `Float`,
/// `Double`, `Half` or `BFloat16`, on the CPU or a CUDA device.
///
/// A perturbed batch is one select on the input's device,
/// `where(mask, baseline, input)` broadcast to `(P, N, d…)` and viewed as `(P·N, d…)`: the
/// input is read once and never leaves its device; only the mask is uploaded (for window
/// regions `P · Σ_r d_r` bytes per call). Everything runs under `no_grad` (gradient methods
/// excepted, see [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend)). Output drops are
/// read back and accumulated in `f64` on the host; maps come back in the input's kind and on
/// its device.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tch;

/// Converts a libtorch error into a backend error that keeps its message.
pub(crate) fn backend_error(context: &str, e: tch::TchError) -> Error {
    Error::backend(format!("tch: {context}"), e)
}

fn float_kind(tensor: &Tensor) -> Result<Kind> {
    match tensor.f_kind() {
        Ok(kind @ (Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16)) => Ok(kind),
        Ok(other) => Err(Error::UnsupportedElementType {
            backend: "tch",
            found: format!("{other:?}"),
            supported: "Float, Double, Half or BFloat16",
        }),
        Err(e) => Err(backend_error("reading the input's kind", e)),
    }
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// The `(P, N or 1, d…)` selection mask of `regions` on `device`, true where the baseline
/// goes: the core's [`OcclusionMask`] of them (`host_mask`) uploaded, its factors and-ed on the
/// device.
fn occlusion_mask(
    regions: &RegionBatch<'_>,
    host_mask: OcclusionMask,
    device: Device,
) -> std::result::Result<Tensor, tch::TchError> {
    let upload = |m: MaskTensor| -> std::result::Result<Tensor, tch::TchError> {
        Tensor::f_from_slice(&m.values)?.f_reshape(dims(&m.shape))?.f_to_device(device)?.f_to_kind(Kind::Bool)
    };
    let factors = match host_mask {
        OcclusionMask::Dense(m) => return upload(m),
        OcclusionMask::Factors(factors) => factors,
    };
    let mut mask: Option<Tensor> = None;
    for factor in factors {
        let factor = upload(factor)?;
        mask = Some(match mask {
            None => factor,
            Some(m) => m.f_logical_and(&factor)?,
        });
    }
    match mask {
        Some(m) => Ok(m),
        None => Tensor::f_ones([regions.regions.len() as i64, 1], (Kind::Bool, device)),
    }
}

impl Backend for Tch {
    type Tensor = Tensor;

    fn check_input(input: &Tensor) -> Result<()> {
        float_kind(input).map(|_| ())
    }

    fn shape(tensor: &Tensor) -> Vec<usize> {
        tensor.size().into_iter().map(|d| d.max(0) as usize).collect()
    }

    fn to_f64_vec(tensor: &Tensor) -> Result<Vec<f64>> {
        tch::no_grad(|| {
            let host = tensor.f_to_device(Device::Cpu)?.f_to_kind(Kind::Double)?.f_flatten(0, -1)?.f_contiguous()?;
            Vec::<f64>::try_from(&host)
        })
        .map_err(|e| backend_error("reading a tensor back to the host", e))
    }

    fn from_f64_slice(like: &Tensor, shape: &[usize], data: &[f64]) -> Result<Tensor> {
        let kind = like.f_kind().map_err(|e| backend_error("reading the input's kind", e))?;
        Tensor::f_from_slice(data)
            .and_then(|t| t.f_reshape(dims(shape)))
            .and_then(|t| t.f_to_kind(kind))
            .and_then(|t| t.f_to_device(like.device()))
            .map_err(|e| backend_error("making the attribution tensor", e))
    }

    fn occluded_batch(input: &Tensor, baseline: &BaselineValue<'_, Self>, regions: &RegionBatch<'_>) -> Result<Tensor> {
        let kind = float_kind(input)?;
        let device = input.device();
        let examples = regions.examples as i64;
        let per_example = dims(regions.example_shape);
        let with_prefix = |prefix: &[i64]| [prefix, per_example.as_slice()].concat();
        // Checks the batch's regions against its examples.
        let host_mask = regions.occlusion_mask()?;
        let build = || -> std::result::Result<Tensor, tch::TchError> {
            let mask = occlusion_mask(regions, host_mask, device)?;
            let fill = match baseline {
                BaselineValue::Scalar(v) => Tensor::f_from_slice(&[*v])?.f_reshape([] as [i64; 0])?,
                BaselineValue::PerPosition(b) => b.f_reshape(with_prefix(&[1, 1]))?,
                BaselineValue::PerExample(b) => b.f_reshape(with_prefix(&[1, examples]))?,
            }
            .f_to_kind(kind)?
            .f_to_device(device)?;
            let batch = fill.f_where_self(&mask, &input.f_reshape(with_prefix(&[1, examples]))?)?;
            batch.f_reshape(with_prefix(&[regions.rows() as i64]))
        };
        tch::no_grad(build).map_err(|e| backend_error("building the perturbed batch", e))
    }
}
