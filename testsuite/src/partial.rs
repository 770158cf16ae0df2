//! Partial runs and their merge (SEMANTICS.md, "Partial runs"), for any backend: the parts of
//! a run, merged in any order, give the single run's map bit for bit, make its model calls
//! (plus one unperturbed call per extra part), and foreign, missing or repeated parts are named
//! errors.

use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::perturbation::{PartialAttribution, PartitionedAttribution, SchedulePart};
use tiled_occlusion_core::{Attribution, FeatureAblation, Occlusion, Target, TiledOcclusion, TilingMode};

use crate::host_model::{HostForward, HostModel};
use crate::properties::check_scenarios;
use crate::rng::SplitMix64;
use crate::scenario::{Scenario, ScenarioTensors};
use crate::test_backend::{host, tensor, TestBackend};

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn fail(what: String) -> impl Fn(tiled_occlusion_core::Error) -> TestCaseError {
    move |e| TestCaseError::fail(format!("{what}: {e}"))
}

/// A splittable method by name.
type Named<T> = (&'static str, Box<dyn PartitionedAttribution<<T as TestBackend>::B>>);

/// The case's splittable methods.
fn methods<T: TestBackend>(s: &Scenario) -> Vec<Named<T>> {
    vec![
        (
            "occlusion",
            Box::new(
                Occlusion::new(s.window.clone())
                    .with_strides(s.strides.clone())
                    .with_perturbations_per_eval(s.per_eval),
            ),
        ),
        ("tiled", Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(s.per_eval))),
        ("feature ablation", Box::new(FeatureAblation::per_element().with_perturbations_per_eval(s.per_eval))),
    ]
}

/// All `count` parts of `method` on the case, each on a fresh copy of the model (as on
/// separate machines), with the calls each made.
fn run_parts<T: TestBackend>(
    method: &dyn PartitionedAttribution<T::B>,
    model: &HostModel,
    t: &ScenarioTensors<T>,
    target: &Target,
    count: usize,
) -> Result<(Vec<PartialAttribution>, usize), TestCaseError> {
    let mut calls = 0;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut model = HostForward::<T::B>::new(model.clone());
        let part = SchedulePart::new(i, count).map_err(fail(format!("part {i} of {count}")))?;
        out.push(
            method.attribute_part(&mut model, &t.inputs(target.clone()), part).map_err(fail(format!("part {i}")))?,
        );
        calls += model.calls;
    }
    Ok((out, calls))
}

/// For Occlusion, TiledOcclusion and FeatureAblation on every scenario, split into 1 to 6 parts
/// (more parts than calls included) and merged in a shuffled order: the map equals the single
/// run's bit for bit, and the parts make the run's calls plus one unperturbed call per part.
pub fn merged_parts_equal_the_run<T: TestBackend>() {
    check_scenarios::<T>("merged_parts_equal_the_run", |s| {
        let t = s.tensors::<T>();
        let target = s.target();
        let mut rng = SplitMix64::new(s.seed ^ 0x9A27);
        for (name, method) in methods::<T>(s) {
            let mut single = HostForward::<T::B>::new(s.host_model());
            let whole = method.attribute(&mut single, &t.inputs(target.clone())).map_err(fail(name.to_string()))?;
            let count = 1 + rng.below(6);
            let (mut parts, calls) = run_parts::<T>(method.as_ref(), &s.host_model(), &t, &target, count)?;
            for i in (1..parts.len()).rev() {
                parts.swap(i, rng.below(i + 1));
            }
            let merged =
                method.merge_parts(&t.inputs(target.clone()), &parts).map_err(fail(format!("{name} merge")))?;
            proptest::prop_assert_eq!(bits(&host::<T>(&merged)), bits(&host::<T>(&whole)), "{}: {} parts", name, count);
            proptest::prop_assert_eq!(calls, single.calls + count - 1, "{}: calls of {} parts", name, count);
        }
        Ok(())
    });
}

/// A missing, repeated or foreign part (another target, another setting, another model, part
/// of another split) is an error naming it; an impossible part is refused when made; the
/// reference mode cannot be split.
pub fn wrong_parts_are_named<T: TestBackend>() {
    check_scenarios::<T>("wrong_parts_are_named", |s| {
        let t = s.tensors::<T>();
        let target = s.target();
        let method = Occlusion::new(s.window.clone()).with_strides(s.strides.clone());
        let (parts, _) = run_parts::<T>(&method, &s.host_model(), &t, &target, 3)?;
        let merge = |parts: &[PartialAttribution]| {
            PartitionedAttribution::<T::B>::merge_parts(&method, &t.inputs(target.clone()), parts)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let expect = |outcome: Result<(), String>, message: &str| -> Result<(), TestCaseError> {
            match outcome {
                Err(e) if e.contains(message) => Ok(()),
                other => Err(TestCaseError::fail(format!("{}: expected {message:?}, got {other:?}", T::NAME))),
            }
        };
        expect(merge(&parts[..2]), "2 parts given for a run split into 3")?;
        expect(merge(&[parts[0].clone(), parts[1].clone(), parts[1].clone()]), "part 1 of 3 is given twice")?;
        expect(merge(&[]), "no part given")?;
        // The same run on another input (every value + 1).
        let shifted: Vec<f64> = host::<T>(&t.input).iter().map(|v| v + 1.0).collect();
        let other_input = ScenarioTensors::<T> {
            input: tensor::<T>(&s.input_shape(), &shifted),
            baseline: s.baseline_tensor().map(|(shape, values)| tensor::<T>(&shape, &values)),
            scalar: t.scalar,
        };
        let (foreign, _) = run_parts::<T>(&method, &s.host_model(), &other_input, &target, 3)?;
        expect(merge(&[parts[0].clone(), foreign[1].clone(), parts[2].clone()]), "part 1 of 3 belongs to another run")?;
        let strided = Occlusion::new(s.window.clone()).with_strides(s.strides.clone()).with_perturbations_per_eval(2);
        let (other_setting, _) = run_parts::<T>(&strided, &s.host_model(), &t, &target, 3)?;
        expect(
            merge(&[other_setting[0].clone(), parts[1].clone(), parts[2].clone()]),
            "part 0 of 3 belongs to another run",
        )?;
        // Another model: same settings and input, other unperturbed scores.
        let mut other_model = s.host_model();
        other_model.parameters_mut().into_iter().for_each(|(_, v)| v.iter_mut().for_each(|w| *w += 1.0));
        let (other, _) = run_parts::<T>(&method, &other_model, &t, &target, 3)?;
        if bits(&other[0].reference) != bits(&parts[0].reference) {
            expect(merge(&[parts[0].clone(), parts[1].clone(), other[2].clone()]), "saw other unperturbed scores")?;
        }
        // Parts edited on disk: their lengths are checked before anything is allocated (a part
        // with more drops than its regions × rows indexed out of bounds).
        let mut doubled = parts.clone();
        let extra = doubled[1].drops.clone();
        doubled[1].drops.extend(extra.iter().chain([0.0].iter()));
        expect(merge(&doubled), "drops, not")?;
        let mut widened = parts.clone();
        widened[2].regions.end += 1;
        expect(merge(&widened), "part 2 of 3 holds regions")?;
        // A mask per example reads the example's own regions: rows beyond the examples are refused
        // (a mask of shape (1, d…) is a shared one, so this needs two examples).
        let examples = s.input_shape()[0];
        if examples > 1 {
            let per_example = tiled_occlusion_core::FeatureMask::new(
                s.input_shape(),
                (0..s.input_shape().iter().product::<usize>()).map(|i| (i % 2) as i64).collect::<Vec<_>>(),
            )
            .map_err(fail("mask".into()))?;
            let ablation = FeatureAblation::new(per_example);
            let (mut masked, _) = run_parts::<T>(&ablation, &s.host_model(), &t, &target, 2)?;
            let rows = masked[0].reference.len();
            for p in masked.iter_mut() {
                let (reference, drops) = (p.reference.clone(), p.drops.clone());
                p.reference.extend(reference);
                p.drops = drops.chunks(rows.max(1)).flat_map(|d| d.iter().chain(d.iter()).copied()).collect();
            }
            let outcome = PartitionedAttribution::<T::B>::merge_parts(&ablation, &t.inputs(target.clone()), &masked);
            expect(
                outcome.map(|_| ()).map_err(|e| e.to_string()),
                &format!("holds {} reference scores for an input of {examples} examples", 2 * rows),
            )?;
        }
        let (four, _) = run_parts::<T>(&method, &s.host_model(), &t, &target, 4)?;
        expect(merge(&[parts[0].clone(), parts[1].clone(), four[2].clone()]), "part 2 is one of 4")?;
        expect(SchedulePart::new(3, 3).map(|_| ()).map_err(|e| e.to_string()), "part 3 of 3 does not exist")?;
        let reference = TiledOcclusion::new(s.window.clone(), 1).with_mode(TilingMode::Reference);
        let mut model = HostForward::<T::B>::new(s.host_model());
        let part = SchedulePart::new(0, 1).map_err(fail("part".into()))?;
        let outcome =
            PartitionedAttribution::<T::B>::attribute_part(&reference, &mut model, &t.inputs(target.clone()), part);
        expect(outcome.map(|_| ()).map_err(|e| e.to_string()), "cannot be split into parts")?;
        proptest::prop_assert_eq!(model.calls, 0, "the reference mode is refused before any call");
        Ok(())
    });
}

/// Stamps out the partial-run cases for a marker `$backend` as `mod partial { #[test] fn … }`;
/// one part of [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! partial_tests {
    ($backend:ty) => {
        $crate::suite_module!(partial, $backend, [merged_parts_equal_the_run, wrong_parts_are_named]);
    };
}
