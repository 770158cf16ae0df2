//! Faithfulness metrics and statistics of attribution maps.

mod blur;
mod curve;
mod deletion_insertion;
mod geometry;
mod map_statistics;
mod model_scores;
mod region_perturbation;

pub use blur::gaussian_blur;
pub use curve::{trapezoid_auc, PerturbationCurve};
pub use deletion_insertion::DeletionInsertion;
pub use geometry::MapGeometry;
pub use map_statistics::{entropy_complexity, gini_sparseness, normalized_total_variation};
pub use model_scores::Score;
pub use region_perturbation::RegionPerturbation;
