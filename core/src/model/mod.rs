//! Models: what the methods call, closures as models, and the parallel runner.

mod fn_model;
mod forward;
mod parallel;
mod parameters;

pub use fn_model::FnModel;
pub use forward::{Forward, ModelJobs};
pub use parallel::Parallel;
pub use parameters::Parameters;
