//! ONNX models as models of `tiled-occlusion`'s ndarray backend (`f32`), on two runtimes.
//!
//! [`OnnxModel`] is one type whatever runs it:
//! - **tract** (feature `tract`): pure Rust, nothing to install, one thread per call;
//! - **ONNX Runtime** (feature `ort`), through the `ort` crate with `load-dynamic`: nothing
//!   is downloaded or linked at build time; `libonnxruntime` is loaded when the first model
//!   opens, from the path given ([`OnnxOptions::ort_library`]), `ORT_DYLIB_PATH`, the
//!   `onnxruntime` Python package of a `.venv` in the current directory, beside the executable
//!   or in a parent of either (where the repository's `scripts/env/setup-onnxruntime.sh`
//!   installs it), or the system's library path; see [`load_ort_library`]. A missing, foreign
//!   or too old library is an [`OnnxError`] that names the file and the fix.
//!
//! [`RuntimeChoice::Auto`] (the default) takes ONNX Runtime when its library loads and tract
//! otherwise, and says why in [`OnnxModel::runtime_note`].
//!
//! # Devices
//! Calls run on the CPU, or with [`OnnxOptions::device`]`(`[`Device::Cuda`]`(n))` on a CUDA
//! GPU through ONNX Runtime's CUDA execution provider, from the `onnxruntime-gpu` build of
//! the library ([`GPU_LIBRARY_FIX`] says how to get it). A GPU is never a silent fallback:
//! a library without the provider, or a provider that fails to start, is an
//! [`OnnxError::DeviceUnavailable`]; tract on a GPU is an [`OnnxError::DeviceUnsupported`],
//! and [`RuntimeChoice::Auto`] with a GPU means ONNX Runtime or an error.
//!
//! # Models
//! One explained `f32` input `(N, d_1, …, d_m)` and an `f32` output `(N, classes)` (the first
//! output, or the one named in [`OnnxOptions::output`]). A model of several inputs explains
//! one of them ([`OnnxOptions::explained_input`]; by default the only one without a value)
//! while every other is held at a [`FixedInput`] value (`f32` or `i64`; given for one example
//! and repeated to the rows of each call along its batch axis, or passed unchanged), so each
//! input of a model can be explained in turn with the others fixed. A symbolic batch `N` lets ONNX Runtime run all
//! rows of a batch in one call; a fixed batch runs in chunks of its size. The per-example
//! shape is the declared one, an explicit one ([`OnnxOptions::example_shape`]) or an image's
//! ([`OnnxOptions::image`], [`InputGeometry::detect`]). Loading checks all of this with typed
//! errors (a declared batch of 0, a negative dimension, softmax over one value per example
//! among them) and one call on a zero example, allocated fallibly ([`OnnxError::OutOfMemory`]).
//! Declared shapes print as [`declared_text`] writes them (`[?, 3, ?]`).
//!
//! # Softmax
//! [`softmax_rows`] (and [`OnnxOptions::softmax`]) normalises each example's values together:
//! the classes of `(N, classes)`. `−∞` entries beside finite ones get 0; a row holding NaN or
//! `+∞`, or `−∞` only, is NaN throughout (no distribution to take, and none made up).
//!
//! # Execution plan
//! [`ExecutionPlan`]: inference sessions × intra-op threads per session × rows per model call.
//! [`PlanRequest::resolve`] fills in what the caller leaves open from documented rules (every
//! core as one single-threaded session each; on ONNX Runtime, rows per call by input size). Attribution
//! methods take the rows per call as their `perturbations_per_eval`
//! ([`ExecutionPlan::perturbations_per_eval`]). Maps do not depend on the plan: tested
//! bit-identical across sessions and threads, and equal to rounding across rows per call.
//!
//! # Example
//! A tiny classifier (`(N, 3, 16, 16)` to 3 classes, class 0 reading only the top-left 8 × 8
//! quarter) on tract, two sessions:
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
//! use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, Runtime, RuntimeChoice};
//!
//! # if !cfg!(feature = "tract") { return Ok(()); }
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny_classifier.onnx");
//! let options = OnnxOptions::default().runtime(RuntimeChoice::Tract).sessions(2);
//! let mut model = OnnxModel::load(path, &options)?;
//! assert_eq!((model.runtime(), model.classes(), model.example_shape()), (Runtime::Tract, 3, &[3, 16, 16][..]));
//!
//! let x = ArrayD::from_elem(IxDyn(&[1, 3, 16, 16]), 1.0f32);
//! let occlusion = Occlusion::new([3, 8, 8])
//!     .with_strides([3, 8, 8])
//!     .with_perturbations_per_eval(model.plan().perturbations_per_eval);
//! let map = occlusion.attribute(&mut model, &Inputs::new(&x).with_target(Target::Class(0)))?;
//! // Class 0 reads only the top-left quarter: the other quarters' occlusions change nothing.
//! assert!(map[[0, 0, 0, 0]].abs() > 0.0);
//! assert_eq!(map[[0, 0, 15, 15]], 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

#[cfg(not(any(feature = "tract", feature = "ort")))]
compile_error!("tiled-occlusion-onnx needs at least one runtime: enable the `tract` or the `ort` feature");

mod declared_dims;
mod device;
mod execution_plan;
mod fixed_input;
mod input_geometry;
mod input_spec;
mod model_signature;
mod onnx_error;
mod onnx_model;
mod onnx_options;
#[cfg(feature = "ort")]
mod ort_library;
#[cfg(feature = "ort")]
mod ort_sessions;
mod runtime_choice;
mod softmax;
#[cfg(feature = "tract")]
mod tract_plan;

pub use device::Device;
pub use execution_plan::{
    gpu_default_rows, ort_default_rows, ExecutionPlan, PlanRequest, GPU_MAX_ROWS, GPU_VALUES_PER_CALL,
    MAX_PLAN_THREADS, ORT_MAX_ROWS, ORT_VALUES_PER_CALL,
};
pub use fixed_input::{FixedInput, FixedValue};
pub use input_geometry::{InputGeometry, Layout};
pub use input_spec::{InputSpec, MAX_VALUES_PER_CALL};
pub use model_signature::{declared_text, BatchDimension, ModelSignature, TensorSignature};
pub use onnx_error::{OnnxError, GPU_LIBRARY_FIX, GPU_SESSION_FIX, ORT_LIBRARY_FIX};
pub use onnx_model::OnnxModel;
pub use onnx_options::OnnxOptions;
#[cfg(feature = "ort")]
pub use ort_library::{load_ort_library, OrtLibrary, MINIMUM_ORT_MINOR, ORT_DYLIB_PATH};
pub use runtime_choice::{Runtime, RuntimeChoice};
pub use softmax::softmax_rows;
