//! # tiled-occlusion
//!
//! Perturbation attributions for neural networks: **Occlusion**, **TiledOcclusion** and
//! **FeatureAblation**, written once over a small [`Backend`](backend::Backend) trait and run on the tensor
//! library your model already uses.
//!
//! Occlusion replaces a window of the input by a baseline and records how much the model's
//! target output drops; each position's attribution is the mean drop of the windows that
//! cover it. TiledOcclusion keeps windows of size `w` but lays `k` tilings shifted by `w/k`
//! per dimension, so the map has resolution `w/k` for the cost of Occlusion at that stride;
//! with `k = 1` it is exactly Occlusion with strides equal to the window. The exact contract,
//! formulas and where we differ from Captum are in `docs/SEMANTICS.md`.
//!
//! Gradient methods (Saliency, InputXGradient, IntegratedGradients) run on the backends with
//! autograd (candle, tch), and NoiseTunnel and FusionGrad wrap any method.
//!
//! This crate re-exports the core ([`tiled_occlusion_core`]) and, behind features, the
//! backends: `ndarray` (default) as the module `ndarray`, `candle` (features `candle`,
//! `candle-cuda`, `candle-metal`) as `candle`, `tch` as `tch`.
//!
//! ```
//! # #[cfg(feature = "ndarray")] {
//! use tiled_occlusion::ndarray::ndarray::{ArrayD, Axis, IxDyn};
//! use tiled_occlusion::ndarray::model;
//! use tiled_occlusion::{Attribution, Inputs, Occlusion, TiledOcclusion};
//!
//! // A model that scores each example by the sum of its values.
//! let mut sum = model(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
//! let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//!
//! // k = 1 is Occlusion with strides = window.
//! let tiled = TiledOcclusion::new([2], [1]).attribute(&mut sum, &Inputs::new(&x)).unwrap();
//! let plain = Occlusion::new([2]).with_strides([2]).attribute(&mut sum, &Inputs::new(&x)).unwrap();
//! assert_eq!(tiled, plain);
//! assert_eq!(plain.as_slice().unwrap(), &[3.0, 3.0, 7.0, 7.0]);
//! # }
//! ```
#![warn(missing_docs)]

pub use tiled_occlusion_core::*;

/// The ndarray backend: `ndarray::ArrayD<f32 | f64>` inputs, closures as models and a
/// parallel runner (see [`tiled_occlusion_ndarray`]).
#[cfg(feature = "ndarray")]
pub mod ndarray {
    pub use tiled_occlusion_ndarray::*;
}

/// The candle backend: `candle_core::Tensor` inputs (`f16`, `bf16`, `f32`, `f64`) on any
/// device, `Module`s and closures as models (see [`tiled_occlusion_candle`]).
#[cfg(feature = "candle")]
pub mod candle {
    pub use tiled_occlusion_candle::*;
}

/// The tch backend: `tch::Tensor` inputs (`Float`, `Double`, `Half`, `BFloat16`) on the CPU or
/// CUDA, TorchScript modules, `nn::Module`s and closures as models (see [`tiled_occlusion_tch`]).
#[cfg(feature = "tch")]
pub mod tch {
    pub use tiled_occlusion_tch::*;
}

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "ndarray", feature = "candle", feature = "tch"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
