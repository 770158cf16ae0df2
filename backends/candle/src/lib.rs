//! The candle backend of `tiled-occlusion`: explain a candle model without leaving candle.
//!
//! Inputs are `candle_core::Tensor`s of dtype `f16`, `bf16`, `f32` or `f64` on any device;
//! models are any `candle_core::Module` ([`ModuleModel`]) or closure ([`model`]). Perturbed
//! batches are built on the input's device; drops are accumulated in `f64` on the host and
//! the map is returned in the input's dtype, on its device.
//!
//! - [`Candle`]: the backend, with autograd for the gradient methods;
//! - models: [`model`] makes a model of a closure, [`ModuleModel`] of a
//!   `Module`;
//! - [`VarMapModel`]: a `Module` with the `VarMap` of its parameters, which
//!   it exposes to [`FusionGrad`](tiled_occlusion_core::FusionGrad);
//! - [`device()`]: a device by the name users type (`cpu`, `cuda:1`, `metal`).
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use tiled_occlusion_candle::model;
//! use tiled_occlusion_core::{Attribution, Inputs, TiledOcclusion};
//!
//! let mut sum = model(|x: &Tensor| x.sum(1));
//! let x = Tensor::new(&[[1f64, 2., 3., 4.]], &Device::Cpu)?;
//! let a = TiledOcclusion::new([2], [2]).attribute(&mut sum, &Inputs::new(&x))?;
//! // Every position is covered by one window of each of the two phases.
//! assert_eq!(a.to_vec2::<f64>()?, [[2.0, 4.0, 6.0, 5.5]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Candle has autograd, so [`Candle`] implements the core's
//! [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend) and the gradient methods run on
//! any candle model that builds its output from its input with candle operations:
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use tiled_occlusion_candle::model;
//! use tiled_occlusion_core::{Attribution, Inputs, IntegratedGradients, Saliency};
//!
//! // F(x) = x · w with w = (1, −2, 3).
//! let w = Tensor::new(&[[1f64], [-2.], [3.]], &Device::Cpu)?;
//! let mut linear = model(move |x: &Tensor| x.matmul(&w));
//! let x = Tensor::new(&[[2f64, 1., 1.]], &Device::Cpu)?;
//! let saliency = Saliency::new().attribute(&mut linear, &Inputs::new(&x))?;
//! assert_eq!(saliency.to_vec2::<f64>()?, [[1.0, 2.0, 3.0]]); // |w|
//! let ig = IntegratedGradients::new().attribute(&mut linear, &Inputs::new(&x))?;
//! for (a, want) in ig.to_vec2::<f64>()?[0].iter().zip([2.0, -2.0, 3.0]) {
//!     assert!((a - want).abs() < 1e-12); // (x − 0) ⊙ w
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
#![doc = document_features::document_features!()]
#![warn(missing_docs)]

mod backend;
mod device;
mod gradient;
mod models;
mod parameters;

pub use backend::Candle;
/// The `candle-core` this crate is built against.
pub use candle_core;
/// The `candle-nn` this crate is built against.
pub use candle_nn;
pub use device::device;
pub use models::{model, ModuleModel};
pub use parameters::VarMapModel;
