//! `device("cuda")` loads libtorch's CUDA library, which the linker leaves out of Rust binaries.
//! One test in its own binary: libtorch looks for CUDA once per process, and nothing may use CUDA
//! before it.

use std::path::PathBuf;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::Error;
use tiled_occlusion_tch::device;

/// The files of this process's mappings whose name is `name`.
fn mapped(name: &str) -> Vec<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("Linux: /proc/self/maps");
    let mut paths: Vec<PathBuf> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.rsplit('/').next() == Some(name))
        .map(PathBuf::from)
        .collect();
    paths.dedup();
    paths
}

#[test]
fn asking_for_cuda_loads_libtorchs_cuda_library_beside_its_cpu_library() {
    // The binary needs libtorch_cpu.so: it is in the process from the start (nothing of
    // libtorch has run yet, so nothing has looked for CUDA).
    let cpu = mapped("libtorch_cpu.so");
    assert_eq!(cpu.len(), 1, "one libtorch_cpu.so in the process: {cpu:?}");
    let beside = cpu[0].with_file_name("libtorch_cuda.so");
    // The linker dropped it (--as-needed): without the load, libtorch would see no GPU at all.
    assert!(mapped("libtorch_cuda.so").is_empty(), "libtorch_cuda.so is linked already; this test checks nothing");

    let chosen = device("cuda:0");

    if beside.is_file() {
        // PyPI's libtorch (the one the test command installs) has its CUDA library.
        assert_eq!(mapped("libtorch_cuda.so"), vec![beside.clone()], "loaded from beside libtorch_cpu.so");
        match chosen {
            // A machine with a GPU: libtorch sees it, and a tensor goes there.
            Ok(cuda) => {
                assert_eq!(cuda, Device::Cuda(0));
                let on_gpu = Tensor::ones([2], (Kind::Float, cuda));
                assert_eq!(f64::try_from(on_gpu.sum(Kind::Double)).unwrap(), 2.0);
            }
            Err(Error::Device { reason, .. }) => {
                assert!(reason.contains("is loaded") && reason.contains(&beside.display().to_string()), "{reason}");
            }
            Err(e) => panic!("not a device error: {e:?}"),
        }
    } else {
        // A CPU-only libtorch: the error says that is why.
        match chosen {
            Err(Error::Device { reason, .. }) => assert!(reason.contains("CPU-only build"), "{reason}"),
            other => panic!("a CPU-only libtorch has no CUDA device: {other:?}"),
        }
    }
    // A second call finds the same and loads nothing more.
    let _ = device("cuda");
    assert!(mapped("libtorch_cuda.so").len() <= 1);
}
