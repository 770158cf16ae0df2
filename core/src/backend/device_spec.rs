//! Devices named the way users write them (`cpu`, `cuda:1`), for backends to resolve.

use crate::error::{Error, Result};

/// A device name split into its kind and optional ordinal: `cuda:1` → (`cuda`, `Some(1)`),
/// `cpu` → (`cpu`, `None`). Backends decide which kinds exist.
///
/// ```
/// use tiled_occlusion_core::backend::DeviceSpec;
/// let d = DeviceSpec::parse("cuda:1").unwrap();
/// assert_eq!((d.kind.as_str(), d.ordinal), ("cuda", Some(1)));
/// assert!(DeviceSpec::parse("cuda:x").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// `cpu`, `cuda`, `metal`, …
    pub kind: String,
    /// The device number after `:`, if any.
    pub ordinal: Option<usize>,
}

impl DeviceSpec {
    /// Parses `kind` or `kind:N`.
    pub fn parse(spec: &str) -> Result<DeviceSpec> {
        match spec.split_once(':') {
            Some((kind, n)) => {
                let ordinal = n.parse::<usize>().map_err(|_| Error::Device {
                    device: spec.to_string(),
                    reason: format!("{n:?} is not a device number"),
                    source: None,
                })?;
                Ok(DeviceSpec { kind: kind.to_string(), ordinal: Some(ordinal) })
            }
            None => Ok(DeviceSpec { kind: spec.to_string(), ordinal: None }),
        }
    }
}
