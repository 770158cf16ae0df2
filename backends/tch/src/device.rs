//! Choosing a tch device by name, with an error that says what is missing.

use tch::Device;
use tiled_occlusion_core::backend::DeviceSpec;
use tiled_occlusion_core::{Error, Result};

/// The tch device named by `spec`: `cpu`, `cuda` or `cuda:N`. Asking for a CUDA device that
/// libtorch cannot see is an error that says so.
///
/// ```no_run
/// assert!(tiled_occlusion_tch::device("cpu").is_ok());
/// assert!(tiled_occlusion_tch::device("tpu").is_err());
/// ```
pub fn device(spec: &str) -> Result<Device> {
    let DeviceSpec { kind, ordinal } = DeviceSpec::parse(spec)?;
    match (kind.as_str(), ordinal) {
        ("cpu", None) => Ok(Device::Cpu),
        ("cuda", ordinal) => {
            let ordinal = ordinal.unwrap_or(0);
            let available = tch::Cuda::device_count().max(0) as usize;
            if ordinal < available {
                Ok(Device::Cuda(ordinal))
            } else if available == 0 {
                Err(Error::Device {
                    device: spec.to_string(),
                    reason: "libtorch sees no CUDA device (no GPU, no driver, or a CPU-only libtorch)".into(),
                    source: None,
                })
            } else {
                Err(Error::Device {
                    device: spec.to_string(),
                    reason: format!("libtorch sees only {available} CUDA devices"),
                    source: None,
                })
            }
        }
        _ => Err(Error::Device {
            device: spec.to_string(),
            reason: "not a device; use cpu, cuda or cuda:N".into(),
            source: None,
        }),
    }
}
