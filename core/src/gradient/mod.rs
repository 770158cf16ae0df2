//! Gradient methods: [`Saliency`], [`InputXGradient`] and [`IntegratedGradients`] (with its
//! quadrature [`IntegrationRule`]s), for backends with autograd
//! ([`GradientBackend`](crate::backend::GradientBackend)).
//!
//! On a backend without autograd (ndarray) these methods do not implement
//! [`Attribution`](crate::Attribution): asking for one is a compile-time error.

mod input_gradient;
mod input_x_gradient;
mod integrated_gradients;
mod integration_rule;
mod saliency;

pub use input_x_gradient::InputXGradient;
pub use integrated_gradients::IntegratedGradients;
pub use integration_rule::IntegrationRule;
pub use saliency::Saliency;
