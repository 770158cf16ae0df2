//! For backend authors: the tensor trait a framework implements, and the host-side helpers.

mod device_spec;
mod element;
mod gradient;
mod host_fill;
mod region;
mod tensor;

pub use device_spec::DeviceSpec;
pub use element::Element;
pub use gradient::GradientBackend;
pub use host_fill::{fill_occluded_batch, HostBaseline};
pub use region::{row_major_strides, BoxRegion, Region, RegionBatch};
pub use tensor::{Backend, TensorOf};
