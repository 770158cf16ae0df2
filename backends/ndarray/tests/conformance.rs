//! The shared suite, stamped out for `ArrayD<f64>` and `ArrayD<f32>` (ndarray lives on the
//! host: no device axis, and no gradient methods).

use tiled_occlusion_testsuite::backend_conformance_tests;
use tiled_occlusion_testsuite::markers::{NdarrayF32, NdarrayF64};

backend_conformance_tests!(ndarray_f64, NdarrayF64);
backend_conformance_tests!(ndarray_f32, NdarrayF32);
