//! Gradient methods on the same CNN in two frameworks: the TorchScript export run by tch, and
//! the network rebuilt from the same weights with candle operations. Saliency, InputXGradient
//! and Integrated Gradients must agree with each other within float tolerance, and candle's
//! with Captum's numbers from the fixture (`scripts/fixtures/make_torchscript_fixture.py`).
//!
//! Needs the `candle` and `tch` features (and libtorch): `scripts/test.sh` runs it.

use std::path::PathBuf;

use candle_core::{DType, Device as CandleDevice, Tensor as CandleTensor};
use tch::{Device, Kind, Tensor as TchTensor};
use tiled_occlusion_candle::Candle;
use tiled_occlusion_core::backend::GradientBackend;
use tiled_occlusion_core::{
    Attribution, Baseline, Forward, InputXGradient, Inputs, IntegratedGradients, IntegrationRule, NoiseTunnel,
    Saliency, Target,
};
use tiled_occlusion_tch::{Tch, TorchScriptModel};
use tiled_occlusion_testsuite::small_cnn::{gradient_fixture, GradientFixture as Fixture};
use tiled_occlusion_testsuite::test_backend::max_abs_diff;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../backends/tch/tests/fixtures")
}

fn fixture() -> Fixture {
    gradient_fixture(&fixtures())
}

/// The fixture's CNN in candle: `head(mean(relu(conv2(maxpool2(relu(conv1(x)))))))`.
fn candle_cnn(f: &Fixture, dtype: DType) -> impl FnMut(&CandleTensor) -> candle_core::Result<CandleTensor> {
    let weight = |name: &str| -> candle_core::Result<CandleTensor> {
        let w = f.weights.get(name).ok_or_else(|| candle_core::Error::Msg(format!("no weight {name}")))?;
        CandleTensor::from_slice(&w.data, w.shape.as_slice(), &CandleDevice::Cpu)?.to_dtype(dtype)
    };
    let names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "head.weight", "head.bias"];
    let loaded: candle_core::Result<Vec<CandleTensor>> = names.iter().map(|n| weight(n)).collect();
    move |x: &CandleTensor| {
        let [w1, b1, w2, b2, wh, bh] = loaded.as_ref().map_err(|e| candle_core::Error::Msg(e.to_string()))?.as_slice()
        else {
            return Err(candle_core::Error::Msg("six weights expected".into()));
        };
        let x = x.conv2d(w1, 1, 1, 1, 1)?.broadcast_add(&b1.reshape((1, (), 1, 1))?)?.relu()?;
        let x = max_pool_2x2(&x)?;
        let x = x.conv2d(w2, 0, 1, 1, 1)?.broadcast_add(&b2.reshape((1, (), 1, 1))?)?.relu()?;
        let pooled = x.mean_keepdim(3)?.mean_keepdim(2)?.flatten_from(1)?;
        pooled.matmul(&wh.t()?)?.broadcast_add(bh)
    }
}

/// PyTorch's `MaxPool2d(2)` (odd last row and column dropped) as a reshape and two maxima.
/// Not `Tensor::max_pool2d`: candle 0.11's backward of it multiplies the gradient by the
/// fraction of maxima in each window (¼ for a unique maximum) instead of dividing by their
/// count, and upsamples to the wrong grid when the size is odd.
fn max_pool_2x2(x: &CandleTensor) -> candle_core::Result<CandleTensor> {
    let (n, c, h, w) = x.dims4()?;
    let (h, w) = (h / 2, w / 2);
    let cropped = x.narrow(2, 0, 2 * h)?.narrow(3, 0, 2 * w)?.contiguous()?;
    cropped.reshape((n, c, h, 2, w, 2))?.max(5)?.max(3)
}

fn tch_cnn(kind: Kind) -> TorchScriptModel {
    let model = TorchScriptModel::load(fixtures().join("small_cnn.pt"), Device::Cpu).expect("TorchScript model");
    let mut module = model.into_inner();
    module.to(Device::Cpu, kind, false);
    TorchScriptModel::new(module)
}

/// The methods compared, by name.
fn methods(f: &Fixture) -> Vec<(&'static str, Box<dyn AnyMethod>)> {
    let ig = IntegratedGradients::new()
        .with_steps(f.ig_steps)
        .with_internal_batch_size(f.ig_internal_batch_size)
        .with_rule(IntegrationRule::GaussLegendre);
    // Not a rule with α = 0: the constant baseline ties every max-pool window there, where
    // the gradient is not defined and the frameworks split it differently (libtorch gives it
    // to one maximum, candle to all).
    let middle = ig.with_rule(IntegrationRule::RiemannMiddle);
    vec![
        ("saliency_abs", Box::new(Saliency::new())),
        ("saliency_signed", Box::new(Saliency::signed())),
        ("input_x_gradient", Box::new(InputXGradient::new())),
        ("ig_gausslegendre", Box::new(ig)),
        ("ig_riemann_middle", Box::new(middle)),
        (
            "smoothgrad_saliency",
            Box::new(NoiseTunnel::new(Saliency::signed()).with_samples(4).with_stdev(0.2).with_seed(3)),
        ),
    ]
}

/// A method usable on both backends.
trait AnyMethod: Attribution<Candle> + Attribution<Tch> {}
impl<M: Attribution<Candle> + Attribution<Tch>> AnyMethod for M {}

fn run<B: GradientBackend>(
    method: &dyn Attribution<B>,
    model: &mut dyn Forward<Backend = B>,
    x: &B::Tensor,
    f: &Fixture,
) -> Vec<f64> {
    let inputs = Inputs::<B>::new(x)
        .with_target(Target::PerExample(f.target.clone()))
        .with_baseline(Baseline::Scalar(f.baseline));
    let map = method.attribute(model, &inputs).unwrap_or_else(|e| panic!("attribution failed: {e}"));
    B::to_f64_vec(&map).expect("host copy")
}

fn relative(a: &[f64], b: &[f64]) -> f64 {
    max_abs_diff(a, b) / b.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

fn agree(dtype: DType, kind: Kind, tolerance: f64) {
    let f = fixture();
    let mut candle_model = tiled_occlusion_candle::model(candle_cnn(&f, dtype));
    let mut tch_model = tch_cnn(kind);
    let x_candle = CandleTensor::from_slice(&f.input.data, f.input.shape.as_slice(), &CandleDevice::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .expect("candle input");
    let dims: Vec<i64> = f.input.shape.iter().map(|&d| d as i64).collect();
    let x_tch = TchTensor::from_slice(&f.input.data).reshape(dims).to_kind(kind);
    for (name, method) in methods(&f) {
        let from_candle = run::<Candle>(method.as_ref(), &mut candle_model, &x_candle, &f);
        let from_tch = run::<Tch>(method.as_ref(), &mut tch_model, &x_tch, &f);
        let difference = relative(&from_candle, &from_tch);
        println!("{name} ({dtype:?}): candle vs tch max relative difference {difference:.3e}");
        assert!(difference < tolerance, "{name} ({dtype:?}): candle vs tch {difference:.3e}");
        if dtype == DType::F64 {
            if let Some(captum) = f.results.get(&format!("{name}_float64")) {
                // Captum rounds IG's step weights to float32 (see the tch backend's test).
                let captum_tolerance = if name == "ig_gausslegendre" { 1e-7 } else { 1e-10 };
                let difference = relative(&from_candle, &captum.data);
                println!("{name}: candle vs Captum max relative difference {difference:.3e}");
                assert!(difference < captum_tolerance, "{name}: candle vs Captum {difference:.3e}");
            }
        }
    }
}

#[test]
fn candle_and_tch_agree_on_the_cnn_in_f64_and_match_captum() {
    agree(DType::F64, Kind::Double, 1e-10);
}

#[test]
fn candle_and_tch_agree_on_the_cnn_in_f32() {
    agree(DType::F32, Kind::Float, 1e-6);
}
