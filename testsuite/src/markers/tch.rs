//! tch markers: `tch::Tensor`s of every supported kind, on the CPU or CUDA.

use std::marker::PhantomData;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::Forward;
use tiled_occlusion_tch::Tch;

use crate::markers::{Cpu, DeviceKind, TestDevice};
use crate::test_backend::{checked_elements, row_length};
use crate::{GradientTestBackend, TestBackend};

/// The tch device of `kind`.
fn device(kind: DeviceKind) -> Result<Device, String> {
    match kind {
        DeviceKind::Cpu => Ok(Device::Cpu),
        // `device` loads libtorch's CUDA library first (the linker leaves it out of test
        // binaries); asking libtorch directly would find no GPU, for good, in this process.
        DeviceKind::Cuda => tiled_occlusion_tch::device("cuda:0").map_err(|e| e.to_string()),
    }
}

fn tensor(shape: &[usize], data: &[f64], kind: Kind, device_kind: DeviceKind) -> Result<Tensor, String> {
    checked_elements(shape, data.len())?;
    let device = device(device_kind)?;
    // Every dimension fits `i64`: `checked_elements` says so.
    let dims = shape.iter().map(|&d| i64::try_from(d).map_err(|e| e.to_string())).collect::<Result<Vec<_>, _>>()?;
    Tensor::f_from_slice(data)
        .and_then(|t| t.f_reshape(dims))
        .and_then(|t| t.f_to_kind(kind))
        .and_then(|t| t.f_to_device(device))
        .map_err(|e| e.to_string())
}

/// `(size, outputs)` matrix `Mᵀ` of a row-major `(outputs, size)` matrix, in `kind` on
/// `device_kind`.
fn transposed(m: &[f64], outputs: usize, kind: Kind, device_kind: DeviceKind) -> Result<Tensor, String> {
    let device = device(device_kind)?;
    let size = row_length(m.len(), outputs)?;
    let (outputs, size) = match (i64::try_from(outputs), i64::try_from(size)) {
        (Ok(o), Ok(s)) => (o, s),
        _ => return Err(format!("a ({outputs}, {size}) matrix does not fit signed 64-bit sizes")),
    };
    Tensor::f_from_slice(m)
        .and_then(|t| t.f_reshape([outputs, size])?.f_transpose(0, 1)?.f_contiguous()?.f_to_kind(kind))
        .and_then(|t| t.f_to_device(device))
        .map_err(|e| e.to_string())
}

/// The suite's polynomial model in libtorch operations.
fn polynomial(
    linear: &[f64],
    quadratic: &[f64],
    outputs: usize,
    kind: Kind,
    device_kind: DeviceKind,
) -> Box<dyn Forward<Backend = Tch>> {
    let (l, q) =
        match (transposed(linear, outputs, kind, device_kind), transposed(quadratic, outputs, kind, device_kind)) {
            (Ok(l), Ok(q)) => (l, q),
            (Err(e), _) | (_, Err(e)) => panic!("cannot build the polynomial model: {e}"),
        };
    Box::new(tiled_occlusion_tch::model(move |x: &Tensor| -> Result<Tensor, tch::TchError> {
        let flat = x.f_flatten(1, -1)?;
        flat.f_matmul(&l)?.f_add(&flat.f_square()?.f_matmul(&q)?)
    }))
}

macro_rules! tch_markers {
    ($($marker:ident, $name:literal, $cuda_name:literal, $kind:expr, $tolerance:expr;)*) => {
        $(
            #[doc = concat!("`tch::Tensor`s of kind `", stringify!($kind), "` on device `D`, tolerance `",
                stringify!($tolerance), "`.")]
            #[derive(Clone, Copy, Debug)]
            pub struct $marker<D: TestDevice = Cpu>(PhantomData<D>);

            impl<D: TestDevice> TestBackend for $marker<D> {
                type B = Tch;
                const NAME: &'static str = match D::KIND {
                    DeviceKind::Cpu => $name,
                    DeviceKind::Cuda => $cuda_name,
                };
                const TOLERANCE: f64 = $tolerance;

                fn tensor(shape: &[usize], data: &[f64]) -> Result<Tensor, String> {
                    tensor(shape, data, $kind, D::KIND)
                }

                fn skip_reason() -> Option<String> {
                    device(D::KIND).err()
                }
            }

            impl<D: TestDevice> GradientTestBackend for $marker<D> {
                fn polynomial_model(linear: &[f64], quadratic: &[f64], outputs: usize) -> Box<dyn Forward<Backend = Tch>> {
                    polynomial(linear, quadratic, outputs, $kind, D::KIND)
                }

                fn add_outputs(a: &Tensor, b: &Tensor) -> Result<Tensor, ModelError> {
                    a.f_add(b).map_err(|e| Box::new(e) as ModelError)
                }
            }
        )*
    };
}

tch_markers! {
    TchF64, "tch-f64", "tch-cuda-f64", Kind::Double, 1e-10;
    TchF32, "tch-f32", "tch-cuda-f32", Kind::Float, 1e-4;
    TchF16, "tch-f16", "tch-cuda-f16", Kind::Half, 1e-2;
    TchBf16, "tch-bf16", "tch-cuda-bf16", Kind::BFloat16, 5e-2;
}
