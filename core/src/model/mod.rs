//! Models: what the methods call ([`Forward`]), closures as models ([`FnModel`]), the
//! parallel runner ([`Parallel`]), and what model adapters need.
//!
//! A model maps a batch to a batch whose first dimension is the number of rows it was given.
//! Backends provide adapters for their framework's modules; a runtime that can evaluate
//! several batches at once overrides [`Forward::forward_jobs`], which receives the
//! independent calls of an attribution as [`ModelJobs`]. A model whose parameters a wrapper
//! may perturb ([`FusionGrad`](crate::FusionGrad)) exposes them as [`Parameters`].

mod fn_model;
mod forward;
mod multi_forward;
mod panic;
mod parallel;
mod parameters;

pub use crate::error::ModelError;
pub use fn_model::FnModel;
pub use forward::{Forward, ModelJobs};
pub(crate) use multi_forward::PackedModel;
pub use multi_forward::{FnMultiModel, MultiForward};
pub use panic::panic_message;
pub use parallel::Parallel;
pub use parameters::Parameters;
