//! Seeded random hostile cases, one per seed, for the `adversarial` runner, which runs each in
//! a child process with a memory limit and a timeout (an abort or a hang cannot be caught in
//! the process that suffers it).
//!
//! Half the cases are [`configurations`] of
//! ordinary size, valid or with one thing broken, checked by
//! [`check_configuration`] against an
//! independent validity predicate. The other half take every size from the edges of `usize`
//! (0, 1, 2¹⁶ … 2⁶², `usize::MAX`) or small values: window, strides, `k`, `P`, samples, and
//! the input shape given to `model_calls`. Each must return `Ok` or a typed error quickly,
//! without panicking; an `Occlusion` or per-element `FeatureAblation` count must equal the
//! closed form computed here in `u128`; and on a small real input, a count of at most
//! [`RUN_LIMIT`] calls is run on a linear model, whose map must have the input's shape and
//! finite values, after exactly the predicted number of model calls.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::{
    Attribution, Error, FeatureAblation, FusionGrad, Inputs, NoiseTunnel, Occlusion, Target, TiledOcclusion, TilingMode,
};

use crate::host_model::{HostForward, HostModel};
use crate::invalid_configurations::{check_configuration, configurations};
use crate::rng::SplitMix64;
use crate::test_backend::{host, tensor, BoxedMethod, TestBackend};

/// Sizes at the edges.
const EDGES: [usize; 10] =
    [0, 1, 1 << 16, 1 << 20, 1 << 31, 1 << 40, 1 << 62, usize::MAX / 2, usize::MAX - 1, usize::MAX];

/// The most model calls a case runs (a larger valid count is legitimately huge work: counted,
/// not run).
pub const RUN_LIMIT: usize = 4096;

/// The most values the model of a case evaluates, over all its calls.
pub const VALUE_BUDGET: usize = 1 << 24;

fn size(rng: &mut SplitMix64) -> usize {
    let r = rng.next_u64();
    if r % 2 == 0 {
        1 + (r >> 8) as usize % 6
    } else {
        EDGES[(r >> 8) as usize % EDGES.len()]
    }
}

fn sizes(rng: &mut SplitMix64, n: usize) -> Vec<usize> {
    (0..n).map(|_| size(rng)).collect()
}

/// A closed-form count of model calls for an input shape (`None`: it must be an error).
type ClosedForm = Box<dyn Fn(&[usize]) -> Option<u128>>;

/// The method of an extreme case and, for Occlusion and per-element FeatureAblation, a
/// closed-form count for `model_calls(shape)` (`None` where the count must be an error).
struct ExtremeMethod<T: TestBackend> {
    method: BoxedMethod<T>,
    expected_calls: Option<ClosedForm>,
    description: String,
}

/// `1 + ⌈regions / P⌉` of a run, or `None` when it does not fit a `usize`.
fn run_calls(regions: u128, per_eval: usize) -> Option<u128> {
    let calls = 1 + regions.div_ceil(per_eval as u128);
    (calls <= usize::MAX as u128).then_some(calls)
}

fn extreme_method<T: TestBackend>(rng: &mut SplitMix64, rank: usize) -> ExtremeMethod<T> {
    let window = sizes(rng, rank);
    let per_eval = size(rng);
    match rng.next_u64() % 6 {
        0 => {
            let strides = sizes(rng, rank);
            let (w, s) = (window.clone(), strides.clone());
            let expected = move |shape: &[usize]| -> Option<u128> {
                if shape.len() != w.len() + 1 || shape.contains(&0) || per_eval == 0 {
                    return None;
                }
                let mut windows = 1u128;
                for ((&w, &s), &d) in w.iter().zip(&s).zip(&shape[1..]) {
                    if w == 0 || s == 0 || w > d || (s > w && w != d) {
                        return None;
                    }
                    windows = windows.checked_mul(((d - w) as u128).div_ceil(s as u128) + 1)?;
                }
                (windows <= usize::MAX as u128).then_some(windows).and_then(|w| run_calls(w, per_eval))
            };
            ExtremeMethod {
                method: Box::new(
                    Occlusion::new(window.clone()).with_strides(strides.clone()).with_perturbations_per_eval(per_eval),
                ),
                expected_calls: Some(Box::new(expected)),
                description: format!("Occlusion window {window:?} strides {strides:?} P {per_eval}"),
            }
        }
        1 | 2 => {
            let k = sizes(rng, rank);
            let reference = rng.next_u64() % 2 == 0;
            let mode = if reference { TilingMode::Reference } else { TilingMode::Shifted };
            ExtremeMethod {
                method: Box::new(
                    TiledOcclusion::new(window.clone(), k.clone())
                        .with_mode(mode)
                        .with_perturbations_per_eval(per_eval),
                ),
                expected_calls: None,
                description: format!("TiledOcclusion {mode:?} window {window:?} k {k:?} P {per_eval}"),
            }
        }
        3 => {
            let expected = move |shape: &[usize]| -> Option<u128> {
                if shape.is_empty() || shape.contains(&0) || per_eval == 0 {
                    return None;
                }
                let elements = shape[1..].iter().try_fold(1u128, |acc, &d| acc.checked_mul(d as u128))?;
                (elements <= usize::MAX as u128).then_some(elements).and_then(|e| run_calls(e, per_eval))
            };
            ExtremeMethod {
                method: Box::new(FeatureAblation::per_element().with_perturbations_per_eval(per_eval)),
                expected_calls: Some(Box::new(expected)),
                description: format!("FeatureAblation per element P {per_eval}"),
            }
        }
        4 => {
            let (samples, batch) = (size(rng), size(rng));
            ExtremeMethod {
                method: Box::new(
                    NoiseTunnel::new(Occlusion::new(vec![1; rank]))
                        .with_samples(samples)
                        .with_samples_batch_size(batch)
                        .with_stdev(0.1),
                ),
                expected_calls: None,
                description: format!("NoiseTunnel samples {samples} batch {batch}"),
            }
        }
        _ => {
            let (n, m) = (size(rng), size(rng));
            ExtremeMethod {
                method: Box::new(
                    FusionGrad::new(Occlusion::new(vec![1; rank])).with_weight_samples(n).with_input_samples(m),
                ),
                expected_calls: None,
                description: format!("FusionGrad weight samples {n} input samples {m}"),
            }
        }
    }
}

/// `model_calls(shape)`, checked not to panic and against the closed form where there is one.
fn checked_count<T: TestBackend>(case: &ExtremeMethod<T>, shape: &[usize]) -> Result<Result<usize, Error>, String> {
    let what = &case.description;
    let counted = catch_unwind(AssertUnwindSafe(|| case.method.model_calls(shape)))
        .map_err(|_| format!("{what}: model_calls({shape:?}) panicked"))?;
    if let Some(expected) = &case.expected_calls {
        let want = expected(shape);
        if counted.as_ref().ok().map(|&c| c as u128) != want {
            return Err(format!("{what}: model_calls({shape:?}) = {counted:?}, the closed form says {want:?}"));
        }
    }
    Ok(counted)
}

/// The parts of an extreme case: the method, a shape of edge sizes (only counted) and a
/// small real input shape (counted, then run when the count is small enough).
struct ExtremeCase<T: TestBackend> {
    case: ExtremeMethod<T>,
    edge_shape: Vec<usize>,
    small: Vec<usize>,
}

fn extreme_setup<T: TestBackend>(seed: u64) -> ExtremeCase<T> {
    let mut rng = SplitMix64::new(seed);
    let rank = 1 + (rng.next_u64() % 3) as usize;
    let case = extreme_method::<T>(&mut rng, rank);
    let mut edge_shape = vec![1 + (rng.next_u64() % 3) as usize];
    edge_shape.extend(sizes(&mut rng, rank));
    let mut small = vec![1 + (rng.next_u64() % 2) as usize];
    small.extend((0..rank).map(|_| 1 + (rng.next_u64() % 5) as usize));
    ExtremeCase { case, edge_shape, small }
}

fn extreme_case<T: TestBackend>(seed: u64) -> Result<(), String> {
    let ExtremeCase { case, edge_shape, small } = extreme_setup::<T>(seed);
    let what = &case.description;
    // A count for a shape of edge sizes: arithmetic, never an allocation. Either outcome is
    // fine, as long as it is quick and consistent.
    let _ = checked_count(&case, &edge_shape)?;
    // A small real input: the count, then the run when it is small enough.
    let elements: usize = small[1..].iter().product();
    let x = tensor::<T>(&small, &(0..small[0] * elements).map(|i| (i % 5) as f64 / 4.0 - 0.5).collect::<Vec<_>>());
    let linear =
        HostModel::Linear { w: (0..2 * elements).map(|i| (i % 7) as f64 / 7.0 - 0.4).collect(), b: vec![0.1, -0.2] };
    let planned = checked_count(&case, &small)?;
    // A count above the limit is counted, not run; sizes the count refuses must be refused by
    // the run too, before any model call.
    if !matches!(planned, Ok(calls) if calls > RUN_LIMIT) {
        let mut model = HostForward::<T::B>::new(linear);
        // Few calls can still be huge work (2²⁰ noise samples in a call): the model refuses
        // past a budget, and the library must pass that on as an error.
        model.value_budget = Some(VALUE_BUDGET);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            case.method.attribute(&mut model, &Inputs::new(&x).with_target(Target::Class(1)))
        }))
        .map_err(|_| format!("{what}: attribute on {small:?} panicked"))?;
        match (&planned, outcome) {
            (Ok(calls), Ok(map)) => {
                let values = host::<T>(&map);
                if T::B::shape(&map) != small || values.iter().any(|v| !v.is_finite()) {
                    return Err(format!("{what}: a map of shape {:?} for an input {small:?}", T::B::shape(&map)));
                }
                if model.calls != *calls {
                    return Err(format!("{what}: {} model calls, {calls} planned", model.calls));
                }
            }
            (Ok(_), Err(Error::TooLargeToAllocate { .. })) => {}
            (Ok(_), Err(Error::Model(e))) if e.to_string() == HostForward::<T::B>::BUDGET_SPENT => {}
            (Ok(calls), Err(e)) => return Err(format!("{what}: {calls} calls planned, then the run failed: {e}")),
            (Err(_), Ok(_)) => return Err(format!("{what}: model_calls refused {small:?} but attribute ran")),
            (Err(_), Err(_)) if model.calls == 0 => {}
            (Err(e), Err(_)) => return Err(format!("{what}: refused ({e}) after {} model calls", model.calls)),
        }
    }
    Ok(())
}

fn ordinary_configuration(seed: u64) -> Result<crate::invalid_configurations::Configuration, String> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    Ok(configurations().new_tree(&mut runner).map_err(|e| e.to_string())?.current())
}

fn ordinary_case<T: TestBackend>(seed: u64) -> Result<(), String> {
    let configuration = ordinary_configuration(seed)?;
    check_configuration::<T>(&configuration).map_err(|e| format!("{configuration:?}: {e}"))
}

/// What case `seed` is, in one line (for the report of a case that aborted or hung).
pub fn describe_case<T: TestBackend>(seed: u64) -> String {
    if seed % 2 == 0 {
        match ordinary_configuration(seed) {
            Ok(configuration) => format!("{configuration:?}"),
            Err(e) => e,
        }
    } else {
        let ExtremeCase { case, edge_shape, small } = extreme_setup::<T>(seed);
        format!("{}, counted on {edge_shape:?}, run on {small:?}", case.description)
    }
}

/// Runs case `seed` on marker `T`: `Ok` when its outcome is the one the contract asks for.
pub fn run_case<T: TestBackend>(seed: u64) -> Result<(), String> {
    if seed % 2 == 0 {
        ordinary_case::<T>(seed)
    } else {
        extreme_case::<T>(seed)
    }
}
