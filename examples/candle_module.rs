//! Explains a candle `Module` (a small convolutional network built with candle-nn) with
//! TiledOcclusion, on the CPU or, with `--features candle-cuda`, a CUDA device.
//!
//! `cargo run --example candle_module --features candle [-- cuda]`

use candle_core::{DType, Module, Tensor};
use tiled_occlusion::candle::{device, ModuleModel};
use tiled_occlusion::{Attribution, Inputs, Target, TiledOcclusion};

/// conv 3→4 (3×3) → ReLU → global average pool → linear 4→2, with fixed weights.
struct TinyCnn {
    conv: candle_nn::Conv2d,
    head: candle_nn::Linear,
}

impl Module for TinyCnn {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = self.conv.forward(x)?.relu()?.mean((2, 3))?;
        self.head.forward(&h)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = device(&std::env::args().nth(1).unwrap_or_else(|| "cpu".into()))?;
    let kernel = Tensor::arange(0f32, 108., &dev)?.reshape((4, 3, 3, 3))?.affine(0.02, -1.0)?.sin()?;
    let conv = candle_nn::Conv2d::new(kernel, None, candle_nn::Conv2dConfig { padding: 1, ..Default::default() });
    let head = candle_nn::Linear::new(Tensor::new(&[[1f32, -1., 0.5, 2.], [0.3, 0.2, -1., 1.]], &dev)?, None);
    let mut model = ModuleModel::new(TinyCnn { conv, head });

    // A 3×16×16 "photo" with a bright square in its upper left quarter.
    let mut pixels = vec![0.1f32; 3 * 16 * 16];
    for c in 0..3 {
        for r in 2..7 {
            for col in 3..8 {
                pixels[c * 256 + r * 16 + col] = 1.0;
            }
        }
    }
    let image = Tensor::from_vec(pixels, (1, 3, 16, 16), &dev)?;
    let inputs = Inputs::new(&image).with_target(Target::Class(0));
    let method = TiledOcclusion::new([3, 4, 4], [1, 2, 2]);
    println!("{} model calls on {:?}", method.model_calls(image.dims())?, dev);
    let map = method.attribute(&mut model, &inputs)?;
    // Sum over channels and print one row per image row.
    let rows = map.sum(1)?.squeeze(0)?.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    for row in rows {
        println!("{}", row.iter().map(|v| format!("{v:6.3}")).collect::<Vec<_>>().join(" "));
    }
    Ok(())
}
