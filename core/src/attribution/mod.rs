//! What every method shares: the [`Attribution`] interface, the [`Inputs`] of one call (input,
//! [`Baseline`], [`Target`]) and progress reporting.

mod baseline;
mod inputs;
mod method;
mod progress;
mod target;

pub(crate) use baseline::ResolvedBaseline;
pub use baseline::{Baseline, BaselineValue};
pub(crate) use inputs::check_input_shape;
pub use inputs::Inputs;
pub use method::Attribution;
pub use progress::{NestedProgress, NoProgress, ProgressCounter, ProgressHook};
pub(crate) use target::TargetSelector;
pub use target::{Contrast, Target};
