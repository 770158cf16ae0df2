//! Noise wrappers around any method: NoiseTunnel and FusionGrad, with seeded noise.

mod fusion_grad;
mod input_noise;
mod noise_tunnel;
mod sample_moments;
mod stream;
mod weight_noise;

pub use fusion_grad::FusionGrad;
pub(crate) use input_noise::check_spread;
pub use input_noise::InputNoise;
pub use noise_tunnel::{NoiseTunnel, NoiseTunnelType};
pub(crate) use sample_moments::SampleMoments;
pub use stream::{derive_seed, name_stream, NoiseStream};
pub use weight_noise::WeightNoise;
