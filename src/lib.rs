//! placeholder
pub use tiled_occlusion_core::*;
