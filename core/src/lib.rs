//! The framework-free core of `tiled-occlusion`.
//!
//! Perturbation attributions (Occlusion, TiledOcclusion, FeatureAblation) written once over
//! the small [`Backend`] trait: the core plans which regions are occluded in which model
//! call, selects targets, and accumulates output drops in `f64` on the host; a backend only
//! builds perturbed batches where its data lives and converts tensors to and from host data.
//!
//! Gradient methods ([`Saliency`], [`InputXGradient`], [`IntegratedGradients`]) are written
//! here too, over the optional [`GradientBackend`] extension that backends with autograd
//! (candle, tch) implement; the noise wrappers [`NoiseTunnel`] and [`FusionGrad`] take any
//! [`Attribution`], gradient or perturbation.
//!
//! The contract every method follows is the project's `SEMANTICS.md`; each method's
//! documentation gives its formula. Nothing here panics on user input: every invalid
//! configuration returns an [`Error`] that names the offending value.
#![warn(missing_docs)]

mod attribution;
mod backend;
mod error;
mod gradient;
mod metrics;
mod model;
mod noise;
mod perturbation;

pub use attribution::{Attribution, Inputs};
pub use attribution::{Baseline, BaselineValue};
pub use attribution::{Contrast, Target};
pub use attribution::{NestedProgress, NoProgress, ProgressCounter, ProgressHook};
pub use backend::DeviceSpec;
pub use backend::Element;
pub use backend::GradientBackend;
pub use backend::{fill_occluded_batch, HostBaseline};
pub use backend::{row_major_strides, BoxRegion, Region, RegionBatch};
pub use backend::{Backend, TensorOf};
pub use error::{Error, ModelError, Result};
pub use gradient::{InputXGradient, IntegratedGradients, IntegrationRule, Saliency};
pub use metrics::{
    entropy_complexity, gaussian_blur, gini_sparseness, normalized_total_variation, trapezoid_auc, DeletionInsertion,
    MapGeometry, PerturbationCurve, RegionPerturbation, Score,
};
pub use model::{FnModel, Forward, ModelJobs, Parallel, Parameters};
pub use noise::{
    derive_seed, name_stream, FusionGrad, InputNoise, NoiseStream, NoiseTunnel, NoiseTunnelType, WeightNoise,
};
pub use perturbation::{
    Aggregation, FeatureAblation, FeatureMask, GroupSchedule, Occlusion, PerDimension, RegionSchedule, TiledOcclusion,
    TilingMode, WindowGrid, WindowSchedule,
};
