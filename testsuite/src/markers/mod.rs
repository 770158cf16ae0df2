//! The marker types of the project's backends, defined once: each is an element type on a
//! device with its tolerance, and what the backend crates' tests and the `conformance` runner
//! stamp the suite out for.
//!
//! | Markers | Tensors | Tolerance |
//! |---|---|---|
//! | [`NdarrayF64`], [`NdarrayF32`] (feature `ndarray`) | `ndarray::ArrayD<f64 \| f32>` | `1e-10`, `1e-4` |
//! | [`CandleF64`], [`CandleF32`], [`CandleF16`], [`CandleBf16`] (feature `candle`) | `candle_core::Tensor` on `D` | `1e-10`, `1e-4`, `1e-2`, `5e-2` |
//! | [`TchF64`], [`TchF32`], [`TchF16`], [`TchBf16`] (feature `tch`) | `tch::Tensor` on `D` | `1e-10`, `1e-4`, `1e-2`, `5e-2` |
//!
//! The device axis `D` is a [`TestDevice`]: [`Cpu`] (the default, so `CandleF32` is
//! `CandleF32<Cpu>`) or [`Cuda`] (device 0). A CUDA marker compiles everywhere and is
//! skipped, with a message, where this build or machine has no CUDA device
//! ([`TestBackend::skip_reason`](crate::TestBackend::skip_reason)). The candle and tch markers
//! are also [`GradientTestBackend`](crate::GradientTestBackend)s.

mod device;

#[cfg(feature = "candle")]
mod candle;
#[cfg(feature = "ndarray")]
mod ndarray;
#[cfg(feature = "tch")]
mod tch;

#[cfg(feature = "candle")]
#[cfg_attr(docsrs, doc(cfg(feature = "candle")))]
pub use self::candle::{CandleBf16, CandleF16, CandleF32, CandleF64};
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use self::ndarray::{NdarrayF32, NdarrayF64};
#[cfg(feature = "tch")]
#[cfg_attr(docsrs, doc(cfg(feature = "tch")))]
pub use self::tch::{TchBf16, TchF16, TchF32, TchF64};
pub use device::{Cpu, Cuda, DeviceKind, TestDevice};

#[cfg(all(test, any(feature = "ndarray", feature = "candle", feature = "tch")))]
mod tests {
    use crate::test_backend::run;
    use crate::TestBackend;

    /// A marker that cannot run here is skipped, its test body never entered; one that can
    /// runs it.
    fn skips_exactly_when_unavailable<T: TestBackend>() {
        let mut ran = false;
        run::<T>(|| ran = true);
        assert_eq!(ran, T::skip_reason().is_none(), "{}", T::NAME);
    }

    /// A marker refuses a shape whose product overflows, a dimension past `i64` (which tch
    /// once turned into `-1` and inferred), and data that does not fill the shape.
    fn refuses_impossible_shapes<T: TestBackend>() {
        let error = |shape: &[usize], data: &[f64]| match T::tensor(shape, data) {
            Err(e) => e,
            Ok(_) => panic!("{}: a tensor of shape {shape:?} from {} values", T::NAME, data.len()),
        };
        assert_eq!(
            error(&[1 << 32, 1 << 32, 2], &[1.0]),
            "shape [4294967296, 4294967296, 2]: the number of elements overflows",
            "{}",
            T::NAME
        );
        assert_eq!(
            error(&[usize::MAX, 4], &[1.0; 4]),
            format!("shape [{}, 4]: dimension {} does not fit a signed 64-bit size", usize::MAX, usize::MAX),
            "{}",
            T::NAME
        );
        assert_eq!(error(&[1, 4], &[1.0; 3]), "shape [1, 4] has 4 elements, but the data has 3 values", "{}", T::NAME);
        assert!(T::tensor(&[2, 2], &[1.0; 4]).is_ok(), "{}", T::NAME);
    }

    #[test]
    fn cpu_markers_refuse_impossible_shapes() {
        #[cfg(feature = "ndarray")]
        {
            refuses_impossible_shapes::<super::NdarrayF64>();
            refuses_impossible_shapes::<super::NdarrayF32>();
        }
        #[cfg(feature = "candle")]
        {
            refuses_impossible_shapes::<super::CandleF64>();
            refuses_impossible_shapes::<super::CandleBf16>();
        }
        #[cfg(feature = "tch")]
        {
            refuses_impossible_shapes::<super::TchF64>();
            refuses_impossible_shapes::<super::TchF16>();
        }
    }

    #[test]
    fn cpu_markers_always_run_and_cuda_markers_run_only_with_a_device() {
        #[cfg(feature = "ndarray")]
        {
            assert_eq!(super::NdarrayF64::skip_reason(), None);
            skips_exactly_when_unavailable::<super::NdarrayF32>();
        }
        #[cfg(feature = "candle")]
        {
            assert_eq!(<super::CandleF32 as TestBackend>::skip_reason(), None);
            skips_exactly_when_unavailable::<super::CandleF32<super::Cuda>>();
            let cuda_build = candle_core::utils::cuda_is_available();
            if !cuda_build {
                assert!(super::CandleF32::<super::Cuda>::skip_reason().is_some(), "no CUDA in this build");
            }
        }
        #[cfg(feature = "tch")]
        {
            assert_eq!(<super::TchF32 as TestBackend>::skip_reason(), None);
            skips_exactly_when_unavailable::<super::TchF32<super::Cuda>>();
            assert_eq!(super::TchF32::<super::Cuda>::skip_reason().is_none(), tch::Cuda::is_available());
            assert_eq!(<super::TchF32<super::Cuda> as TestBackend>::NAME, "tch-cuda-f32");
        }
    }
}
