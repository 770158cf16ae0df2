//! The tch (libtorch) backend of `tiled-occlusion`: explain a PyTorch model from Rust.
//!
//! Inputs are `tch::Tensor`s of kind `Float`, `Double`, `Half` or `BFloat16` on the CPU or a
//! CUDA device; models are TorchScript modules ([`TorchScript`]), `nn::Module`s
//! ([`NnModule`]) or closures ([`model`]), all evaluated under `no_grad`. Perturbed batches
//! are built on the input's device; drops are accumulated in `f64` on the host and the map is
//! returned in the input's kind, on its device.
//!
//! [`Tch`] implements the core's [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend)
//! with libtorch's autograd, so the gradient methods ([`Saliency`](tiled_occlusion_core::Saliency),
//! [`InputXGradient`](tiled_occlusion_core::InputXGradient),
//! [`IntegratedGradients`](tiled_occlusion_core::IntegratedGradients)) run on every model of
//! this crate, TorchScript modules included; the models switch `no_grad` off for the batches
//! a gradient method tracks.
//!
//! Building needs libtorch; see the repository's README (`scripts/env/libtorch-env.sh`).
//!
//! ```no_run
//! use tch::{Device, Kind, Tensor};
//! use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
//! use tiled_occlusion_tch::TorchScript;
//!
//! let mut model = TorchScript::load("model.pt", Device::Cpu)?;
//! let image = Tensor::rand([1, 3, 224, 224], (Kind::Float, Device::Cpu));
//! let inputs = Inputs::new(&image).with_target(Target::Class(281));
//! let map = Occlusion::new([3, 18, 18]).with_strides([3, 9, 9]).attribute(&mut model, &inputs)?;
//! # Ok::<(), tiled_occlusion_core::Error>(())
//! ```
#![warn(missing_docs)]

mod device;
mod gradient;
mod models;
mod parallel_torchscript;
mod parameters;
mod tch_backend;

pub use device::device;
pub use models::{model, NnModule, TchFn, TorchScript};
pub use parallel_torchscript::parallel_torchscript;
pub use parameters::VarStoreModule;
pub use tch;
pub use tch_backend::Tch;
