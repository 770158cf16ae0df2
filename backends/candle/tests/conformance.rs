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
