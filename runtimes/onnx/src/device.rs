//! Where the model's calls run: the CPU, or a CUDA GPU through ONNX Runtime's CUDA execution
//! provider.

use std::fmt;
use std::str::FromStr;

use tiled_occlusion_core::backend::DeviceSpec;

/// The device the model runs on, written as the candle and tch backends write theirs:
/// `cpu`, `cuda` (the first GPU) or `cuda:N`.
///
/// Only ONNX Runtime runs models on a GPU, and only from a library built with the CUDA
/// execution provider (the `onnxruntime-gpu` package); tract runs on the CPU.
///
/// ```
/// use tiled_occlusion_onnx::Device;
///
/// assert_eq!("cuda:1".parse::<Device>(), Ok(Device::Cuda(1)));
/// assert_eq!("CUDA".parse::<Device>(), Ok(Device::Cuda(0)));
/// assert_eq!(Device::Cpu.to_string(), "cpu");
/// assert!("gpu".parse::<Device>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// The CPU.
    #[default]
    Cpu,
    /// The CUDA GPU of this index (ONNX Runtime's `device_id`).
    Cuda(u16),
}

impl Device {
    /// Whether this is a GPU.
    pub fn is_gpu(&self) -> bool {
        matches!(self, Device::Cuda(_))
    }
}

impl FromStr for Device {
    type Err = String;

    /// `cpu`, `cuda` or `cuda:N` with `N` at most 65 535, in any case (read by the core's
    /// [`DeviceSpec`], as the candle and tch backends read theirs).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || format!("unknown device `{s}`: use cpu, cuda or cuda:N");
        let spec = DeviceSpec::parse(&s.to_ascii_lowercase()).map_err(|_| unknown())?;
        match (spec.kind.as_str(), spec.ordinal) {
            ("cpu", None) => Ok(Device::Cpu),
            ("cuda", ordinal) => u16::try_from(ordinal.unwrap_or(0))
                .map(Device::Cuda)
                .map_err(|_| format!("device `{s}`: the GPU index must be a number from 0 to {}", u16::MAX)),
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Device;

    #[test]
    fn devices_parse_and_print_back() {
        for device in [Device::Cpu, Device::Cuda(0), Device::Cuda(7), Device::Cuda(u16::MAX)] {
            assert_eq!(device.to_string().parse::<Device>(), Ok(device));
        }
        assert_eq!("Cuda:3".parse::<Device>(), Ok(Device::Cuda(3)));
        for bad in ["", "gpu", "cuda:", "cuda:-1", "cuda:65536", "cuda:1e3", "cuda:99999999999999999999", "metal:0"] {
            let error = bad.parse::<Device>().expect_err(bad);
            assert!(error.contains(&format!("`{bad}`")), "{error}");
        }
        assert!(Device::Cuda(0).is_gpu() && !Device::Cpu.is_gpu());
    }
}
