//! # tiled-occlusion
//!
//! Attribution methods for neural networks, on the tensor library your model already uses:
//! which parts of an input made the model give this output? **Occlusion** (Captum's
//! semantics), **TiledOcclusion** (big windows at a fine resolution: `k` tilings shifted by
//! `w/k`, for the cost of Occlusion at that stride), **FeatureAblation**, the gradient methods
//! **Saliency**, **InputXGradient** and **IntegratedGradients**, and the noise wrappers
//! **NoiseTunnel** and **FusionGrad** around any of them.
//!
//! This crate is the front door: it re-exports the framework-free core
//! ([`tiled_occlusion_core`]: the methods, the [`Attribution`] interface and the layers
//! under it) and, behind features, the backends as the modules [`ndarray`](mod@ndarray),
//! [`candle`](mod@candle) and [`tch`](mod@tch). You pass and receive your framework's own
//! tensors.
//!
//! | Method | Attribution of each input element | Backends |
//! |---|---|---|
//! | [`Occlusion`] | mean drop of the target score over the windows covering it | all |
//! | [`TiledOcclusion`] | the same over `k` shifted tilings of windows of size `w` (resolution `w/k`) | all |
//! | [`FeatureAblation`] | drop when its group of a [`FeatureMask`] is ablated | all |
//! | [`Saliency`], [`InputXGradient`] | `\|∂F/∂x\|`, `x ⊙ ∂F/∂x` | candle, tch |
//! | [`IntegratedGradients`] | `(x − b) ⊙ ∫₀¹ ∂F/∂x(b + α(x − b)) dα` | candle, tch |
//! | [`NoiseTunnel`], [`FusionGrad`] | any method averaged over noisy inputs (and parameters) | those of the method |
//!
//! The formulas, the model calls each method makes and where we differ from Captum are in the
//! types' pages and in the project's `docs/SEMANTICS.md`.
//!
//! ## A first attribution
//!
//! With the default `ndarray` feature and your own `ndarray` dependency:
//!
//! ```
//! # #[cfg(feature = "ndarray")] {
//! use ndarray::{ArrayD, Axis, IxDyn};
//! use tiled_occlusion::ndarray::model;
//! use tiled_occlusion::{Attribution, Inputs, Occlusion, Target, TiledOcclusion};
//!
//! // Any closure from a batch to a batch of scores is a model: here (N, 4) -> (N, 2),
//! // class 0 the sum of the first half of each example, class 1 that of the second.
//! let mut classifier = model(|x: &ArrayD<f64>| {
//!     let first = x.slice(ndarray::s![.., ..2]).sum_axis(Axis(1));
//!     let second = x.slice(ndarray::s![.., 2..]).sum_axis(Axis(1));
//!     let scores = ndarray::stack(Axis(1), &[first.view(), second.view()]).map_err(|e| e.to_string())?;
//!     Ok::<_, String>(scores.into_dyn())
//! });
//! let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//! let inputs = Inputs::new(&x).with_target(Target::Class(1));
//!
//! // Hiding a window drops class 1 by the sum of the window's second-half elements.
//! let occlusion = Occlusion::new([2]).with_strides(2).attribute(&mut classifier, &inputs)?;
//! assert_eq!(occlusion.as_slice().unwrap(), &[0.0, 0.0, 7.0, 7.0]);
//! // TiledOcclusion with k = 1 is exactly Occlusion with strides equal to the window.
//! assert_eq!(TiledOcclusion::new([2], [1]).attribute(&mut classifier, &inputs)?, occlusion);
//! # }
//! # Ok::<(), tiled_occlusion::Error>(())
//! ```
//!
//! Every invalid setting is an [`Error`] that names what to fix, never a panic.
//!
//! ## Features
#![doc = document_features::document_features!()]
//!
//! ## Where to go next
//!
//! - the backend modules: [`ndarray`](mod@ndarray) (closures, [`Parallel`] runs calls on
//!   every core), [`candle`](mod@candle) (`Module`s, devices), [`tch`](mod@tch) (TorchScript
//!   files, `nn::Module`s, CUDA);
//! - the layers under the methods, for writing a method, a model adapter or a backend:
//!   [`attribution`], [`perturbation`], [`gradient`], [`noise`], [`model`], [`backend`];
//! - [`metrics`] to compare maps (deletion and insertion curves, AOPC, sparseness);
//! - in the repository: `docs/command.md` for the `tiled-occlusion` command, `docs/methods.md`
//!   for what each method computes, `docs/backends.md`, `docs/onnx.md`, `docs/distributed.md`, `docs/performance.md`,
//!   `docs/study.md`, `docs/testing.md` (the conformance suite, for backend authors), and
//!   `docs/SEMANTICS.md` for the contract.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub use tiled_occlusion_core::*;

/// The ndarray backend: `ndarray::ArrayD<f32 | f64>` inputs, closures as models and a
/// parallel runner (see [`tiled_occlusion_ndarray`]).
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod ndarray {
    pub use tiled_occlusion_ndarray::*;
}

/// The candle backend: `candle_core::Tensor` inputs (`f16`, `bf16`, `f32`, `f64`) on any
/// device, `Module`s and closures as models (see [`tiled_occlusion_candle`]).
#[cfg(feature = "candle")]
#[cfg_attr(docsrs, doc(cfg(feature = "candle")))]
pub mod candle {
    pub use tiled_occlusion_candle::*;
}

/// The tch backend: `tch::Tensor` inputs (`Float`, `Double`, `Half`, `BFloat16`) on the CPU or
/// CUDA, TorchScript modules, `nn::Module`s and closures as models (see [`tiled_occlusion_tch`]).
#[cfg(feature = "tch")]
#[cfg_attr(docsrs, doc(cfg(feature = "tch")))]
pub mod tch {
    pub use tiled_occlusion_tch::*;
}

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "ndarray", feature = "candle", feature = "tch"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The examples of `docs/`, compiled and run as doctests.
#[cfg(all(doctest, feature = "ndarray", feature = "candle", feature = "tch"))]
mod docs_doctests {
    /// `docs/methods.md`.
    #[doc = include_str!("../docs/methods.md")]
    pub struct Methods;
    /// `docs/backends.md`.
    #[doc = include_str!("../docs/backends.md")]
    pub struct Backends;
    /// `docs/testing.md`.
    #[doc = include_str!("../docs/testing.md")]
    pub struct Testing;
}
