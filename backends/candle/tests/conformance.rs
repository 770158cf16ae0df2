//! The shared suite with the gradient cases, stamped out for candle tensors of every
//! supported dtype: on the CPU always; on CUDA device 0 with the `cuda` feature, skipped at
//! run time (with a message) where no device is present.

use tiled_occlusion_testsuite::backend_conformance_tests;
#[cfg(feature = "cuda")]
use tiled_occlusion_testsuite::markers::Cuda;
use tiled_occlusion_testsuite::markers::{CandleBf16, CandleF16, CandleF32, CandleF64};

backend_conformance_tests!(candle_f64, CandleF64, gradients);
backend_conformance_tests!(candle_f32, CandleF32, gradients);
backend_conformance_tests!(candle_f16, CandleF16, gradients);
backend_conformance_tests!(candle_bf16, CandleBf16, gradients);

#[cfg(feature = "cuda")]
backend_conformance_tests!(candle_cuda_f32, CandleF32<Cuda>, gradients);
#[cfg(feature = "cuda")]
backend_conformance_tests!(candle_cuda_f16, CandleF16<Cuda>, gradients);
