//! Models whose parameters a wrapper may perturb and must restore.

use crate::error::Result;

/// The perturbable parameters of a model (weights, biases, normalisation scales and shifts;
/// not running statistics), as [`FusionGrad`](crate::FusionGrad) needs them.
///
/// A model exposes them through [`Forward::parameters`](crate::Forward::parameters). The
/// contract: after `save`, any number of `perturb` calls followed by `restore` leave every
/// parameter bit-for-bit as it was at `save`.
pub trait Parameters {
    /// Keeps a bit-exact copy of every parameter, for [`Parameters::restore`].
    fn save(&mut self) -> Result<()>;

    /// Puts the copy kept by the last [`Parameters::save`] back, bit for bit. An error if
    /// nothing was saved.
    fn restore(&mut self) -> Result<()>;

    /// Replaces every parameter by its perturbed value: for each parameter, `noise(name, v)`
    /// gets a host copy `v` of its values (row-major, as `f64`) and changes it in place; the
    /// result is written back in the parameter's own element type and device.
    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()>;
}
