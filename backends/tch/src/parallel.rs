//! TorchScript model calls on several threads at once.

use tch::{CModule, TchError, Tensor};
use tiled_occlusion_core::{Parallel, Result};

use crate::models::grad_if_tracked;
use crate::Tch;

/// A TorchScript module whose model calls run on `threads` threads at once, through the
/// core's [`Parallel`] runner: the calling thread builds the batches in order and runs calls
/// too, `threads − 1` workers run the others, outputs are scored in call order.
///
/// libtorch parallelises each operator over its intra-op thread pool (`tch::set_num_threads`,
/// process-wide). Occlusion's calls are small (one image per call by default), and running
/// them side by side with one intra-op thread each keeps the cores busier: measured on our
/// 2-core machine, EfficientNet-Lite0's Occlusion (577 calls) took 8.5 s this way against
/// 13.9 s for sequential calls on 2 intra-op threads. Call `tch::set_num_threads(1)` yourself
/// for that; we do not change a process-wide setting behind your back. The map can differ from
/// the sequential one in the last bits, as libtorch's reductions differ between thread counts.
///
/// Calls run under `no_grad` (with autograd for the batches a gradient method tracks).
/// `CModule` is `Sync`, so the threads share one module. FusionGrad needs the module's
/// parameters: use [`TorchScriptModel`](crate::TorchScriptModel) for it.
///
/// ```
/// use tch::{CModule, Device, Kind, Tensor};
/// use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
/// use tiled_occlusion_tch::parallel_torchscript;
///
/// tch::set_num_threads(1);
/// let module = CModule::load_on_device("tests/fixtures/small_cnn.pt", Device::Cpu)?;
/// let mut model = parallel_torchscript(module, 2)?;
/// let image = Tensor::rand([1, 3, 11, 11], (Kind::Float, Device::Cpu));
/// let map = Occlusion::new([3, 4, 4]).with_strides([3, 2, 2])
///     .attribute(&mut model, &Inputs::new(&image).with_target(Target::Class(1)))?;
/// assert_eq!(map.size(), [1, 3, 11, 11]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parallel_torchscript(
    module: CModule,
    threads: usize,
) -> Result<Parallel<Tch, impl Fn(&Tensor) -> std::result::Result<Tensor, TchError> + Sync>> {
    Parallel::with_threads(move |batch: &Tensor| grad_if_tracked(batch, || module.forward_ts(&[batch])), threads)
}
