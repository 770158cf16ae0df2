//! The library behind the `tiled-occlusion` command: ONNX classifiers through tract, photo
//! preprocessing, heat maps and the `explain` command itself. The benchmarks use it too.
#![warn(missing_docs)]

pub mod cli_error;
pub mod comparison;
pub mod evaluate;
pub mod explain;
pub mod explain_args;
pub mod gallery;
pub mod heatmap;
pub mod image_input;
pub mod labels;
pub mod method_config;
pub mod model_options;
pub mod onnx_model;
pub mod progress_report;
pub mod text;
pub mod window_spec;
