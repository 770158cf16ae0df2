//! The tch (libtorch) backend of `tiled-occlusion`: explain a PyTorch model from Rust.
//!
//! Inputs are `tch::Tensor`s of kind `Float`, `Double`, `Half` or `BFloat16` on the CPU or a
//! CUDA device; models are TorchScript modules ([`TorchScriptModel`]), `nn::Module`s
//! ([`ModuleModel`]) or closures ([`model`]), all evaluated under `no_grad`. Perturbed batches
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
//! - [`Tch`]: the backend, with libtorch's autograd for the gradient methods;
//! - models: [`model`] makes a model of a closure, [`ModuleModel`] of an `nn::Module`,
//!   [`TorchScriptModel`] of a TorchScript file (it exposes its parameters to
//!   [`FusionGrad`](tiled_occlusion_core::FusionGrad)), [`parallel_torchscript`] one whose
//!   calls run on several threads;
//! - [`VarStoreModel`]: an `nn::Module` with the `VarStore` of its parameters, which it
//!   exposes to [`FusionGrad`](tiled_occlusion_core::FusionGrad);
//! - [`device()`]: a device by the name users type (`cpu`, `cuda`, `cuda:1`).
//!
//! Building needs libtorch; see the repository's docs/backends.md (`scripts/env/libtorch-env.sh`).
//!
//! ```no_run
//! use tch::{Device, Kind, Tensor};
//! use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
//! use tiled_occlusion_tch::TorchScriptModel;
//!
//! let mut model = TorchScriptModel::load("model.pt", Device::Cpu)?;
//! let image = Tensor::rand([1, 3, 224, 224], (Kind::Float, Device::Cpu));
//! let inputs = Inputs::new(&image).with_target(Target::Class(281));
//! let map = Occlusion::new([3, 18, 18]).with_strides([3, 9, 9]).attribute(&mut model, &inputs)?;
//! # Ok::<(), tiled_occlusion_core::Error>(())
//! ```
#![warn(missing_docs)]

mod backend;
mod cuda_library;
mod device;
mod gradient;
mod models;
mod parallel;
mod parameters;

pub use backend::Tch;
pub use device::device;
pub use models::{model, ModuleModel, TorchScriptModel};
pub use parallel::parallel_torchscript;
pub use parameters::VarStoreModel;
/// The `tch` this crate is built against.
pub use tch;
