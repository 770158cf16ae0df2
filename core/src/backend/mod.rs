//! For backend authors: the tensor trait a framework implements, and what the core hands it.
//!
//! A backend is a marker type implementing [`Backend`] (shapes, host conversions, and the
//! perturbed batch of one model call) and, when its framework has autograd,
//! [`GradientBackend`]. The core does everything else on the host: it plans the
//! [`RegionBatch`] of every call, selects targets and accumulates the map in `f64`.
//!
//! Helpers for the two kinds of backend:
//!
//! - host backends (data in main memory) fill a batch with [`fill_occluded_batch`] from a
//!   [`HostBaseline`];
//! - device backends upload the small [`OcclusionMask`] of [`RegionBatch::occlusion_mask`]
//!   (per-dimension factors for window regions) and build the batch with one select where
//!   the data lives.
//!
//! [`Element`] is the element-type bound of host backends, [`DeviceSpec`] parses the device
//! names users type, and [`row_major_strides`] is the layout every host buffer uses. The
//! shared test suite (`tiled-occlusion-testsuite`) checks a new backend against every law of
//! the contract.

mod baseline_value;
mod device_spec;
mod element;
mod gradient;
mod host_fill;
mod occlusion_mask;
mod packed;
mod region;
mod tensor;

pub use baseline_value::BaselineValue;
pub use device_spec::DeviceSpec;
pub use element::Element;
pub use gradient::{ForwardFn, GradientBackend};
pub use host_fill::{fill_occluded_batch, HostBaseline};
pub use occlusion_mask::{MaskTensor, OcclusionMask};
pub(crate) use packed::packed_shape;
pub use packed::{Packed, PackedTensor, PartBaseline};
pub use region::{row_major_strides, BoxRegion, Region, RegionBatch};
pub use tensor::{Backend, TensorOf};
