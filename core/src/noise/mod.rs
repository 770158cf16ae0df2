//! Noise wrappers around any method: [`NoiseTunnel`] (SmoothGrad, SmoothGradSq, VarGrad over
//! noisy inputs) and [`FusionGrad`] (noisy parameters and inputs).
//!
//! The noise is drawn on the host from seeded [`NoiseStream`]s, one per noisy copy
//! ([`derive_seed`], [`name_stream`]), so the same seed gives the same result on every
//! backend and for every batch size.

mod fusion_grad;
mod input_noise;
mod noise_tunnel;
mod sample_moments;
mod several_inputs;
mod stream;
mod weight_noise;

pub use fusion_grad::FusionGrad;
pub(crate) use input_noise::check_spread;
pub use input_noise::InputNoise;
pub use noise_tunnel::{NoiseTunnel, NoiseTunnelType};
pub(crate) use sample_moments::SampleMoments;
pub use stream::{derive_seed, name_stream, NoiseStream};
pub use weight_noise::WeightNoise;
