//! Models whose parameters a wrapper may perturb and must restore.

use crate::error::Result;

/// The perturbable parameters of a model (weights, biases, normalisation scales and shifts;
/// not running statistics), as [`FusionGrad`](crate::FusionGrad) needs them.
///
/// A model exposes them through [`Forward::parameters`](crate::Forward::parameters). Saves
/// form a stack, so wrappers nest (FusionGrad inside FusionGrad): `save` pushes a bit-exact
/// copy, `restore` pops the latest one and writes it back. The contract: after `save`, any
/// number of `perturb` calls and of balanced `save`/`restore` pairs, followed by `restore`,
/// leave every parameter bit-for-bit as it was at that `save`.
pub trait Parameters {
    /// Pushes a bit-exact copy of every parameter, for [`Parameters::restore`].
    fn save(&mut self) -> Result<()>;

    /// Pops the copy pushed by the latest unmatched [`Parameters::save`] and writes it back,
    /// bit for bit. An error if no save is pending.
    fn restore(&mut self) -> Result<()>;

    /// Replaces every parameter by its perturbed value: for each parameter, `noise(name, v)`
    /// gets a host copy `v` of its values (row-major, as `f64`) and changes it in place; the
    /// result is written back in the parameter's own element type and device.
    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()>;
}
