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

mod gradients {
    use tch::{Device, Kind, Tensor};
    use tiled_occlusion_core::Forward;
    use tiled_occlusion_tch::Tch;
    use tiled_occlusion_testsuite::{gradient_conformance_tests, GradientTestBackend};

    use super::{TchBf16, TchF16, TchF32, TchF64};

    /// `(size, outputs)` matrix `Mᵀ` of a row-major `(outputs, size)` matrix, in `kind`.
    fn transposed(m: &[f64], outputs: usize, kind: Kind) -> Result<Tensor, tch::TchError> {
        let size = (m.len() / outputs) as i64;
        Tensor::f_from_slice(m)?.f_reshape([outputs as i64, size])?.f_transpose(0, 1)?.f_contiguous()?.f_to_kind(kind)
    }

    fn polynomial(linear: &[f64], quadratic: &[f64], outputs: usize, kind: Kind) -> Box<dyn Forward<Backend = Tch>> {
        let (l, q) = match (transposed(linear, outputs, kind), transposed(quadratic, outputs, kind)) {
            (Ok(l), Ok(q)) => (l.to_device(Device::Cpu), q.to_device(Device::Cpu)),
            (Err(e), _) | (_, Err(e)) => panic!("cannot build the polynomial model: {e}"),
        };
        Box::new(tiled_occlusion_tch::model(move |x: &Tensor| -> Result<Tensor, tch::TchError> {
            let flat = x.f_flatten(1, -1)?;
            flat.f_matmul(&l)?.f_add(&flat.f_square()?.f_matmul(&q)?)
        }))
    }

    macro_rules! gradient_kind {
        ($name:ident, $kind:expr) => {
            impl GradientTestBackend for $name {
                fn polynomial_model(
                    linear: &[f64],
                    quadratic: &[f64],
                    outputs: usize,
                ) -> Box<dyn Forward<Backend = Tch>> {
                    polynomial(linear, quadratic, outputs, $kind)
                }
            }
        };
    }

    gradient_kind!(TchF64, Kind::Double);
    gradient_kind!(TchF32, Kind::Float);
    gradient_kind!(TchF16, Kind::Half);
    gradient_kind!(TchBf16, Kind::BFloat16);

    gradient_conformance_tests!(tch_f64, TchF64);
    gradient_conformance_tests!(tch_f32, TchF32);
    gradient_conformance_tests!(tch_f16, TchF16);
    gradient_conformance_tests!(tch_bf16, TchBf16);
}
