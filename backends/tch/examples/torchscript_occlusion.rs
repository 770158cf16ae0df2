//! Occlusion of a TorchScript model on an input stored as `.npy`, timed: the tch side of
//! `scripts/compare_with_captum.py`.
//!
//! `cargo run --release -p tiled-occlusion-tch --example torchscript_occlusion -- MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS]`
//! with WINDOW and STRIDES as `3,18,18`. Prints the attribution's wall time in seconds.

use std::time::Instant;

use tch::{Device, Tensor};
use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
use tiled_occlusion_tch::TorchScript;

fn numbers(text: &str) -> Result<Vec<usize>, std::num::ParseIntError> {
    text.split(',').map(str::parse).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, input, target, window, strides, out, rest @ ..] = args.as_slice() else {
        return Err("usage: torchscript_occlusion MODEL.pt INPUT.npy TARGET WINDOW STRIDES OUT.npy [THREADS]".into());
    };
    if let Some(threads) = rest.first() {
        tch::set_num_threads(threads.parse()?);
    }
    let mut model = TorchScript::load(model, Device::Cpu)?;
    let x = Tensor::read_npy(input)?;
    let method = Occlusion::new(numbers(window)?).with_strides(numbers(strides)?);
    let start = Instant::now();
    let map = method.attribute(&mut model, &Inputs::new(&x).with_target(Target::Class(target.parse()?)))?;
    let seconds = start.elapsed().as_secs_f64();
    map.write_npy(out)?;
    println!("{seconds:.3}");
    Ok(())
}
