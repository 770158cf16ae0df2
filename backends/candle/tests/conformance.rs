//! The shared suite, stamped out for candle tensors of every supported dtype on the CPU.

use candle_core::{DType, Device, Tensor};
use tiled_occlusion_candle::Candle;
use tiled_occlusion_testsuite::{backend_conformance_tests, TestBackend};

fn cpu_tensor(shape: &[usize], data: &[f64], dtype: DType) -> Result<Tensor, String> {
    Tensor::from_slice(data, shape, &Device::Cpu).and_then(|t| t.to_dtype(dtype)).map_err(|e| e.to_string())
}

macro_rules! candle_dtype {
    ($name:ident, $label:literal, $dtype:expr, $tolerance:expr) => {
        struct $name;

        impl TestBackend for $name {
            type B = Candle;
            const NAME: &'static str = $label;
            const TOLERANCE: f64 = $tolerance;

            fn tensor(shape: &[usize], data: &[f64]) -> Result<Tensor, String> {
                cpu_tensor(shape, data, $dtype)
            }
        }
    };
}

candle_dtype!(CandleF64, "candle-f64", DType::F64, 1e-10);
candle_dtype!(CandleF32, "candle-f32", DType::F32, 1e-4);

backend_conformance_tests!(candle_f64, CandleF64);
backend_conformance_tests!(candle_f32, CandleF32);
candle_dtype!(CandleF16, "candle-f16", DType::F16, 1e-2);
candle_dtype!(CandleBf16, "candle-bf16", DType::BF16, 5e-2);
backend_conformance_tests!(candle_f16, CandleF16);
backend_conformance_tests!(candle_bf16, CandleBf16);

mod gradients {
    use candle_core::{DType, Device, Tensor};
    use tiled_occlusion_candle::Candle;
    use tiled_occlusion_core::Forward;
    use tiled_occlusion_testsuite::{gradient_conformance_tests, GradientTestBackend};

    use super::{CandleBf16, CandleF16, CandleF32, CandleF64};

    /// `(size, outputs)` matrix `Mᵀ` of a row-major `(outputs, size)` matrix, in `dtype`.
    fn transposed(m: &[f64], outputs: usize, dtype: DType) -> candle_core::Result<Tensor> {
        let size = m.len() / outputs;
        Tensor::from_slice(m, (outputs, size), &Device::Cpu)?.t()?.contiguous()?.to_dtype(dtype)
    }

    fn polynomial(
        linear: &[f64],
        quadratic: &[f64],
        outputs: usize,
        dtype: DType,
    ) -> Box<dyn Forward<Backend = Candle>> {
        let (l, q) = match (transposed(linear, outputs, dtype), transposed(quadratic, outputs, dtype)) {
            (Ok(l), Ok(q)) => (l, q),
            (Err(e), _) | (_, Err(e)) => panic!("cannot build the polynomial model: {e}"),
        };
        Box::new(tiled_occlusion_candle::model(move |x: &Tensor| -> candle_core::Result<Tensor> {
            let flat = x.flatten_from(1)?;
            flat.matmul(&l)? + flat.sqr()?.matmul(&q)?
        }))
    }

    macro_rules! gradient_dtype {
        ($name:ident, $dtype:expr) => {
            impl GradientTestBackend for $name {
                fn polynomial_model(
                    linear: &[f64],
                    quadratic: &[f64],
                    outputs: usize,
                ) -> Box<dyn Forward<Backend = Candle>> {
                    polynomial(linear, quadratic, outputs, $dtype)
                }
            }
        };
    }

    gradient_dtype!(CandleF64, DType::F64);
    gradient_dtype!(CandleF32, DType::F32);
    gradient_dtype!(CandleF16, DType::F16);
    gradient_dtype!(CandleBf16, DType::BF16);

    gradient_conformance_tests!(candle_f64, CandleF64);
    gradient_conformance_tests!(candle_f32, CandleF32);
    gradient_conformance_tests!(candle_f16, CandleF16);
    gradient_conformance_tests!(candle_bf16, CandleBf16);
}
