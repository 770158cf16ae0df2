//! The same models, inputs and settings on ndarray, candle and tch, each model written in
//! its own framework's operations (not evaluated on the host): the attributions must agree
//! within 1e-10 relative in f64 and 1e-5 in f32.
//!
//! Needs the `candle` and `tch` features (and libtorch): `scripts/test.sh` runs it.

use candle_core::{DType, Device as CandleDevice, Tensor as CandleTensor};
use ndarray::{Array2, ArrayD, Axis, Ix2, IxDyn};
use tch::{Kind, Tensor as TchTensor};
use tiled_occlusion_candle::Candle;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::{
    Aggregation, Attribution, Baseline, FeatureAblation, FeatureMask, FnModel, FusionGrad, InputNoise, Inputs,
    NoiseTunnel, NoiseTunnelType, Occlusion, Target, TiledOcclusion, TilingMode,
};
use tiled_occlusion_ndarray::{ArrayModel, ArrayParameters, Ndarray};
use tiled_occlusion_tch::Tch;
use tiled_occlusion_testsuite::rng::SplitMix64;
use tiled_occlusion_testsuite::test_backend::max_abs_diff;

const SHAPE: [usize; 4] = [2, 3, 6, 5];
const FEATURES: usize = 90;
const HIDDEN: usize = 7;
const CLASSES: usize = 4;

/// `softplus(tanh(x·W1)·W2)`, weights from a fixed seed: `(N, 3, 6, 5) → (N, 4)`.
struct Weights {
    w1: Vec<f64>,
    w2: Vec<f64>,
}

fn weights() -> Weights {
    let mut rng = SplitMix64::new(7);
    Weights { w1: rng.values(FEATURES * HIDDEN), w2: rng.values(HIDDEN * CLASSES) }
}

fn ndarray_model<E: tiled_occlusion_core::backend::Element + ndarray::LinalgScalar>(
    w: &Weights,
) -> impl FnMut(&ArrayD<E>) -> Result<ArrayD<E>, String> {
    let cast = |v: &[f64], shape: (usize, usize)| {
        Array2::from_shape_vec(shape, v.iter().map(|&x| E::from_f64_nearest(x)).collect()).map_err(|e| e.to_string())
    };
    let (w1, w2) = (cast(&w.w1, (FEATURES, HIDDEN)), cast(&w.w2, (HIDDEN, CLASSES)));
    move |x: &ArrayD<E>| {
        let (w1, w2) = (w1.as_ref().map_err(Clone::clone)?, w2.as_ref().map_err(Clone::clone)?);
        let n = x.len_of(Axis(0));
        let flat = x
            .to_shape((n, FEATURES))
            .map_err(|e| e.to_string())?
            .into_dimensionality::<Ix2>()
            .map_err(|e| e.to_string())?;
        let h = flat.dot(w1).mapv(|v| v.tanh());
        Ok(h.dot(w2).mapv(|v| v.exp().ln_1p()).into_dyn())
    }
}

fn candle_model(w: &Weights, dtype: DType) -> impl FnMut(&CandleTensor) -> candle_core::Result<CandleTensor> {
    let make = |v: &[f64], shape: (usize, usize)| {
        CandleTensor::from_slice(v, shape, &CandleDevice::Cpu).and_then(|t| t.to_dtype(dtype))
    };
    let (w1, w2) = (make(&w.w1, (FEATURES, HIDDEN)), make(&w.w2, (HIDDEN, CLASSES)));
    move |x: &CandleTensor| {
        let (w1, w2) = (
            w1.as_ref().map_err(|e| candle_core::Error::Msg(e.to_string()))?,
            w2.as_ref().map_err(|e| candle_core::Error::Msg(e.to_string()))?,
        );
        let n = x.dims()[0];
        let logits = x.reshape((n, FEATURES))?.matmul(w1)?.tanh()?.matmul(w2)?;
        (logits.exp()? + 1.0)?.log()
    }
}

fn tch_model(w: &Weights, kind: Kind) -> impl FnMut(&TchTensor) -> Result<TchTensor, tch::TchError> {
    let w1 = TchTensor::from_slice(&w.w1).reshape([FEATURES as i64, HIDDEN as i64]).to_kind(kind);
    let w2 = TchTensor::from_slice(&w.w2).reshape([HIDDEN as i64, CLASSES as i64]).to_kind(kind);
    move |x: &TchTensor| {
        let n = x.size()[0];
        x.f_reshape([n, FEATURES as i64])?.f_matmul(&w1)?.f_tanh()?.f_matmul(&w2)?.f_softplus()
    }
}

/// One attribution setting: a method, and whether its baseline is a per-position tensor.
struct Setting {
    name: &'static str,
    method: Box<dyn Fn() -> Box<dyn AnyMethod>>,
    baseline_tensor: bool,
    target: Target,
}

/// An attribution method usable on every backend of this test.
trait AnyMethod: Attribution<Ndarray<f64>> + Attribution<Ndarray<f32>> + Attribution<Candle> + Attribution<Tch> {}
impl<M: Attribution<Ndarray<f64>> + Attribution<Ndarray<f32>> + Attribution<Candle> + Attribution<Tch>> AnyMethod
    for M
{
}

fn settings() -> Vec<Setting> {
    let mask: Vec<i64> = (0..FEATURES as i64).map(|i| (i % 30) / 4 + 10 * (i / 30)).collect();
    vec![
        Setting {
            name: "occlusion, tensor baseline, per-example targets",
            method: Box::new(|| {
                Box::new(Occlusion::new([2, 3, 2]).with_strides([1, 2, 1]).with_perturbations_per_eval(3))
            }),
            baseline_tensor: true,
            target: Target::PerExample(vec![1, 3]),
        },
        Setting {
            name: "tiled shifted mean",
            method: Box::new(|| Box::new(TiledOcclusion::new([3, 4, 2], [1, 2, 2]).with_perturbations_per_eval(4))),
            baseline_tensor: true,
            target: Target::Class(2),
        },
        Setting {
            name: "tiled shifted sum",
            method: Box::new(|| Box::new(TiledOcclusion::new([1, 3, 3], [1, 3, 1]).with_aggregation(Aggregation::Sum))),
            baseline_tensor: false,
            target: Target::Class(0),
        },
        Setting {
            name: "tiled reference",
            method: Box::new(|| Box::new(TiledOcclusion::new([3, 2, 2], [1, 2, 2]).with_mode(TilingMode::Reference))),
            baseline_tensor: false,
            target: Target::Class(3),
        },
        Setting {
            name: "noise tunnel vargrad of occlusion",
            method: Box::new(|| {
                Box::new(
                    NoiseTunnel::new(Occlusion::new([3, 2, 2]).with_strides([3, 2, 1]))
                        .with_type(NoiseTunnelType::VarGrad)
                        .with_samples(3)
                        .with_samples_batch_size(2)
                        .with_stdev(0.2)
                        .with_seed(5),
                )
            }),
            baseline_tensor: true,
            target: Target::PerExample(vec![0, 2]),
        },
        Setting {
            name: "noise tunnel smoothgrad of tiled occlusion",
            method: Box::new(|| {
                Box::new(
                    NoiseTunnel::new(TiledOcclusion::new([3, 4, 2], [1, 2, 2]))
                        .with_samples(4)
                        .with_input_noise(InputNoise::Multiplicative { stdev: 0.3 })
                        .with_seed(6),
                )
            }),
            baseline_tensor: false,
            target: Target::Class(1),
        },
        Setting {
            name: "feature ablation",
            method: Box::new(move || {
                Box::new(
                    FeatureAblation::new(FeatureMask::new([3, 6, 5], mask.clone()).expect("mask"))
                        .with_perturbations_per_eval(5),
                )
            }),
            baseline_tensor: true,
            target: Target::Class(1),
        },
    ]
}

fn run<B: Backend>(
    method: &dyn Attribution<B>,
    model: &mut dyn tiled_occlusion_core::Forward<Backend = B>,
    input: &TensorOf<B>,
    baseline: Option<&TensorOf<B>>,
    target: &Target,
) -> Vec<f64> {
    let baseline = baseline.map_or(Baseline::Scalar(0.3), Baseline::Tensor);
    let inputs = Inputs::new(input).with_baseline(baseline).with_target(target.clone());
    let map = method.attribute(model, &inputs).expect("attribution");
    B::to_f64_vec(&map).expect("host copy")
}

fn relative(a: &[f64], b: &[f64]) -> f64 {
    max_abs_diff(a, b) / b.iter().fold(1e-300_f64, |m, v| m.max(v.abs()))
}

fn agree(double: bool) {
    let w = weights();
    let mut rng = SplitMix64::new(11);
    let x = rng.values(SHAPE.iter().product());
    let b = rng.values(FEATURES);
    let (tolerance, kind, dtype) =
        if double { (1e-10, Kind::Double, DType::F64) } else { (1e-5, Kind::Float, DType::F32) };
    let nd = |v: &[f64], shape: &[usize]| ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).expect("array");
    let cd = |v: &[f64], shape: &[usize]| {
        CandleTensor::from_slice(v, shape, &CandleDevice::Cpu).and_then(|t| t.to_dtype(dtype)).expect("tensor")
    };
    let td = |v: &[f64], shape: &[usize]| {
        TchTensor::from_slice(v).reshape(shape.iter().map(|&d| d as i64).collect::<Vec<_>>()).to_kind(kind)
    };
    for s in settings() {
        let method = (s.method)();
        let reference = if double {
            let (xi, bi) = (nd(&x, &SHAPE), nd(&b, &SHAPE[1..]));
            let m: &dyn Attribution<Ndarray<f64>> = method.as_ref();
            run(
                m,
                &mut FnModel::<Ndarray<f64>, _>::new(ndarray_model::<f64>(&w)),
                &xi,
                s.baseline_tensor.then_some(&bi),
                &s.target,
            )
        } else {
            let (xi, bi) = (nd(&x, &SHAPE).mapv(|v| v as f32), nd(&b, &SHAPE[1..]).mapv(|v| v as f32));
            let m: &dyn Attribution<Ndarray<f32>> = method.as_ref();
            run(
                m,
                &mut FnModel::<Ndarray<f32>, _>::new(ndarray_model::<f32>(&w)),
                &xi,
                s.baseline_tensor.then_some(&bi),
                &s.target,
            )
        };
        assert!(reference.iter().any(|v| v.abs() > 1e-3), "{}: the map is not trivially zero", s.name);
        let (xc, bc) = (cd(&x, &SHAPE), cd(&b, &SHAPE[1..]));
        let m: &dyn Attribution<Candle> = method.as_ref();
        let candle = run(
            m,
            &mut FnModel::<Candle, _>::new(candle_model(&w, dtype)),
            &xc,
            s.baseline_tensor.then_some(&bc),
            &s.target,
        );
        let (xt, bt) = (td(&x, &SHAPE), td(&b, &SHAPE[1..]));
        let m: &dyn Attribution<Tch> = method.as_ref();
        let tch = run(
            m,
            &mut tiled_occlusion_tch::model(tch_model(&w, kind)),
            &xt,
            s.baseline_tensor.then_some(&bt),
            &s.target,
        );
        let (ec, et) = (relative(&candle, &reference), relative(&tch, &reference));
        println!(
            "{} {}: candle {ec:.2e}, tch {et:.2e} (relative to ndarray)",
            if double { "f64" } else { "f32" },
            s.name
        );
        assert!(ec <= tolerance, "{}: candle differs from ndarray by {ec:.3e}", s.name);
        assert!(et <= tolerance, "{}: tch differs from ndarray by {et:.3e}", s.name);
    }
}

#[test]
fn backends_agree_in_f64() {
    agree(true);
}

#[test]
fn backends_agree_in_f32() {
    agree(false);
}

fn as2(a: &ArrayD<f64>) -> Result<ndarray::ArrayView2<'_, f64>, String> {
    a.view().into_dimensionality::<Ix2>().map_err(|e| e.to_string())
}

/// The network of `ndarray_model` as a function of named parameters `w1`, `w2`.
fn mlp_of_parameters(p: &ArrayParameters<f64>, x: &ArrayD<f64>) -> Result<ArrayD<f64>, String> {
    let n = x.len_of(Axis(0));
    let flat = x
        .to_shape((n, FEATURES))
        .map_err(|e| e.to_string())?
        .into_dimensionality::<Ix2>()
        .map_err(|e| e.to_string())?;
    let h = flat.dot(&as2(&p["w1"])?).mapv(f64::tanh);
    Ok(h.dot(&as2(&p["w2"])?).mapv(|v| v.exp().ln_1p()).into_dyn())
}

/// The signature of [`mlp_of_parameters`].
type ParameterFn = fn(&ArrayParameters<f64>, &ArrayD<f64>) -> Result<ArrayD<f64>, String>;

/// The network of `ndarray_model` with its weights as named parameters `w1`, `w2`.
fn ndarray_parameter_model(w: &Weights) -> ArrayModel<f64, ParameterFn> {
    let w1 = ArrayD::from_shape_vec(IxDyn(&[FEATURES, HIDDEN]), w.w1.clone()).expect("w1");
    let w2 = ArrayD::from_shape_vec(IxDyn(&[HIDDEN, CLASSES]), w.w2.clone()).expect("w2");
    ArrayModel::new([("w1".to_string(), w1), ("w2".to_string(), w2)], mlp_of_parameters as ParameterFn)
}

/// The same network as a candle module over `VarMap` variables `w1`, `w2`.
fn candle_parameter_model(w: &Weights) -> tiled_occlusion_candle::VarMapModel<impl candle_core::Module> {
    let varmap = tiled_occlusion_candle::candle_nn::VarMap::new();
    let var = |v: &[f64], shape: (usize, usize)| {
        CandleTensor::from_slice(v, shape, &CandleDevice::Cpu)
            .and_then(|t| candle_core::Var::from_tensor(&t))
            .expect("var")
    };
    let (w1, w2) = (var(&w.w1, (FEATURES, HIDDEN)), var(&w.w2, (HIDDEN, CLASSES)));
    if let Ok(mut data) = varmap.data().lock() {
        data.insert("w1".into(), w1.clone());
        data.insert("w2".into(), w2.clone());
    }
    let module = move |x: &CandleTensor| -> candle_core::Result<CandleTensor> {
        let n = x.dims()[0];
        let logits = x.reshape((n, FEATURES))?.matmul(w1.as_tensor())?.tanh()?.matmul(w2.as_tensor())?;
        (logits.exp()? + 1.0)?.log()
    };
    tiled_occlusion_candle::VarMapModel::new(module, varmap)
}

/// The same network as a tch module over `VarStore` variables `w1`, `w2`.
#[derive(Debug)]
struct TchNet {
    w1: TchTensor,
    w2: TchTensor,
}

impl tch::nn::Module for TchNet {
    fn forward(&self, x: &TchTensor) -> TchTensor {
        let n = x.size()[0];
        x.reshape([n, FEATURES as i64]).matmul(&self.w1).tanh().matmul(&self.w2).softplus()
    }
}

fn tch_parameter_model(w: &Weights) -> tiled_occlusion_tch::VarStoreModel<TchNet> {
    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    vs.set_kind(Kind::Double); // before creating the variables, so they are never rounded to f32
    let root = vs.root();
    let w1 = root.var_copy("w1", &TchTensor::from_slice(&w.w1).reshape([FEATURES as i64, HIDDEN as i64]));
    let w2 = root.var_copy("w2", &TchTensor::from_slice(&w.w2).reshape([HIDDEN as i64, CLASSES as i64]));
    tiled_occlusion_tch::VarStoreModel::new(TchNet { w1, w2 }, vs)
}

/// FusionGrad with the same seed gives the same map on the three backends (f64), each
/// perturbing its own framework's parameters, and every backend restores them.
#[test]
fn fusion_grad_agrees_across_backends() {
    let w = weights();
    let mut rng = SplitMix64::new(13);
    let x = rng.values(SHAPE.iter().product());
    let fusion = FusionGrad::new(TiledOcclusion::new([3, 2, 2], [1, 2, 1]))
        .with_weight_samples(3)
        .with_input_samples(2)
        .with_input_samples_batch_size(1)
        .with_seed(21);
    let target = Target::PerExample(vec![3, 1]);

    let xn = ArrayD::from_shape_vec(IxDyn(&SHAPE), x.clone()).expect("array");
    let mut nd = ndarray_parameter_model(&w);
    let reference = run(&fusion, &mut nd, &xn, None, &target);
    assert_eq!(nd.parameters()["w1"].as_slice().map(<[f64]>::to_vec), Some(w.w1.clone()), "ndarray restores w1");

    let xc = CandleTensor::from_slice(&x, &SHAPE, &CandleDevice::Cpu).expect("tensor");
    let mut cm = candle_parameter_model(&w);
    let candle = run(&fusion, &mut cm, &xc, None, &target);

    let xt = TchTensor::from_slice(&x).reshape(SHAPE.iter().map(|&d| d as i64).collect::<Vec<_>>());
    let mut tm = tch_parameter_model(&w);
    let tch = run(&fusion, &mut tm, &xt, None, &target);

    let plain = run(
        &TiledOcclusion::new([3, 2, 2], [1, 2, 1]),
        &mut FnModel::<Ndarray<f64>, _>::new(ndarray_model::<f64>(&w)),
        &xn,
        None,
        &target,
    );
    assert!(relative(&reference, &plain) > 1e-3, "σ > 0 changes the map");
    let (ec, et) = (relative(&candle, &reference), relative(&tch, &reference));
    println!("FusionGrad: candle {ec:.2e}, tch {et:.2e} (relative to ndarray)");
    assert!(ec <= 1e-10 && et <= 1e-10, "FusionGrad differs: candle {ec:.3e}, tch {et:.3e}");
    let cw1 = cm.varmap().data().lock().map(|d| d["w1"].as_tensor().flatten_all().and_then(|t| t.to_vec1::<f64>()));
    assert_eq!(cw1.ok().and_then(Result::ok), Some(w.w1.clone()), "candle restores w1");
    let tw1 = Vec::<f64>::try_from(tm.var_store().variables()["w1"].flatten(0, -1)).expect("host copy");
    assert_eq!(tw1, w.w1, "tch restores w1");
}
