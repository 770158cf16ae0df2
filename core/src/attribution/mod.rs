//! What every method shares: the [`Attribution`] interface, the [`Inputs`] of one call (the
//! input, the [`Baseline`] occluded positions take, the [`Target`] score), and progress
//! reporting ([`ProgressHook`]; [`ProgressCounter`] for methods that wrap other methods).
//!
//! A method of your own implements [`Attribution`] and is at once usable with every model,
//! every backend it supports, and the noise wrappers.

mod baseline;
mod inputs;
mod method;
mod multi_inputs;
mod output_scores;
mod progress;
mod target;

pub use baseline::Baseline;
pub(crate) use baseline::ResolvedBaseline;
pub(crate) use inputs::check_input_shape;
pub use inputs::Inputs;
pub use method::Attribution;
pub use multi_inputs::{MultiAttribution, MultiInputs};
pub(crate) use output_scores::OutputScores;
pub use progress::{NestedProgress, NoProgress, ProgressCounter, ProgressHook};
pub(crate) use target::TargetSelector;
pub use target::{Contrast, Target};
