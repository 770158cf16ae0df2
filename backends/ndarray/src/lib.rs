//! The ndarray backend of `tiled-occlusion`: `ndarray::ArrayD<E>` inputs (`f32`, `f64`, any
//! [`Element`](tiled_occlusion_core::backend::Element)), closures as models, and an explicit
//! parallel model runner.
//!
//! - [`Ndarray<E>`](Ndarray): the backend;
//! - models: [`model`] makes a model of a closure,
//!   [`parallel_model`] one whose calls run on every core; [`multi_model`] and
//!   [`parallel_multi_model`] the same for models of several inputs;
//! - [`ArrayModel`]: a model given by named parameter arrays, which it
//!   exposes to [`FusionGrad`](tiled_occlusion_core::FusionGrad).
//!
//! ```
//! use ndarray::{ArrayD, Axis, IxDyn};
//! use tiled_occlusion_core::{Attribution, Inputs, Occlusion};
//! use tiled_occlusion_ndarray::model;
//!
//! // A model that sums each example: occluding an element drops the score by its value.
//! let mut sum = model(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
//! let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//! let a = Occlusion::new([1]).attribute(&mut sum, &Inputs::new(&x)).unwrap();
//! assert_eq!(a.as_slice().unwrap(), &[1.0, 2.0, 3.0, 4.0]);
//! ```
//!
//! ndarray has no autograd, so [`Ndarray`] does not implement the core's
//! [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend): asking for a gradient method
//! is a compile-time error (E0277, the trait bound is not satisfied), never a wrong map at run
//! time. Use the candle or tch backend for gradients.
//!
//! ```compile_fail,E0277
//! use ndarray::{ArrayD, Axis, IxDyn};
//! use tiled_occlusion_core::{Attribution, Inputs, Saliency};
//! use tiled_occlusion_ndarray::model;
//!
//! let mut sum = model(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
//! let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//! let _ = Saliency::new().attribute(&mut sum, &Inputs::new(&x));
//! ```
#![warn(missing_docs)]

mod backend;
mod models;
mod parallel;
mod parameters;

pub use backend::Ndarray;
pub use models::{model, multi_model};
/// The `ndarray` this crate is built against.
pub use ndarray;
pub use parallel::{parallel_model, parallel_multi_model};
pub use parameters::{ArrayModel, ArrayParameters};
