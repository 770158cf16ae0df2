//! Metrics to compare attribution maps: faithfulness curves that query the model
//! ([`DeletionInsertion`], [`RegionPerturbation`]) and statistics of a map alone
//! ([`normalized_total_variation`], [`entropy_complexity`], [`gini_sparseness`]).
//!
//! Positions and channels of an example are described by a [`MapGeometry`]; curves record a
//! [`Score`] per step and are summarised by their area ([`trapezoid_auc`]).

mod blur;
mod curve;
mod deletion_insertion;
mod geometry;
mod map_statistics;
mod model_scores;
mod region_perturbation;

pub use blur::{gaussian_blur, MAX_BLUR_SIGMA};
pub use curve::{trapezoid_auc, PerturbationCurve};
pub use deletion_insertion::DeletionInsertion;
pub use geometry::MapGeometry;
pub use map_statistics::{entropy_complexity, gini_sparseness, normalized_total_variation};
pub use model_scores::Score;
pub use region_perturbation::RegionPerturbation;
