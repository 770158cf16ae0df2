//! The shared suite, stamped out for tch tensors of every supported kind on the CPU.

use tch::{Device, Kind, Tensor};
use tiled_occlusion_tch::Tch;
use tiled_occlusion_testsuite::{backend_conformance_tests, TestBackend};

fn cpu_tensor(shape: &[usize], data: &[f64], kind: Kind) -> Result<Tensor, String> {
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    Tensor::f_from_slice(data)
        .and_then(|t| t.f_reshape(dims))
        .and_then(|t| t.f_to_kind(kind))
        .and_then(|t| t.f_to_device(Device::Cpu))
        .map_err(|e| e.to_string())
}

macro_rules! tch_kind {
    ($name:ident, $label:literal, $kind:expr, $tolerance:expr) => {
        struct $name;

        impl TestBackend for $name {
            type B = Tch;
            const NAME: &'static str = $label;
            const TOLERANCE: f64 = $tolerance;

            fn tensor(shape: &[usize], data: &[f64]) -> Result<Tensor, String> {
                cpu_tensor(shape, data, $kind)
            }
        }
    };
}

tch_kind!(TchF64, "tch-f64", Kind::Double, 1e-10);
tch_kind!(TchF32, "tch-f32", Kind::Float, 1e-4);
tch_kind!(TchF16, "tch-f16", Kind::Half, 1e-2);
tch_kind!(TchBf16, "tch-bf16", Kind::BFloat16, 5e-2);

backend_conformance_tests!(tch_f64, TchF64);
backend_conformance_tests!(tch_f32, TchF32);
backend_conformance_tests!(tch_f16, TchF16);
backend_conformance_tests!(tch_bf16, TchBf16);
