//! How the noise wrappers perturb the input.

/// How a wrapper perturbs the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InputNoise {
    /// `X + ε`, `ε ~ N(0, stdev²)` per element (Captum's NoiseTunnel).
    Additive {
        /// `σ ≥ 0`.
        stdev: f64,
    },
    /// `X + ε`, `ε ~ N(0, (level · (max X_n − min X_n))²)` per element of example `n`:
    /// SmoothGrad's noise level, relative to each example's range.
    AdditiveRelative {
        /// The fraction of the range (SmoothGrad recommends 0.1–0.2), `≥ 0`.
        level: f64,
    },
    /// `X · η`, `η ~ N(1, stdev²)` per element.
    Multiplicative {
        /// `σ ≥ 0`.
        stdev: f64,
    },
}

impl InputNoise {
    /// Checks the standard deviation or level: finite and not negative.
    pub(crate) fn check(&self) -> crate::Result<()> {
        let (name, value) = match *self {
            InputNoise::Additive { stdev } | InputNoise::Multiplicative { stdev } => {
                ("the input noise stdev (with_stdev or with_input_noise)", stdev)
            }
            InputNoise::AdditiveRelative { level } => ("the input noise level (with_input_noise)", level),
        };
        check_spread(name, value)
    }

    /// Applies the noise `z` (standard normal draws, one per element) to one example `x`.
    pub(crate) fn apply(&self, x: &[f64], z: impl Iterator<Item = f64>, out: &mut Vec<f64>) {
        match *self {
            InputNoise::Additive { stdev } => out.extend(x.iter().zip(z).map(|(v, z)| v + stdev * z)),
            InputNoise::AdditiveRelative { level } => {
                let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
                let stdev = if hi >= lo { level * (hi - lo) } else { 0.0 };
                out.extend(x.iter().zip(z).map(|(v, z)| v + stdev * z));
            }
            InputNoise::Multiplicative { stdev } => out.extend(x.iter().zip(z).map(|(v, z)| v * (1.0 + stdev * z))),
        }
    }

    /// Applies given noise values (`ε` for additive noise, `η` for multiplicative) to `x`.
    pub(crate) fn apply_given(&self, x: &[f64], noise: &[f64], out: &mut Vec<f64>) {
        match self {
            InputNoise::Multiplicative { .. } => out.extend(x.iter().zip(noise).map(|(v, e)| v * e)),
            _ => out.extend(x.iter().zip(noise).map(|(v, e)| v + e)),
        }
    }
}

/// A standard deviation or noise level must be finite and not negative.
pub(crate) fn check_spread(setting: &str, value: f64) -> crate::Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(crate::Error::OutOfRange { setting: setting.into(), value, allowed: "finite and ≥ 0" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_kinds() {
        let mut out = Vec::new();
        InputNoise::Additive { stdev: 2.0 }.apply(&[1.0, 2.0], [0.5, -1.0].into_iter(), &mut out);
        assert_eq!(out, [2.0, 0.0]);
        out.clear();
        InputNoise::Multiplicative { stdev: 0.5 }.apply(&[4.0, 2.0], [1.0, -2.0].into_iter(), &mut out);
        assert_eq!(out, [6.0, 0.0]);
        out.clear();
        InputNoise::AdditiveRelative { level: 0.5 }.apply(&[0.0, 4.0], [1.0, 1.0].into_iter(), &mut out);
        assert_eq!(out, [2.0, 6.0]);
        assert!(InputNoise::Additive { stdev: -1.0 }.check().is_err());
        assert!(InputNoise::AdditiveRelative { level: f64::NAN }.check().is_err());
    }
}
