//! tch models as [`Forward`] models, evaluated under `no_grad` except when a gradient method
//! tracks the batch.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tch::{CModule, Tensor};
use tiled_occlusion_core::model::{panic_message, ModelError, Parameters};
use tiled_occlusion_core::{Error, FnModel, Forward, MultiForward, Result};

use crate::parameters::SavedTensors;
use crate::Tch;

/// Runs `f` under `no_grad`, unless `batch` requires grad (a gradient method is tracking it
/// through [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend)), in which
/// case autograd records the call.
pub(crate) fn grad_if_tracked<T>(batch: &Tensor, f: impl FnOnce() -> T) -> T {
    grad_if_any_tracked(std::slice::from_ref(batch), f)
}

/// [`grad_if_tracked`] for the inputs of a model of several: autograd when any requires grad.
pub(crate) fn grad_if_any_tracked<T>(batches: &[Tensor], f: impl FnOnce() -> T) -> T {
    if batches.iter().any(Tensor::requires_grad) {
        tch::with_grad(f)
    } else {
        tch::no_grad(f)
    }
}

/// A closure as a model of the tch backend, called under `no_grad` (with autograd when a
/// gradient method tracks the batch): `FnMut(&Tensor) -> Result<Tensor, Err>` for any error
/// that converts into a boxed error (`tch::TchError` does).
///
/// ```no_run
/// use tch::Tensor;
/// let mut m = tiled_occlusion_tch::model(|x: &Tensor| x.f_sum_dim_intlist(1, false, tch::Kind::Float));
/// # let _ = &mut m;
/// ```
pub fn model<F, Err>(mut f: F) -> FnModel<Tch, impl FnMut(&Tensor) -> std::result::Result<Tensor, Err>>
where
    F: FnMut(&Tensor) -> std::result::Result<Tensor, Err>,
    Err: Into<ModelError>,
{
    FnModel::new(move |batch: &Tensor| grad_if_tracked(batch, || f(batch)))
}

/// Any `tch::nn::Module` as a model, under `no_grad` (with autograd when a gradient method
/// tracks the batch). `nn::Module::forward` cannot return an error and panics when libtorch
/// fails; the panic is caught and returned as [`Error::Model`] with its message.
#[derive(Debug)]
pub struct ModuleModel<M> {
    module: M,
}

impl<M: tch::nn::Module> ModuleModel<M> {
    /// Wraps `module`.
    pub fn new(module: M) -> Self {
        ModuleModel { module }
    }

    /// The wrapped module.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// Gives the module back.
    pub fn into_inner(self) -> M {
        self.module
    }
}

impl<M: tch::nn::Module> Forward for ModuleModel<M> {
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> std::result::Result<Tensor, ModelError> {
        let module = &self.module;
        catch_unwind(AssertUnwindSafe(|| grad_if_tracked(batch, || module.forward(batch))))
            .map_err(|payload| format!("nn::Module::forward panicked: {}", panic_message(payload.as_ref())).into())
    }
}

/// A TorchScript module (`tch::CModule`, e.g. from `torch.jit.save`) as a model, called
/// through `forward_ts` under `no_grad` (with autograd when a gradient method tracks the
/// batch): an exception inside the module becomes [`Error::Model`] with libtorch's message,
/// not a panic. It exposes the module's parameters to
/// [`FusionGrad`](tiled_occlusion_core::FusionGrad).
pub struct TorchScriptModel {
    module: CModule,
    saved: SavedTensors,
}

impl std::fmt::Debug for TorchScriptModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchScriptModel").field("module", &self.module).finish_non_exhaustive()
    }
}

impl TorchScriptModel {
    /// Wraps a loaded module.
    pub fn new(module: CModule) -> Self {
        TorchScriptModel { module, saved: SavedTensors::default() }
    }

    /// Loads a TorchScript file onto `device`; a file libtorch cannot load is an
    /// [`Error::Backend`] naming the file, with libtorch's error as the source. On a CUDA device,
    /// libtorch's CUDA library is loaded first as [`device()`](crate::device) does.
    pub fn load(path: impl AsRef<std::path::Path>, device: tch::Device) -> Result<Self> {
        let path = path.as_ref();
        if device.is_cuda() {
            crate::cuda_library::load_cuda_library();
        }
        CModule::load_on_device(path, device)
            .map(Self::new)
            .map_err(|e| Error::backend(format!("tch: loading the TorchScript model {}", path.display()), e))
    }

    /// The wrapped module.
    pub fn module(&self) -> &CModule {
        &self.module
    }

    /// Gives the module back.
    pub fn into_inner(self) -> CModule {
        self.module
    }

    /// The copies kept for restoring the parameters.
    pub(crate) fn saved_mut(&mut self) -> &mut SavedTensors {
        &mut self.saved
    }
}

impl Forward for TorchScriptModel {
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> std::result::Result<Tensor, ModelError> {
        grad_if_tracked(batch, || self.module.forward_ts(&[batch])).map_err(Into::into)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        Some(self)
    }
}

/// A TorchScript module of several inputs (`forward(self, a, b, …)`), for
/// [`PerInput`](tiled_occlusion_core::PerInput) methods: one batch of each input, in order.
impl MultiForward for TorchScriptModel {
    type Backend = Tch;

    fn forward(&mut self, inputs: &[Tensor]) -> std::result::Result<Tensor, ModelError> {
        let module = &self.module;
        catch_unwind(AssertUnwindSafe(|| grad_if_any_tracked(inputs, || module.forward_ts(inputs))))
            .map_err(|panic| Error::backend("tch: the TorchScript module", panic_message(&*panic)))?
            .map_err(Into::into)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        Some(self)
    }
}
