//! The library behind the `tiled-occlusion` command: photo preprocessing for ONNX classifiers
//! (which run through `tiled-occlusion-onnx`, on ONNX Runtime or tract), heat maps, and the
//! `explain` and `evaluate` commands themselves. The benchmarks use it too.
#![warn(missing_docs)]

pub mod bounded_read;
pub mod cli_error;
pub mod comparison;
pub mod dataset;
pub mod evaluate;
pub mod explain;
pub mod explain_args;
pub mod explain_tensor;
pub mod gallery;
pub mod heatmap;
pub mod image_input;
pub mod labels;
pub mod method_config;
pub mod model_options;
pub mod non_finite;
pub mod npy_file;
pub mod part_file;
pub mod progress_report;
pub mod run_checksum;
pub mod tensor_picture;
pub mod text;
pub mod window_spec;
