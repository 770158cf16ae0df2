//! How FusionGrad perturbs the model's parameters.

use crate::error::{Error, Result};
use crate::noise::check_spread;

/// How FusionGrad perturbs every parameter `W`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightNoise {
    /// `W · η`, `η ~ N(1, σ²)` per element (NoiseGrad's choice; the default, `σ = 0.2`).
    Multiplicative {
        /// `σ ≥ 0`.
        stdev: f64,
    },
    /// `W + η`, `η ~ N(μ, σ²)` per element.
    Additive {
        /// `μ`.
        mean: f64,
        /// `σ ≥ 0`.
        stdev: f64,
    },
}

impl Default for WeightNoise {
    fn default() -> Self {
        WeightNoise::Multiplicative { stdev: 0.2 }
    }
}

/// How errors name the weight noise's standard deviation.
const STDEV: &str = "the weight noise stdev (FusionGrad::with_weight_noise)";

impl WeightNoise {
    pub(crate) fn check(&self) -> Result<()> {
        match *self {
            WeightNoise::Multiplicative { stdev } => check_spread(STDEV, stdev),
            WeightNoise::Additive { mean, stdev } => {
                if !mean.is_finite() {
                    return Err(Error::OutOfRange {
                        setting: "the weight noise mean (FusionGrad::with_weight_noise)".into(),
                        value: mean,
                        allowed: "finite",
                    });
                }
                check_spread(STDEV, stdev)
            }
        }
    }

    pub(crate) fn apply(&self, w: f64, z: f64) -> f64 {
        match *self {
            WeightNoise::Multiplicative { stdev } => w * (1.0 + stdev * z),
            WeightNoise::Additive { mean, stdev } => w + (mean + stdev * z),
        }
    }
}
