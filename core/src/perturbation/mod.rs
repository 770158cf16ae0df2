//! Perturbation methods: Occlusion, TiledOcclusion and FeatureAblation over one engine.

mod engine;
mod feature_ablation;
mod feature_mask;
mod occlusion;
mod per_dimension;
mod reference_tiling;
mod schedule;
mod tiled_occlusion;

pub use feature_ablation::{FeatureAblation, GroupSchedule};
pub use feature_mask::FeatureMask;
pub use occlusion::Occlusion;
pub use per_dimension::PerDimension;
pub use schedule::{RegionSchedule, WindowGrid, WindowSchedule};
pub use tiled_occlusion::{Aggregation, TiledOcclusion, TilingMode};
