//! What our code costs around the model, and what parallel evaluation gains, on the ndarray
//! backend.
//!
//! 1. **Per-call overhead** on a 1×3×224×224 `f32` input with a model that does nothing
//!    (returns a zero score without reading its input): attribution wall time per model call,
//!    against one plain copy of the input (the least any perturbed batch costs).
//! 2. **Parallel scaling**: an MLP on 1×28×28 explained by Occlusion, sequential against
//!    `Parallel` on 2 threads (bit-identical results checked).
//!
//! `cargo run --release -p tiled-occlusion-benches --bin core_overhead [-- RUNS]`
//! prints medians of RUNS (default 7) alternating runs. `-- --smoke` runs everything once on
//! tiny sizes (the test suite does, so the binary cannot rot).

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use tiled_occlusion_benches::{alternating_medians, seconds};
use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Parallel, TiledOcclusion};
use tiled_occlusion_ndarray::{model, Ndarray};

/// Sizes of a run: the real ones, or tiny ones for a smoke test.
struct Sizes {
    runs: usize,
    side: usize,
    hidden: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes = match std::env::args().nth(1).as_deref() {
        Some("--smoke") => Sizes { runs: 1, side: 36, hidden: 16 },
        Some(runs) => Sizes { runs: runs.parse()?, side: 224, hidden: 512 },
        None => Sizes { runs: 7, side: 224, hidden: 512 },
    };
    per_call_overhead(sizes.runs, sizes.side)?;
    parallel_scaling(sizes.runs, sizes.hidden)?;
    Ok(())
}

fn per_call_overhead(runs: usize, side: usize) -> Result<(), Box<dyn std::error::Error>> {
    let shape = [1, 3, side, side];
    let data: Vec<f32> = (0..shape.iter().product::<usize>()).map(|i| (i % 251) as f32 / 251.0).collect();
    let image = ArrayD::from_shape_vec(IxDyn(&shape), data)?;
    let mut nothing = model(|x: &ArrayD<f32>| Ok::<_, String>(ArrayD::zeros(IxDyn(&[x.len_of(Axis(0))]))));
    let occlusion = Occlusion::new([3, 18, 18]).with_strides([3, 9, 9]);
    let tiled = TiledOcclusion::new([3, 18, 18], [1, 2, 2]);
    let occlusion_calls = occlusion.model_calls(&shape)? as f64;
    let tiled_calls = tiled.model_calls(&shape)? as f64;
    let copies = 100;
    let inputs = Inputs::new(&image);
    let mut failure = None;
    let mut copy = || {
        for _ in 0..copies {
            std::hint::black_box(image.to_owned());
        }
    };
    let mut run_occlusion = || {
        if let Err(e) = occlusion.attribute(&mut nothing, &inputs) {
            failure = Some(e);
        }
    };
    let medians = alternating_medians(runs, &mut [&mut copy, &mut run_occlusion]);
    let mut run_tiled = || {
        if let Err(e) = tiled.attribute(&mut nothing, &inputs) {
            failure = Some(e);
        }
    };
    let tiled_median = alternating_medians(runs, &mut [&mut run_tiled])[0];
    if let Some(e) = failure {
        return Err(e.into());
    }
    let copy_us = medians[0] / copies as f64 * 1e6;
    println!("Per-call overhead, 1x3x{side}x{side} f32, model that does nothing ({runs} runs, medians)");
    println!("{:<44} {:>8} {:>12} {:>10}", "workload", "calls", "us per call", "x copy");
    println!("{:<44} {:>8} {:>12.1} {:>10.2}", "plain copy of the input", 1, copy_us, 1.0);
    for (name, total, calls) in [
        ("Occlusion window 18 strides 9", medians[1], occlusion_calls),
        ("TiledOcclusion window 18 k 2 (shifted, mean)", tiled_median, tiled_calls),
    ] {
        let per_call = total / calls * 1e6;
        println!("{:<44} {:>8} {:>12.1} {:>10.2}", name, calls, per_call, per_call / copy_us);
    }
    Ok(())
}

fn parallel_scaling(runs: usize, hidden: usize) -> Result<(), Box<dyn std::error::Error>> {
    let w1 = Array2::from_shape_fn((784, hidden), |(i, j)| (((i * 31 + j * 17) % 97) as f64 - 48.0) / 970.0);
    let w2 = Array2::from_shape_fn((hidden, 10), |(i, j)| (((i * 13 + j * 7) % 89) as f64 - 44.0) / 890.0);
    let mlp = move |x: &ArrayD<f64>| {
        let n = x.len_of(Axis(0));
        let flat = x.to_shape((n, 784)).map_err(|e| e.to_string())?;
        let h = flat.dot(&w1).mapv(|v| v.max(0.0));
        Ok::<_, String>(h.dot(&w2).into_dyn())
    };
    let digit = ArrayD::from_shape_fn(IxDyn(&[1, 28, 28]), |i| ((i[1] * 28 + i[2]) % 17) as f64 / 17.0);
    let inputs = Inputs::new(&digit).with_target(tiled_occlusion_core::Target::Class(3));
    let method = Occlusion::new([3, 3]).with_strides([1, 1]);
    let calls = method.model_calls(digit.shape())?;
    let mut sequential = model(mlp.clone());
    let mut parallel = Parallel::<Ndarray<f64>, _>::with_threads(mlp, 2)?;
    let a = method.attribute(&mut sequential, &inputs)?;
    let b = method.attribute(&mut parallel, &inputs)?;
    if a != b {
        return Err("parallel and sequential attributions differ".into());
    }
    let (mut s, mut p) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        s.push(seconds(|| drop(std::hint::black_box(method.attribute(&mut sequential, &inputs)))));
        p.push(seconds(|| drop(std::hint::black_box(method.attribute(&mut parallel, &inputs)))));
    }
    let (s, p) = (tiled_occlusion_benches::median(&s), tiled_occlusion_benches::median(&p));
    println!();
    println!("Parallel scaling, MLP 784-{hidden}-10 on 1x28x28, Occlusion window 3 strides 1 ({calls} calls)");
    println!("  sequential {:.1} ms, parallel (2 threads) {:.1} ms, speedup {:.2}x", s * 1e3, p * 1e3, s / p);
    Ok(())
}
