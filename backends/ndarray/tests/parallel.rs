//! `Parallel` gives the sequential result bit for bit, on random scenarios and methods, for
//! any number of threads; model errors and panics come back as errors.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayD, IxDyn};
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::{
    Attribution, Baseline, Error, FnModel, Inputs, NoiseTunnel, NoiseTunnelType, Occlusion, Parallel, TiledOcclusion,
};
use tiled_occlusion_ndarray::Ndarray;
use tiled_occlusion_testsuite::markers::NdarrayF64;
use tiled_occlusion_testsuite::properties::check_scenarios;
use tiled_occlusion_testsuite::HostModel;

/// The host model as a `Fn + Sync` closure of ndarray batches.
fn closure(model: HostModel) -> impl Fn(&ArrayD<f64>) -> Result<ArrayD<f64>, String> + Sync {
    move |x: &ArrayD<f64>| {
        let data: Vec<f64> = x.iter().copied().collect();
        let (y, shape) = model.eval(&data, x.shape())?;
        ArrayD::from_shape_vec(IxDyn(&shape), y).map_err(|e| e.to_string())
    }
}

#[test]
fn parallel_equals_sequential_bit_for_bit() {
    check_scenarios::<NdarrayF64>("parallel_equals_sequential_bit_for_bit", |s| {
        let input = ArrayD::from_shape_vec(IxDyn(&s.input_shape()), s.input_data())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let baseline = s.baseline_tensor().map(|(shape, data)| ArrayD::from_shape_vec(IxDyn(&shape), data));
        let baseline = baseline.transpose().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let inputs = Inputs::<Ndarray<f64>>::new(&input)
            .with_baseline(baseline.as_ref().map_or(Baseline::Scalar(0.5), Baseline::Tensor))
            .with_target(s.target());
        let methods: Vec<Box<dyn Attribution<Ndarray<f64>>>> = vec![
            Box::new(
                Occlusion::new(s.window.clone())
                    .with_strides(s.strides.clone())
                    .with_perturbations_per_eval(s.per_eval),
            ),
            Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(s.per_eval)),
            Box::new(
                NoiseTunnel::new(Occlusion::new(s.window.clone()).with_strides(s.strides.clone()))
                    .with_type(NoiseTunnelType::VarGrad)
                    .with_samples(3)
                    .with_samples_batch_size(2)
                    .with_stdev(0.2)
                    .with_seed(s.seed),
            ),
        ];
        for method in methods {
            let mut sequential = FnModel::<Ndarray<f64>, _>::new(closure(s.host_model()));
            let expected =
                method.attribute(&mut sequential, &inputs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for threads in [1, 2, 3] {
                let mut parallel = Parallel::<Ndarray<f64>, _>::with_threads(closure(s.host_model()), threads)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let got = method.attribute(&mut parallel, &inputs).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let bits = |a: &ArrayD<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                if bits(&got) != bits(&expected) {
                    return Err(TestCaseError::fail(format!("{threads} threads: {got:?} vs {expected:?}")));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn model_errors_and_panics_are_errors() {
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 12]), (0..12).map(f64::from).collect()).unwrap_or_default();
    let calls = AtomicUsize::new(0);
    let failing = |x: &ArrayD<f64>| {
        if calls.fetch_add(1, Ordering::SeqCst) == 5 {
            return Err("refused".to_string());
        }
        Ok(x.sum_axis(ndarray::Axis(1)))
    };
    let mut model = Parallel::<Ndarray<f64>, _>::with_threads(failing, 2).unwrap_or_else(|e| panic!("{e}"));
    match Occlusion::new([1]).attribute(&mut model, &Inputs::new(&x)) {
        Err(Error::Model(e)) => assert!(e.to_string().contains("refused"), "{e}"),
        other => panic!("expected a model error, got {other:?}"),
    }
    let panicking = |x: &ArrayD<f64>| -> Result<ArrayD<f64>, String> {
        if x.len() == 12 && x[[0, 3]] == 0.0 {
            panic!("model bug");
        }
        Ok(x.sum_axis(ndarray::Axis(1)))
    };
    let mut model = Parallel::<Ndarray<f64>, _>::with_threads(panicking, 2).unwrap_or_else(|e| panic!("{e}"));
    match Occlusion::new([1]).attribute(&mut model, &Inputs::new(&x)) {
        Err(Error::Model(e)) => assert!(e.to_string().contains("model bug"), "{e}"),
        other => panic!("expected a model error, got {other:?}"),
    }
    assert!(Parallel::<Ndarray<f64>, _>::with_threads(panicking, 0).is_err());
}

/// A panic is `Error::Model` on every call, the unperturbed first one included (it used to
/// panic through there while later calls became errors), in both tiling modes.
#[test]
fn a_panic_on_the_first_call_is_a_model_error_too() {
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 8]), (1..=8).map(f64::from).collect()).unwrap_or_default();
    let always = |_: &ArrayD<f64>| -> Result<ArrayD<f64>, String> { panic!("broken from the start") };
    let methods: Vec<Box<dyn Attribution<Ndarray<f64>>>> = vec![
        Box::new(Occlusion::new([2])),
        Box::new(TiledOcclusion::new([4], [2])),
        Box::new(TiledOcclusion::new([4], [2]).with_mode(tiled_occlusion_core::TilingMode::Reference)),
    ];
    for threads in [1, 2] {
        let mut model = Parallel::<Ndarray<f64>, _>::with_threads(always, threads).unwrap_or_else(|e| panic!("{e}"));
        for method in &methods {
            match method.attribute(&mut model, &Inputs::new(&x)) {
                Err(Error::Model(e)) => assert!(e.to_string().contains("broken from the start"), "{e}"),
                other => panic!("expected a model error, got {:?}", other.map(|_| ())),
            }
        }
    }
}

/// Thread counts beyond `Parallel::MAX_THREADS` are errors before anything starts (they used
/// to deadlock, `4 × threads` wrapping to 0, or abort or panic when spawning).
#[test]
fn thread_counts_are_capped() {
    let f = |x: &ArrayD<f64>| Ok::<_, String>(x.clone());
    for threads in [Parallel::<Ndarray<f64>, ()>::MAX_THREADS + 1, 100_000, 1 << 40, 1 << 62, usize::MAX] {
        match Parallel::<Ndarray<f64>, _>::with_threads(f, threads) {
            Err(Error::TooLarge { setting, value, maximum }) => {
                assert_eq!((setting.as_str(), value, maximum), ("Parallel::with_threads", threads, 1024));
            }
            other => panic!("{threads} threads: expected TooLarge, got {:?}", other.map(|p| p.threads())),
        }
    }
    let most = Parallel::<Ndarray<f64>, _>::with_threads(f, 1024).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(most.threads(), 1024);
    assert!(Parallel::<Ndarray<f64>, _>::new(f).threads() <= 1024);
}

/// Calls that finish out of order (each sleeps a different time, on 3 threads, the calling
/// thread running some of them) are still scored in call order: the map is the sequential one.
#[test]
fn calls_finishing_out_of_order_are_scored_in_call_order() {
    let x = ArrayD::from_shape_vec(IxDyn(&[2, 48]), (0..96).map(|v| f64::from(v).sin()).collect()).unwrap_or_default();
    let slow = |x: &ArrayD<f64>| {
        // 0–400 µs depending on the batch, so that neighbouring calls overtake each other.
        let key = x.iter().map(|v| v.to_bits()).fold(0u64, |h, b| h.rotate_left(5) ^ b);
        std::thread::sleep(std::time::Duration::from_micros(key % 400));
        Ok::<_, String>(x.mapv(|v| v * v).sum_axis(ndarray::Axis(1)))
    };
    let method = Occlusion::new([3]).with_strides([1]).with_perturbations_per_eval(2);
    let expected = method.attribute(&mut FnModel::<Ndarray<f64>, _>::new(slow), &Inputs::new(&x)).unwrap_or_default();
    let mut parallel = Parallel::<Ndarray<f64>, _>::with_threads(slow, 3).unwrap_or_else(|e| panic!("{e}"));
    let got = method.attribute(&mut parallel, &Inputs::new(&x)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert!(expected.iter().any(|v| *v != 0.0));
}

/// The faithfulness metrics run their model calls through the same runner: through
/// `Parallel` they give the sequential curves bit for bit, whatever the batch.
#[test]
fn metrics_through_parallel_equal_the_sequential_ones() {
    use tiled_occlusion_core::metrics::{DeletionInsertion, MapGeometry, RegionPerturbation, Score};
    let shape = [1, 2, 6, 5];
    let x = ArrayD::from_shape_vec(IxDyn(&shape), (0..60).map(|v| (f64::from(v) * 0.37).sin()).collect())
        .unwrap_or_default();
    let attribution: Vec<f64> = (0..60).map(|v| (f64::from(v) * 1.3).cos()).collect();
    let geometry = MapGeometry { example_shape: shape[1..].to_vec(), channel_axis: Some(0) };
    // Three classes: weighted sums of the input, so that every perturbation changes the scores.
    let classes = |x: &ArrayD<f64>| {
        let n = x.len_of(ndarray::Axis(0));
        let rows: Vec<f64> = x
            .outer_iter()
            .flat_map(|e| {
                let v: Vec<f64> = e.iter().copied().collect();
                (0..3).map(move |c| v.iter().enumerate().map(|(i, a)| a * ((i * (c + 2)) % 7) as f64).sum::<f64>())
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[n, 3]), rows).map_err(|e| e.to_string())
    };
    for batch in [1, 2, 3] {
        let curves = DeletionInsertion { steps: 7, baseline: 0.0, blur_sigma: 1.0, batch, score: Score::Probability };
        let aopc = RegionPerturbation { patch: 2, regions: 5, baseline: 0.0, batch, score: Score::Raw };
        let mut sequential = FnModel::<Ndarray<f64>, _>::new(classes);
        let mut parallel = Parallel::<Ndarray<f64>, _>::with_threads(classes, 2).unwrap_or_else(|e| panic!("{e}"));
        let run = |model: &mut dyn tiled_occlusion_core::Forward<Backend = Ndarray<f64>>| {
            let d = curves.deletion(model, &x, &attribution, &geometry, 1).unwrap_or_else(|e| panic!("{e}"));
            let i = curves.insertion(model, &x, &attribution, &geometry, 2).unwrap_or_else(|e| panic!("{e}"));
            let a = aopc.aopc(model, &x, &attribution, &geometry, 0).unwrap_or_else(|e| panic!("{e}"));
            let bits = |v: &[f64]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
            (bits(&d.scores), bits(&i.scores), a.to_bits())
        };
        let expected = run(&mut sequential);
        assert_eq!(run(&mut parallel), expected, "batch {batch}");
        assert_eq!(expected.0.len(), 8);
    }
}

/// A model of two inputs that is not a sum of its inputs: `tanh(Σ a·w) · (1 + Σ b²)` per
/// example, three classes.
fn two_input_model(xs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, String> {
    let (a, b) = (&xs[0], &xs[1]);
    let n = a.shape()[0];
    let (la, lb) = (a.len() / n.max(1), b.len() / n.max(1));
    let (a, b) = (a.iter().copied().collect::<Vec<_>>(), b.iter().copied().collect::<Vec<_>>());
    let mut out = Vec::with_capacity(n * 3);
    for row in 0..n {
        let ra = &a[row * la..(row + 1) * la];
        let rb = &b[row * lb..(row + 1) * lb];
        let energy = 1.0 + rb.iter().map(|v| v * v).sum::<f64>();
        for class in 0..3 {
            let s: f64 = ra.iter().enumerate().map(|(i, v)| v * (((i * 7 + class * 3) % 5) as f64 - 2.0)).sum();
            out.push((s / 4.0).tanh() * energy);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, 3]), out).map_err(|e| e.to_string())
}

#[test]
fn several_inputs_in_parallel_equal_sequential_bit_for_bit() {
    use tiled_occlusion_core::{
        FeatureAblation, FeatureMask, FnMultiModel, MultiAttribution, MultiInputs, PerInput, Target,
    };
    let a = ArrayD::from_shape_vec(IxDyn(&[2, 3, 5]), (0..30).map(|i| ((i * 13) % 11) as f64 / 5.0 - 1.0).collect())
        .unwrap_or_default();
    let b = ArrayD::from_shape_vec(IxDyn(&[2, 4]), (0..8).map(|i| i as f64 / 3.0 - 1.0).collect()).unwrap_or_default();
    let inputs = MultiInputs::<Ndarray<f64>>::new([&a, &b]).with_target(Target::PerExample(vec![2, 0]));
    let bits = |maps: &[ArrayD<f64>]| maps.iter().flat_map(|m| m.iter().map(|v| v.to_bits())).collect::<Vec<_>>();
    for per_eval in [1, 3] {
        let methods: Vec<Box<dyn MultiAttribution<Ndarray<f64>>>> = vec![
            Box::new(
                PerInput::new([Occlusion::new([1, 2]).with_strides([1, 1]), Occlusion::new([2])])
                    .with_perturbations_per_eval(per_eval),
            ),
            Box::new(
                PerInput::new([TiledOcclusion::new([3, 2], [1, 2]), TiledOcclusion::new([2], [2])])
                    .with_perturbations_per_eval(per_eval),
            ),
            Box::new(
                PerInput::new([
                    FeatureAblation::new(
                        FeatureMask::new([3, 5], (0..15).map(|i| i / 4).collect::<Vec<i64>>())
                            .unwrap_or_else(|e| panic!("{e}")),
                    ),
                    FeatureAblation::per_element(),
                ])
                .with_perturbations_per_eval(per_eval),
            ),
            Box::new(
                NoiseTunnel::new(PerInput::new([Occlusion::new([1, 3]), Occlusion::new([1])]))
                    .with_samples(3)
                    .with_stdevs([0.1, 0.3])
                    .with_seed(7),
            ),
        ];
        for method in &methods {
            let sequential_calls = AtomicUsize::new(0);
            let mut sequential = FnMultiModel::<Ndarray<f64>, _>::new(|xs: &[ArrayD<f64>]| {
                sequential_calls.fetch_add(1, Ordering::SeqCst);
                two_input_model(xs)
            });
            let expected = method.attribute(&mut sequential, &inputs).unwrap_or_else(|e| panic!("{e}"));
            for threads in [1, 2, 4] {
                let calls = AtomicUsize::new(0);
                let threads_seen = std::sync::Mutex::new(std::collections::HashSet::new());
                let counted = |xs: &[ArrayD<f64>]| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    threads_seen.lock().map_err(|e| e.to_string())?.insert(std::thread::current().id());
                    two_input_model(xs)
                };
                let mut parallel =
                    Parallel::<Ndarray<f64>, _>::with_threads(counted, threads).unwrap_or_else(|e| panic!("{e}"));
                let got = method.attribute(&mut parallel, &inputs).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(bits(&got), bits(&expected), "P = {per_eval}, {threads} threads");
                assert_eq!(calls.load(Ordering::SeqCst), sequential_calls.load(Ordering::SeqCst), "{threads} threads");
                // The calls really ran side by side: queued calls run on the worker threads.
                let seen = threads_seen.lock().map(|t| t.len()).unwrap_or(0);
                assert!(threads == 1 || seen > 1, "{threads} threads, calls ran on {seen}");
            }
        }
    }
    // Errors and panics of a model of several inputs, on any call and thread, are errors.
    let method = PerInput::new([Occlusion::new([1, 1]), Occlusion::new([1])]);
    for (threads, fail_on) in [(1, 0), (1, 6), (3, 0), (3, 6)] {
        for panics in [false, true] {
            let calls = AtomicUsize::new(0);
            let failing = |xs: &[ArrayD<f64>]| {
                if calls.fetch_add(1, Ordering::SeqCst) == fail_on {
                    if panics {
                        panic!("broke on call {fail_on}");
                    }
                    return Err(format!("refused call {fail_on}"));
                }
                two_input_model(xs)
            };
            let mut model =
                Parallel::<Ndarray<f64>, _>::with_threads(failing, threads).unwrap_or_else(|e| panic!("{e}"));
            match method.attribute(&mut model, &inputs) {
                Err(Error::Model(e)) => assert!(e.to_string().contains(&format!("call {fail_on}")), "{e}"),
                other => {
                    panic!("{threads} threads, call {fail_on}: expected a model error, got {:?}", other.map(|_| ()))
                }
            }
        }
    }
}
