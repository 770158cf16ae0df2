//! Explains a TorchScript model with the tch backend: the small CNN the tests compare with
//! Captum (`scripts/fixtures/make_torchscript_fixture.py` exported it).
//!
//! `source scripts/env/libtorch-env.sh && cargo run --example tch_torchscript --features tch [-- cuda]`

use tch::{Device, Kind, Tensor};
use tiled_occlusion::tch::{device, TorchScriptModel};
use tiled_occlusion::{Attribution, Inputs, Occlusion, Target, TiledOcclusion};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = device(&std::env::args().nth(1).unwrap_or_else(|| "cpu".into()))?;
    let mut model = TorchScriptModel::load("backends/tch/tests/fixtures/small_cnn.pt", dev)?;
    let image = Tensor::linspace(-1.0, 1.0, 3 * 11 * 11, (Kind::Float, dev)).reshape([1, 3, 11, 11]).sin();
    let inputs = Inputs::new(&image).with_target(Target::Class(1));

    let occlusion = Occlusion::new([3, 4, 4]).with_strides([3, 2, 2]);
    let tiled = TiledOcclusion::new([3, 4, 4], [1, 2, 2]);
    for (name, method) in [("Occlusion w4 s2", &occlusion as &dyn Attribution<_>), ("TiledOcclusion w4 k2", &tiled)] {
        let map = method.attribute(&mut model, &inputs)?;
        let per_pixel = map.sum_dim_intlist(1, false, Kind::Float).squeeze_dim(0);
        println!(
            "{name}: {} model calls, map sum {:.4}",
            method.model_calls(&[1, 3, 11, 11])?,
            per_pixel.sum(Kind::Float).double_value(&[])
        );
        let values = Vec::<f32>::try_from(per_pixel.to_device(Device::Cpu).flatten(0, -1))?;
        for row in values.chunks(11) {
            println!("{}", row.iter().map(|v| format!("{:6.1}", v * 1000.0)).collect::<Vec<_>>().join(" "));
        }
    }
    Ok(())
}
