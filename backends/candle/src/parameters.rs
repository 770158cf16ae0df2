//! candle models whose parameters live in a `candle_nn::VarMap`, so FusionGrad can perturb
//! them.

use candle_core::{Module, Tensor, Var};
use candle_nn::VarMap;
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::model::{ModelError, Parameters};
use tiled_occlusion_core::{Error, Forward, Result};

use crate::backend::backend_error;
use crate::Candle;

/// A candle `Module` together with the `VarMap` its parameters were created in (through a
/// `VarBuilder::from_varmap`), exposing them as [`Parameters`] so
/// [`FusionGrad`](tiled_occlusion_core::FusionGrad) can perturb and restore them.
///
/// Every variable is a parameter except batch-normalisation running statistics (names
/// ending in `running_mean` or `running_var`), which NoiseGrad leaves alone. Perturbed values
/// are written with `Var::set`, so the module sees them without being rebuilt; restoring
/// writes the saved copies back bit for bit.
///
/// ```
/// use candle_core::{DType, Device, Module, Tensor};
/// use candle_nn::{linear, VarBuilder, VarMap};
/// use tiled_occlusion_candle::VarMapModel;
/// use tiled_occlusion_core::{Attribution, FusionGrad, Inputs, Occlusion, Target};
///
/// let varmap = VarMap::new();
/// let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
/// let layer = linear(4, 2, vb.pp("head"))?;
/// let mut model = VarMapModel::new(layer, varmap);
/// let before = model.varmap().all_vars().iter().map(|v| v.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>())).collect::<Result<Vec<_>, _>>()?;
/// let x = Tensor::ones((1, 4), DType::F32, &Device::Cpu)?;
/// let _map = FusionGrad::new(Occlusion::new([2])).with_weight_samples(3).attribute(&mut model, &Inputs::new(&x).with_target(Target::Class(1)))?;
/// let after = model.varmap().all_vars().iter().map(|v| v.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>())).collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(before, after);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct VarMapModel<M> {
    module: M,
    varmap: VarMap,
    /// The saved copies, latest last (saves nest).
    saved: Vec<Vec<(String, Tensor)>>,
}

impl<M: Module> VarMapModel<M> {
    /// `module`, whose parameters are the variables of `varmap`.
    pub fn new(module: M, varmap: VarMap) -> Self {
        VarMapModel { module, varmap, saved: Vec::new() }
    }

    /// The module.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The variables.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The perturbable variables, sorted by name.
    fn variables(&self) -> Result<Vec<(String, Var)>> {
        let data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| Error::backend("candle: reading the VarMap", "its lock is poisoned"))?;
        let mut vars: Vec<(String, Var)> = data
            .iter()
            .filter(|(name, _)| !(name.ends_with("running_mean") || name.ends_with("running_var")))
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(vars)
    }
}

impl<M: Module> Forward for VarMapModel<M> {
    type Backend = Candle;

    fn forward(&mut self, batch: &Tensor) -> std::result::Result<Tensor, ModelError> {
        self.module.forward(batch).map_err(Into::into)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        Some(self)
    }
}

impl<M: Module> Parameters for VarMapModel<M> {
    fn save(&mut self) -> Result<()> {
        let copies = self
            .variables()?
            .into_iter()
            .map(|(name, var)| var.as_tensor().copy().map(|t| (name, t)))
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(|e| backend_error("saving the parameters", e))?;
        self.saved.push(copies);
        Ok(())
    }

    fn restore(&mut self) -> Result<()> {
        let saved = self
            .saved
            .pop()
            .ok_or_else(|| Error::backend("candle: restoring the parameters", "restore called before save"))?;
        let vars = self.variables()?;
        for (name, original) in &saved {
            if let Some((_, var)) = vars.iter().find(|(n, _)| n == name) {
                var.set(original).map_err(|e| backend_error(&format!("restoring parameter {name}"), e))?;
            }
        }
        Ok(())
    }

    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()> {
        for (name, var) in self.variables()? {
            let current = var.as_tensor();
            let mut values = Candle::to_f64_vec(current)?;
            noise(&name, &mut values);
            let perturbed = Candle::from_f64_slice(current, current.dims(), &values)?;
            var.set(&perturbed).map_err(|e| backend_error(&format!("perturbing parameter {name}"), e))?;
        }
        Ok(())
    }
}
