//! The core's own cost per perturbation on a 1×3×224×224 `f32` input, next to one plain copy
//! of the input.
//!
//! - `batch_building`: one plain copy of the input against building one occluded copy
//!   (`fill_occluded_batch`, window 3×18×18).
//! - `core_per_call`: whole attributions on the shape-only backend, where batches cost
//!   nothing, so the time is scheduling, target selection and aggregation; throughput is in
//!   model calls. Windows 6, 18 and 54 with strides 1 on 224×224, and window 18 on 448×448:
//!   the cost per call follows the window's area, not the input's. (Strides 1 make the
//!   per-call work dominate the fixed per-attribution cost of allocating the map.)
//! - `end_to_end_per_call`: Occlusion window 18 strides 9 and TiledOcclusion window 18 k 2 on
//!   the ndarray backend with a model that does nothing; throughput in model calls.
//!
//! `cargo bench -p tiled-occlusion-benches --bench per_perturbation`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{ArrayD, Axis, IxDyn};
use tiled_occlusion_benches::shape_only::{zero_model, ShapeOnly, ShapeTensor};
use tiled_occlusion_core::backend::{fill_occluded_batch, BoxRegion, HostBaseline, Region, RegionBatch};
use tiled_occlusion_core::{Attribution, FnModel, Inputs, Occlusion, TiledOcclusion};
use tiled_occlusion_ndarray::model;

const SHAPE: [usize; 4] = [1, 3, 224, 224];

fn image() -> Vec<f32> {
    (0..SHAPE.iter().product::<usize>()).map(|i| (i % 251) as f32 / 251.0).collect()
}

fn batch_building(c: &mut Criterion) {
    let input = image();
    let mut group = c.benchmark_group("batch_building");
    group.bench_function("plain_copy", |b| b.iter(|| std::hint::black_box(input.clone())));
    let example_shape = &SHAPE[1..];
    let batch = RegionBatch {
        regions: vec![Region::Box(BoxRegion { start: vec![0, 100, 100], end: vec![3, 118, 118] })],
        examples: 1,
        example_shape,
    };
    group.bench_function("occluded_copy_window_18", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            fill_occluded_batch(&input, HostBaseline::Scalar(0.0), &batch, &mut out).unwrap();
            std::hint::black_box(out)
        })
    });
    group.finish();
}

fn core_per_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_per_call");
    group.sample_size(10);
    for (side, window) in [(224, 6), (224, 18), (224, 54), (448, 18)] {
        let shape = [1, 3, side, side];
        let input = ShapeTensor { shape: shape.to_vec(), data: Vec::new() };
        let method = Occlusion::new([3, window, window]).with_strides([3, 1, 1]);
        let calls = method.model_calls(&shape).unwrap_or(1) as u64;
        group.throughput(Throughput::Elements(calls));
        let mut m = FnModel::<ShapeOnly, _>::new(zero_model);
        group.bench_function(BenchmarkId::new(format!("input_{side}"), format!("window_{window}")), |b| {
            b.iter(|| std::hint::black_box(method.attribute(&mut m, &Inputs::new(&input)).is_ok()))
        });
    }
    group.finish();
}

fn end_to_end_per_call(c: &mut Criterion) {
    let input = ArrayD::from_shape_vec(IxDyn(&SHAPE), image()).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&SHAPE)));
    let mut nothing = model(|x: &ArrayD<f32>| Ok::<_, String>(ArrayD::zeros(IxDyn(&[x.len_of(Axis(0))]))));
    let mut group = c.benchmark_group("end_to_end_per_call");
    group.sample_size(20);
    let methods: [(&str, Box<dyn Attribution<_>>); 2] = [
        ("occlusion_w18_s9", Box::new(Occlusion::new([3, 18, 18]).with_strides([3, 9, 9]))),
        ("tiled_w18_k2", Box::new(TiledOcclusion::new([3, 18, 18], [1, 2, 2]))),
    ];
    for (name, method) in methods {
        let calls = method.model_calls(&SHAPE).unwrap_or(1) as u64;
        group.throughput(Throughput::Elements(calls));
        group.bench_function(name, |b| {
            b.iter(|| std::hint::black_box(method.attribute(&mut nothing, &Inputs::new(&input)).is_ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, batch_building, core_per_call, end_to_end_per_call);
criterion_main!(benches);
