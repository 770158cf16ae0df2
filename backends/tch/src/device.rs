//! Choosing a tch device by name, with an error that says what is missing.

use tch::Device;
use tiled_occlusion_core::backend::DeviceSpec;
use tiled_occlusion_core::{Error, Result};

use crate::cuda_library::load_cuda_library;

/// The tch device named by `spec`: `cpu`, `cuda` or `cuda:N`. Asking for a CUDA device that
/// libtorch cannot see is an error that says why (a CPU-only libtorch, a CUDA library that does
/// not load, no GPU).
///
/// For `cuda`, libtorch's CUDA library (`libtorch_cuda.so`, beside the `libtorch_cpu.so` the
/// process runs on) is loaded first if it is not in the process yet: a Rust binary uses none of
/// its symbols, so the linker leaves it out, and libtorch would see no GPU. libtorch looks for
/// CUDA once per process: call this before any other use of CUDA.
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
            let library = load_cuda_library();
            let available = tch::Cuda::device_count().max(0) as usize;
            if ordinal < available {
                Ok(Device::Cuda(ordinal))
            } else if available == 0 {
                Err(Error::Device { device: spec.to_string(), reason: library.no_device_reason(), source: None })
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
