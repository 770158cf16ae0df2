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
mod baseline;
mod device_spec;
mod element;
mod error;
mod faithfulness;
mod feature_ablation;
mod forward;
mod fusion_grad;
mod gradient_backend;
mod host_fill;
mod input_x_gradient;
mod integrated_gradients;
mod integration_rule;
mod map_statistics;
mod noise;
mod noise_tunnel;
mod occlusion;
mod output_drops;
mod parallel;
mod parameters;
mod per_dimension;
mod progress;
mod reference_tiling;
mod region;
mod region_schedule;
mod saliency;
mod sample_mean;
mod target;
mod tiled_occlusion;

pub use attribution::{Attribution, Inputs};
pub use backend::{Backend, TensorOf};
pub use baseline::{Baseline, BaselineValue};
pub use device_spec::DeviceSpec;
pub use element::Element;
pub use error::{Error, ModelError, Result};
pub use faithfulness::{
    gaussian_blur, trapezoid_auc, DeletionInsertion, MapGeometry, PerturbationCurve, RegionPerturbation, Score,
};
pub use feature_ablation::{FeatureAblation, FeatureMask, GroupSchedule};
pub use forward::{FnModel, Forward, ModelJobs};
pub use fusion_grad::{FusionGrad, WeightNoise};
pub use gradient_backend::GradientBackend;
pub use host_fill::{fill_occluded_batch, HostBaseline};
pub use input_x_gradient::InputXGradient;
pub use integrated_gradients::IntegratedGradients;
pub use integration_rule::IntegrationRule;
pub use map_statistics::{entropy_complexity, gini_sparseness, normalized_total_variation};
pub use noise::{derive_seed, name_stream, InputNoise, NoiseStream};
pub use noise_tunnel::{NoiseTunnel, NoiseTunnelType};
pub use occlusion::Occlusion;
pub use parallel::Parallel;
pub use parameters::Parameters;
pub use per_dimension::PerDimension;
pub use progress::{NestedProgress, NoProgress, ProgressCounter, ProgressHook};
pub use region::{row_major_strides, BoxRegion, Region, RegionBatch};
pub use region_schedule::{RegionSchedule, WindowGrid, WindowSchedule};
pub use saliency::Saliency;
pub use target::{Contrast, Target};
pub use tiled_occlusion::{Aggregation, TiledOcclusion, TilingMode};
