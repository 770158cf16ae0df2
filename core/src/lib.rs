//! # tiled-occlusion-core
//!
//! Attribution methods for neural networks, written once and run on any tensor framework:
//! which parts of an input made the model give this output? The core is framework-free; a
//! *backend* crate (`tiled-occlusion-ndarray`, `-candle`, `-tch`) lets it read and build the
//! framework's own tensors, and the facade crate `tiled-occlusion` puts the two together.
//!
//! ## The methods
//!
//! | Method | What it computes, per input element | Needs |
//! |---|---|---|
//! | [`Occlusion`] | the mean drop of the target score over the windows that cover it (Captum's) | any backend |
//! | [`TiledOcclusion`] | the same with `k` shifted tilings of big windows: resolution `w/k` at the cost of stride `w/k` | any backend |
//! | [`FeatureAblation`] | the drop when its group of a [`FeatureMask`] is ablated | any backend |
//! | [`Saliency`] | `\|∂F/∂x\|` | a [`backend::GradientBackend`] |
//! | [`InputXGradient`] | `x ⊙ ∂F/∂x` | a [`backend::GradientBackend`] |
//! | [`IntegratedGradients`] | `(x − b) ⊙ ∫₀¹ ∂F/∂x(b + α(x − b)) dα`, by an [`IntegrationRule`] | a [`backend::GradientBackend`] |
//! | [`NoiseTunnel`] | any method averaged over noisy inputs (SmoothGrad, SmoothGradSq, VarGrad) | what the inner method needs |
//! | [`FusionGrad`] | any method averaged over noisy parameters and inputs | a model exposing its [`model::Parameters`] |
//!
//! Each type's page gives its formula and its number of model calls; the exact contract is
//! the project's `docs/SEMANTICS.md`.
//!
//! ## One call
//!
//! Every method implements [`Attribution`]: give it a model ([`Forward`]; a closure through
//! [`FnModel`] or a backend's shorthand, several calls at once through [`Parallel`]) and the
//! [`Inputs`] of the call (the input batch, the [`Baseline`] occluded positions take, the
//! [`Target`] score to explain), and it returns a map of the input's shape and element type.
//!
//! ```
//! use ndarray::{ArrayD, Axis, IxDyn};
//! use tiled_occlusion_core::{Attribution, Inputs, Occlusion, TiledOcclusion};
//! use tiled_occlusion_ndarray::model;
//!
//! // A model that scores each example by the sum of its values.
//! let mut sum = model(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
//! let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//!
//! let occlusion = Occlusion::new([2]).with_strides(2).attribute(&mut sum, &Inputs::new(&x))?;
//! assert_eq!(occlusion.as_slice().unwrap(), &[3.0, 3.0, 7.0, 7.0]);
//! // TiledOcclusion with k = 1 is Occlusion with strides equal to the window.
//! let tiled = TiledOcclusion::new([2], [1]).attribute(&mut sum, &Inputs::new(&x))?;
//! assert_eq!(tiled, occlusion);
//! # Ok::<(), tiled_occlusion_core::Error>(())
//! ```
//!
//! Nothing here panics on user input: every invalid setting is an [`Error`] that names the
//! builder method or value to fix.
//!
//! ## Where to go next
//!
//! The root holds the 25 names a user of the methods types, and nothing else: the eight
//! methods, the seven types their settings take ([`TilingMode`], [`Aggregation`],
//! [`FeatureMask`], [`IntegrationRule`], [`NoiseTunnelType`], [`InputNoise`], [`WeightNoise`]),
//! the five of one call ([`Attribution`], [`Inputs`], [`Baseline`], [`Target`], [`Contrast`]),
//! the three model types a user builds ([`Forward`], [`FnModel`], [`Parallel`]), and
//! [`Error`] and [`Result`]. What an author of a method, a model adapter or a backend needs
//! lives in the layer it belongs to, as candle and burn keep theirs in a `backend` module:
//!
//! - [`attribution`]: the interface every method implements, its inputs, progress hooks;
//! - [`perturbation`]: the occlusion engine, its region schedules and per-dimension settings;
//! - [`gradient`] and [`noise`]: the gradient methods and the noise wrappers with their
//!   seeded noise streams;
//! - [`metrics`]: faithfulness curves and map statistics, to compare methods;
//! - [`model`]: what a model is, for writing model adapters and parallel runners;
//! - [`backend`]: the tensor trait and the host-side helpers, for writing a backend.
#![warn(missing_docs)]

pub mod attribution;
pub mod backend;
mod error;
pub mod gradient;
pub mod metrics;
pub mod model;
pub mod noise;
pub mod perturbation;
#[cfg(test)]
mod test_host;

// The user's page: the methods and their settings, one call's inputs, models, errors.
#[doc(inline)]
pub use attribution::{Attribution, Baseline, Contrast, Inputs, MultiAttribution, MultiInputs, Target};
pub use error::{try_reserve, try_with_capacity, Error, Result};
#[doc(inline)]
pub use gradient::{InputXGradient, IntegratedGradients, IntegrationRule, Saliency};
#[doc(inline)]
pub use model::{FnModel, FnMultiModel, Forward, MultiForward, Parallel};
#[doc(inline)]
pub use noise::{FusionGrad, InputNoise, NoiseTunnel, NoiseTunnelType, WeightNoise};
#[doc(inline)]
pub use perturbation::{
    Aggregation, FeatureAblation, FeatureMask, MaskLayout, Occlusion, PerInput, TiledOcclusion, TilingMode,
};
