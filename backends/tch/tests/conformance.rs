//! The shared suite with the gradient cases, stamped out for tch tensors of every supported
//! kind: on the CPU, and on CUDA device 0 where libtorch sees one (skipped at run time, with
//! a message, elsewhere: libtorch decides at run time, so these compile everywhere).

use tiled_occlusion_testsuite::backend_conformance_tests;
use tiled_occlusion_testsuite::markers::{Cuda, TchBf16, TchF16, TchF32, TchF64};

backend_conformance_tests!(tch_f64, TchF64, gradients);
backend_conformance_tests!(tch_f32, TchF32, gradients);
backend_conformance_tests!(tch_f16, TchF16, gradients);
backend_conformance_tests!(tch_bf16, TchBf16, gradients);

backend_conformance_tests!(tch_cuda_f32, TchF32<Cuda>, gradients);
