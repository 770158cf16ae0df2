//! Gradient methods, for backends with autograd.

mod input_gradient;
mod input_x_gradient;
mod integrated_gradients;
mod integration_rule;
mod saliency;

pub use input_x_gradient::InputXGradient;
pub use integrated_gradients::IntegratedGradients;
pub use integration_rule::IntegrationRule;
pub use saliency::Saliency;
