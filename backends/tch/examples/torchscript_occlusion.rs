//! Occlusion of a TorchScript model on an input stored as `.npy`, timed: the tch side of
//! `benches/scripts/compare_with_captum.py`.
//!
//! `cargo run --release -p tiled-occlusion-tch --example torchscript_occlusion -- MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS [parallel]] [--device DEVICE] [--perturbations-per-eval P]`
//! with WINDOW and STRIDES as `3,18,18`. Sequential calls on THREADS libtorch intra-op threads
//! (default 1), or with `parallel` THREADS calls side by side on one intra-op thread each
//! (`parallel_torchscript`, CPU only). `--device cuda:0` runs the model and the input on that
//! GPU (`tiled_occlusion_tch::device`); `--perturbations-per-eval` sets the rows per call
//! (default 1). Prints the attribution's wall time in seconds, after a warm-up call on the
//! device (CUDA context, cuDNN's algorithm choice) that is not counted.

use std::time::Instant;

use tch::{Device, Tensor};
use tiled_occlusion_core::{Attribution, Forward, Inputs, Occlusion, Target};
use tiled_occlusion_tch::{parallel_torchscript, TorchScriptModel};

fn numbers(text: &str) -> Result<Vec<usize>, std::num::ParseIntError> {
    text.split(',').map(str::parse).collect()
}

/// The value of `--name VALUE` in `args`, removed from them; `--name` with no value after it
/// is an error, not the default.
fn take_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>, String> {
    let Some(at) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let value = args.get(at + 1).filter(|v| !v.starts_with("--")).cloned().ok_or(format!("{name} needs a value"))?;
    args.drain(at..at + 2);
    Ok(Some(value))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let device = tiled_occlusion_tch::device(&take_option(&mut args, "--device")?.unwrap_or_else(|| "cpu".into()))?;
    let rows: usize = take_option(&mut args, "--perturbations-per-eval")?.map(|p| p.parse()).transpose()?.unwrap_or(1);
    let [model, input, target, window, strides, out, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: torchscript_occlusion MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS [parallel]] \
                    [--device DEVICE] [--perturbations-per-eval P]"
                .into(),
        );
    };
    let threads: usize = rest.first().map(|t| t.parse()).transpose()?.unwrap_or(1);
    let parallel = rest.get(1).is_some_and(|m| m == "parallel");
    if parallel && device != Device::Cpu {
        return Err("`parallel` runs CPU calls side by side; a GPU runs one call's rows side by side instead".into());
    }
    let mut model = TorchScriptModel::load(model, device)?;
    let x = Tensor::read_npy(input)?.to_device(device);
    let method = Occlusion::new(numbers(window)?).with_strides(numbers(strides)?).with_perturbations_per_eval(rows);
    let inputs = Inputs::new(&x).with_target(Target::Class(target.parse()?));
    if device != Device::Cpu {
        // Warm-up on the device at the calls' batch size (CUDA context, cuDNN's algorithm
        // choice for that shape), not timed.
        let _warm = model.forward(&Tensor::cat(&vec![&x; rows.max(1)], 0)).map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let map = if parallel {
        tch::set_num_threads(1);
        let mut pool = parallel_torchscript(model.into_inner(), threads)?;
        method.attribute(&mut pool, &inputs)?
    } else {
        tch::set_num_threads(threads as i32);
        method.attribute(&mut model, &inputs)?
    };
    // The map is on the device; reading it back waits for the GPU's last kernels.
    let map = map.to_device(Device::Cpu);
    let seconds = start.elapsed().as_secs_f64();
    map.write_npy(out)?;
    println!("{seconds:.3}");
    Ok(())
}
