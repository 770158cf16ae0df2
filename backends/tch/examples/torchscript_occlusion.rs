//! Occlusion of a TorchScript model on an input stored as `.npy`, timed: the tch side of
//! `benches/scripts/compare_with_captum.py`.
//!
//! `cargo run --release -p tiled-occlusion-tch --example torchscript_occlusion -- MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS [parallel]]`
//! with WINDOW and STRIDES as `3,18,18`. Sequential calls on THREADS libtorch intra-op threads
//! (default 1), or with `parallel` THREADS calls side by side on one intra-op thread each
//! (`parallel_torchscript`). Prints the attribution's wall time in seconds.

use std::time::Instant;

use tch::{Device, Tensor};
use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
use tiled_occlusion_tch::{parallel_torchscript, TorchScriptModel};

fn numbers(text: &str) -> Result<Vec<usize>, std::num::ParseIntError> {
    text.split(',').map(str::parse).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, input, target, window, strides, out, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: torchscript_occlusion MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS [parallel]]".into(),
        );
    };
    let threads: usize = rest.first().map(|t| t.parse()).transpose()?.unwrap_or(1);
    let parallel = rest.get(1).is_some_and(|m| m == "parallel");
    let mut model = TorchScriptModel::load(model, Device::Cpu)?;
    let x = Tensor::read_npy(input)?;
    let method = Occlusion::new(numbers(window)?).with_strides(numbers(strides)?);
    let inputs = Inputs::new(&x).with_target(Target::Class(target.parse()?));
    let start = Instant::now();
    let map = if parallel {
        tch::set_num_threads(1);
        let mut pool = parallel_torchscript(model.into_inner(), threads)?;
        method.attribute(&mut pool, &inputs)?
    } else {
        tch::set_num_threads(threads as i32);
        method.attribute(&mut model, &inputs)?
    };
    let seconds = start.elapsed().as_secs_f64();
    map.write_npy(out)?;
    println!("{seconds:.3}");
    Ok(())
}
