//! Perturbing and restoring the parameters of tch models (`VarStore`-backed modules and
//! TorchScript modules), bit for bit.

use tch::nn::{Module, VarStore};
use tch::Tensor;
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::model::{ModelError, Parameters};
use tiled_occlusion_core::{Error, Forward, Result};

use crate::backend::backend_error;
use crate::{ModuleModel, Tch, TorchScriptModel};

/// Deep copies of named tensors, kept for restoring them: a stack, latest last (saves nest).
#[derive(Default)]
pub(crate) struct SavedTensors(Vec<Vec<(String, Tensor)>>);

impl SavedTensors {
    /// Pushes a copy of every tensor of `named`.
    pub(crate) fn save(&mut self, named: &[(String, Tensor)]) -> Result<()> {
        let copies = tch::no_grad(|| {
            named
                .iter()
                .map(|(name, t)| {
                    let mut copy = t.f_empty_like()?;
                    copy.f_copy_(t)?;
                    Ok((name.clone(), copy))
                })
                .collect::<std::result::Result<Vec<_>, tch::TchError>>()
        })
        .map_err(|e| backend_error("saving the parameters", e))?;
        self.0.push(copies);
        Ok(())
    }

    /// Pops the latest copies and writes them back into the tensors of `named` with the same
    /// names.
    pub(crate) fn restore(&mut self, named: &mut [(String, Tensor)]) -> Result<()> {
        let saved = self
            .0
            .pop()
            .ok_or_else(|| Error::backend("tch: restoring the parameters", "restore called before save"))?;
        tch::no_grad(|| {
            for (name, original) in &saved {
                if let Some((_, t)) = named.iter_mut().find(|(n, _)| n == name) {
                    t.f_copy_(original).map_err(|e| backend_error(&format!("restoring parameter {name}"), e))?;
                }
            }
            Ok(())
        })
    }
}

/// Perturbs every tensor of `named` in place, in name order.
fn perturb_named(named: &mut [(String, Tensor)], noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()> {
    named.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, t) in named.iter_mut() {
        let mut values = Tch::to_f64_vec(t)?;
        noise(name, &mut values);
        let perturbed = Tch::from_f64_slice(t, &Tch::shape(t), &values)?;
        tch::no_grad(|| t.f_copy_(&perturbed))
            .map_err(|e| backend_error(&format!("perturbing parameter {name}"), e))?;
    }
    Ok(())
}

/// A `tch::nn::Module` together with the `VarStore` its parameters live in, exposing the
/// trainable variables as [`Parameters`] for
/// [`FusionGrad`](tiled_occlusion_core::FusionGrad). Variables that do not require gradients
/// (batch-norm running statistics, frozen weights) are left alone. Evaluated under `no_grad`
/// (with autograd when a gradient method tracks the batch);
/// a panicking `forward` becomes an error, as with [`ModuleModel`].
pub struct VarStoreModel<M> {
    module: ModuleModel<M>,
    vs: VarStore,
    saved: SavedTensors,
}

impl<M: Module> VarStoreModel<M> {
    /// `module`, whose parameters are the trainable variables of `vs`.
    pub fn new(module: M, vs: VarStore) -> Self {
        VarStoreModel { module: ModuleModel::new(module), vs, saved: SavedTensors::default() }
    }

    /// The variable store.
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// The module.
    pub fn module(&self) -> &M {
        self.module.module()
    }

    fn trainable(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect()
    }
}

impl<M: Module> Forward for VarStoreModel<M> {
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> std::result::Result<Tensor, ModelError> {
        self.module.forward(batch)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        Some(self)
    }
}

impl<M: Module> Parameters for VarStoreModel<M> {
    fn save(&mut self) -> Result<()> {
        let named = self.trainable();
        self.saved.save(&named)
    }

    fn restore(&mut self) -> Result<()> {
        self.saved.restore(&mut self.trainable())
    }

    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()> {
        perturb_named(&mut self.trainable(), noise)
    }
}

impl TorchScriptModel {
    fn named_parameters(&self) -> Result<Vec<(String, Tensor)>> {
        self.module().named_parameters().map_err(|e| backend_error("listing the TorchScript parameters", e))
    }
}

/// The parameters of a TorchScript module (`named_parameters`: weights and biases, not
/// buffers such as running statistics).
impl Parameters for TorchScriptModel {
    fn save(&mut self) -> Result<()> {
        let named = self.named_parameters()?;
        self.saved_mut().save(&named)
    }

    fn restore(&mut self) -> Result<()> {
        let mut named = self.named_parameters()?;
        self.saved_mut().restore(&mut named)
    }

    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()> {
        perturb_named(&mut self.named_parameters()?, noise)
    }
}
