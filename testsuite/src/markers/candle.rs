//! candle markers: `candle_core::Tensor`s of every supported dtype, on the CPU or CUDA.

use std::marker::PhantomData;
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use tiled_occlusion_candle::Candle;
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::Forward;

use crate::markers::{Cpu, DeviceKind, TestDevice};
use crate::test_backend::{checked_elements, row_length};
use crate::{GradientTestBackend, TestBackend};

/// The candle device of `kind`; CUDA device 0 is opened once, so that every tensor of a test
/// run is on the same device.
fn device(kind: DeviceKind) -> Result<Device, String> {
    static CUDA: OnceLock<Result<Device, String>> = OnceLock::new();
    match kind {
        DeviceKind::Cpu => Ok(Device::Cpu),
        DeviceKind::Cuda => CUDA
            .get_or_init(|| {
                Device::new_cuda(0).map_err(|e| {
                    format!("candle cannot open CUDA device 0 (built without the `cuda` feature, or no device): {e}")
                })
            })
            .clone(),
    }
}

fn tensor(shape: &[usize], data: &[f64], dtype: DType, kind: DeviceKind) -> Result<Tensor, String> {
    checked_elements(shape, data.len())?;
    let device = device(kind)?;
    Tensor::from_slice(data, shape, &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .and_then(|t| t.to_device(&device))
        .map_err(|e| e.to_string())
}

/// `(size, outputs)` matrix `Mᵀ` of a row-major `(outputs, size)` matrix, in `dtype` on `kind`.
fn transposed(m: &[f64], outputs: usize, dtype: DType, kind: DeviceKind) -> Result<Tensor, String> {
    let size = row_length(m.len(), outputs)?;
    let device = device(kind)?;
    Tensor::from_slice(m, (outputs, size), &Device::Cpu)
        .and_then(|t| t.t()?.contiguous()?.to_dtype(dtype)?.to_device(&device))
        .map_err(|e| e.to_string())
}

/// The suite's polynomial model in candle operations.
fn polynomial(
    linear: &[f64],
    quadratic: &[f64],
    outputs: usize,
    dtype: DType,
    kind: DeviceKind,
) -> Box<dyn Forward<Backend = Candle>> {
    let (l, q) = match (transposed(linear, outputs, dtype, kind), transposed(quadratic, outputs, dtype, kind)) {
        (Ok(l), Ok(q)) => (l, q),
        (Err(e), _) | (_, Err(e)) => panic!("cannot build the polynomial model: {e}"),
    };
    Box::new(tiled_occlusion_candle::model(move |x: &Tensor| -> candle_core::Result<Tensor> {
        let flat = x.flatten_from(1)?;
        flat.matmul(&l)? + flat.sqr()?.matmul(&q)?
    }))
}

macro_rules! candle_markers {
    ($($marker:ident, $name:literal, $cuda_name:literal, $dtype:expr, $tolerance:expr;)*) => {
        $(
            #[doc = concat!("`candle_core::Tensor`s of dtype `", stringify!($dtype), "` on device `D`, tolerance `",
                stringify!($tolerance), "`.")]
            #[derive(Clone, Copy, Debug)]
            pub struct $marker<D: TestDevice = Cpu>(PhantomData<D>);

            impl<D: TestDevice> TestBackend for $marker<D> {
                type B = Candle;
                const NAME: &'static str = match D::KIND {
                    DeviceKind::Cpu => $name,
                    DeviceKind::Cuda => $cuda_name,
                };
                const TOLERANCE: f64 = $tolerance;

                fn tensor(shape: &[usize], data: &[f64]) -> Result<Tensor, String> {
                    tensor(shape, data, $dtype, D::KIND)
                }

                fn skip_reason() -> Option<String> {
                    device(D::KIND).err()
                }
            }

            impl<D: TestDevice> GradientTestBackend for $marker<D> {
                fn polynomial_model(
                    linear: &[f64],
                    quadratic: &[f64],
                    outputs: usize,
                ) -> Box<dyn Forward<Backend = Candle>> {
                    polynomial(linear, quadratic, outputs, $dtype, D::KIND)
                }

                fn add_outputs(a: &Tensor, b: &Tensor) -> Result<Tensor, ModelError> {
                    a.add(b).map_err(|e| Box::new(e) as ModelError)
                }
            }
        )*
    };
}

candle_markers! {
    CandleF64, "candle-f64", "candle-cuda-f64", DType::F64, 1e-10;
    CandleF32, "candle-f32", "candle-cuda-f32", DType::F32, 1e-4;
    CandleF16, "candle-f16", "candle-cuda-f16", DType::F16, 1e-2;
    CandleBf16, "candle-bf16", "candle-cuda-bf16", DType::BF16, 5e-2;
}
