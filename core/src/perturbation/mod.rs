//! Perturbation methods: [`Occlusion`], [`TiledOcclusion`] (with its reference mode) and
//! [`FeatureAblation`], over one engine.
//!
//! Each method turns its settings into a [`RegionSchedule`], an ordered list of regions to
//! occlude ([`WindowSchedule`]s, one [`AxisWindows`] per dimension, for the window methods;
//! [`GroupSchedule`] for feature groups), computed on demand: no list of windows, phases or
//! groups is ever made, and counting them is checked arithmetic; the engine evaluates the model on the unperturbed input and on
//! `P` regions per call, and sums each region's output drop into the positions it covers.
//! Per-dimension settings (strides, `k`) are given as a [`PerDimension`].

mod engine;
mod feature_ablation;
mod feature_mask;
mod occlusion;
mod partial;
mod per_dimension;
mod per_input;
mod reference_tiling;
mod schedule;
mod tiled_occlusion;

pub use feature_ablation::{FeatureAblation, GroupSchedule};
pub use feature_mask::{FeatureMask, MaskLayout};
pub use occlusion::Occlusion;
pub use partial::{PartialAttribution, PartitionedAttribution, SchedulePart};
pub use per_dimension::PerDimension;
pub use per_input::PerInput;
pub use reference_tiling::MAX_REFERENCE_PHASES;
pub use schedule::{AxisWindows, RegionSchedule, WindowSchedule};
pub use tiled_occlusion::{Aggregation, TiledOcclusion, TilingMode};
