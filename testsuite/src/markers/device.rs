//! The device axis of the markers.

/// Which device a marker puts its tensors on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// The CPU: always there.
    Cpu,
    /// CUDA device 0: where the build and the machine have one.
    Cuda,
}

/// A device type parameter of the markers ([`Cpu`] or [`Cuda`]).
pub trait TestDevice: Send + Sync + 'static {
    /// The device.
    const KIND: DeviceKind;
}

/// The CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

impl TestDevice for Cpu {
    const KIND: DeviceKind = DeviceKind::Cpu;
}

/// CUDA device 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cuda;

impl TestDevice for Cuda {
    const KIND: DeviceKind = DeviceKind::Cuda;
}
