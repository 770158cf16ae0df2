//! Choosing a candle device by name, with an error that says what is missing.

use candle_core::Device;
use tiled_occlusion_core::backend::DeviceSpec;
use tiled_occlusion_core::{Error, Result};

/// The candle device named by `spec`: `cpu`, `cuda` or `cuda:N`, `metal` or `metal:N`.
///
/// Asking for a device this build cannot reach is an error that says why: the `cuda` or
/// `metal` feature is off (facade features `candle-cuda`, `candle-metal`), or the device is
/// absent.
///
/// ```
/// assert!(tiled_occlusion_candle::device("cpu").is_ok());
/// let e = tiled_occlusion_candle::device("tpu").unwrap_err();
/// assert!(e.to_string().contains("tpu"));
/// ```
pub fn device(spec: &str) -> Result<Device> {
    let DeviceSpec { kind, ordinal } = DeviceSpec::parse(spec)?;
    let (explicit, ordinal) = (ordinal.is_some(), ordinal.unwrap_or(0));
    match kind.as_str() {
        "cpu" if !explicit => Ok(Device::Cpu),
        "cuda" => {
            if !cfg!(feature = "cuda") {
                return Err(unsupported(spec, "CUDA", "cuda", "candle-cuda"));
            }
            Device::new_cuda(ordinal).map_err(|e| absent(spec, e))
        }
        "metal" => {
            if !cfg!(feature = "metal") {
                return Err(unsupported(spec, "Metal", "metal", "candle-metal"));
            }
            Device::new_metal(ordinal).map_err(|e| absent(spec, e))
        }
        _ => Err(Error::Device {
            device: spec.to_string(),
            reason: "not a device; use cpu, cuda, cuda:N, metal or metal:N".into(),
            source: None,
        }),
    }
}

fn unsupported(spec: &str, name: &str, feature: &str, facade_feature: &str) -> Error {
    Error::Device {
        device: spec.to_string(),
        reason: format!(
            "this build has no {name} support: enable the `{feature}` feature of tiled-occlusion-candle \
             (`{facade_feature}` of tiled-occlusion)"
        ),
        source: None,
    }
}

fn absent(spec: &str, e: candle_core::Error) -> Error {
    Error::Device { device: spec.to_string(), reason: "not available".into(), source: Some(Box::new(e)) }
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn names_the_problem() {
        assert!(matches!(device("cpu"), Ok(candle_core::Device::Cpu)));
        for (spec, needle) in [("cuda:x", "not a device number"), ("gpu", "not a device"), ("cpu:1", "not a device")] {
            let message = device(spec).map(|_| ()).unwrap_err().to_string();
            assert!(message.contains(needle), "{spec}: {message}");
        }
        #[cfg(not(feature = "cuda"))]
        assert!(device("cuda:0").map(|_| ()).unwrap_err().to_string().contains("`cuda` feature"));
        #[cfg(not(feature = "metal"))]
        assert!(device("metal").map(|_| ()).unwrap_err().to_string().contains("`metal` feature"));
    }
}
