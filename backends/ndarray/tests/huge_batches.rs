//! A perturbed batch too large to allocate is a named error after the one unperturbed call,
//! not an abort: `perturbations_per_eval` is the user's to make huge (it asked the allocator
//! for 2⁴⁰ values and aborted the process).

use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_core::{Attribution, Error, FnModel, Inputs, Occlusion, TiledOcclusion};
use tiled_occlusion_ndarray::Ndarray;

const POSITIONS: usize = 1 << 20;

/// `y = Σ x`, counting its calls.
fn sum_model(calls: &mut usize) -> impl FnMut(&ArrayD<f64>) -> Result<ArrayD<f64>, String> + '_ {
    move |x: &ArrayD<f64>| {
        *calls += 1;
        let rows = x.shape()[0];
        let sums: Vec<f64> = x.rows().into_iter().map(|r| r.sum()).collect();
        ArrayD::from_shape_vec(IxDyn(&[rows, 1]), sums).map_err(|e| e.to_string())
    }
}

/// Whether the kernel refuses an allocation far beyond memory (mode 1 grants any size, and
/// touching it would end in the OOM killer: the case cannot be checked there).
fn allocator_refuses_the_impossible() -> bool {
    let mode = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap_or_default();
    if mode.trim() == "1" {
        eprintln!("skipped: vm.overcommit_memory = 1 grants an 8 TB allocation");
        return false;
    }
    true
}

fn expect_too_large(method: &dyn Attribution<Ndarray<f64>>) {
    if !allocator_refuses_the_impossible() {
        return;
    }
    let x = ArrayD::from_elem(IxDyn(&[1, POSITIONS]), 1.0);
    let mut calls = 0;
    {
        let mut model = FnModel::<Ndarray<f64>, _>::new(sum_model(&mut calls));
        match method.attribute(&mut model, &Inputs::new(&x)) {
            Err(Error::TooLargeToAllocate { what, values, .. }) => {
                assert_eq!(what, "the perturbed batch");
                assert_eq!(values, POSITIONS * POSITIONS, "2²⁰ regions of 2²⁰ values");
            }
            other => panic!("expected TooLargeToAllocate, got {:?}", other.map(|m| m.len())),
        }
    }
    assert_eq!(calls, 1, "only the unperturbed call ran");
}

#[test]
fn a_huge_occlusion_batch_is_a_named_error() {
    expect_too_large(&Occlusion::new([1]).with_perturbations_per_eval(usize::MAX));
}

#[test]
fn a_huge_tiled_occlusion_batch_is_a_named_error() {
    expect_too_large(&TiledOcclusion::new([1], [1]).with_perturbations_per_eval(POSITIONS));
}
