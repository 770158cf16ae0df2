//! libtorch's CUDA library, loaded into the process before CUDA is first used.
//!
//! PyTorch splits libtorch into a CPU library (`libtorch_cpu.so`) and a CUDA library
//! (`libtorch_cuda.so`) that registers the CUDA backend when it is loaded. A Rust binary uses no
//! symbol of the CUDA library, so the linker's default `--as-needed` drops it: libtorch then sees
//! no CUDA device even on a machine with a GPU, and it looks only once per process. Before the
//! first use of CUDA ([`device()`](crate::device) with `cuda`, a model loaded onto a CUDA
//! device), this module loads the `libtorch_cuda.so` that lies beside the `libtorch_cpu.so` the
//! process runs on, once.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What was found of libtorch's CUDA library, once per process.
#[derive(Debug)]
pub(crate) enum CudaLibrary {
    /// `libtorch_cuda.so` is in the process: it was linked, or loaded here.
    Loaded(PathBuf),
    /// The libtorch in the process has no CUDA library beside its CPU library (a CPU-only
    /// build); `dir` is where it was looked for, when the CPU library was found.
    Absent {
        /// The folder of `libtorch_cpu.so`.
        dir: Option<PathBuf>,
    },
    /// `libtorch_cuda.so` is there but could not be loaded (for instance a CUDA runtime library
    /// it needs is missing).
    Failed {
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },
}

impl CudaLibrary {
    /// Why libtorch may see no CUDA device, given what was found of its CUDA library: the end of
    /// the error [`device()`](crate::device) returns.
    pub(crate) fn no_device_reason(&self) -> String {
        match self {
            CudaLibrary::Loaded(path) => format!(
                "libtorch sees no CUDA device (its CUDA library {} is loaded: no GPU or no driver, or CUDA was \
                 used before this call; libtorch looks for it once per process)",
                path.display()
            ),
            CudaLibrary::Absent { dir: Some(dir) } => format!(
                "libtorch sees no CUDA device: this libtorch has no CUDA library (no libtorch_cuda.so in {}: a \
                 CPU-only build)",
                dir.display()
            ),
            CudaLibrary::Absent { dir: None } => {
                "libtorch sees no CUDA device (no GPU, no driver, or a CPU-only libtorch)".to_string()
            }
            CudaLibrary::Failed { path, reason } => {
                format!(
                    "libtorch sees no CUDA device: its CUDA library {} could not be loaded: {reason}",
                    path.display()
                )
            }
        }
    }
}

/// Loads libtorch's CUDA library if it is beside the CPU library and not in the process yet;
/// the outcome of the first call is kept and returned by every later one.
pub(crate) fn load_cuda_library() -> &'static CudaLibrary {
    static LOADED: OnceLock<CudaLibrary> = OnceLock::new();
    LOADED.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        if let Some(path) = mapped_library(&maps, "libtorch_cuda.so") {
            return CudaLibrary::Loaded(path);
        }
        let Some(dir) = mapped_library(&maps, "libtorch_cpu.so").and_then(|cpu| cpu.parent().map(Path::to_path_buf))
        else {
            return CudaLibrary::Absent { dir: None };
        };
        let path = dir.join("libtorch_cuda.so");
        if !path.is_file() {
            return CudaLibrary::Absent { dir: Some(dir) };
        }
        open_for_good(&path)
    })
}

/// Opens `path` with its symbols global (as libtorch's own libraries are) and never closes it:
/// the CUDA backend it registers must outlive every tensor.
#[cfg(unix)]
fn open_for_good(path: &Path) -> CudaLibrary {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: loading runs the library's initialisers; libtorch_cuda.so's register libtorch's CUDA
    // backend with the libtorch_cpu.so already in the process, beside which it was found.
    match unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) } {
        Ok(library) => {
            std::mem::forget(library);
            CudaLibrary::Loaded(path.to_path_buf())
        }
        Err(e) => CudaLibrary::Failed { path: path.to_path_buf(), reason: e.to_string() },
    }
}

#[cfg(not(unix))]
fn open_for_good(path: &Path) -> CudaLibrary {
    CudaLibrary::Failed { path: path.to_path_buf(), reason: "loading it is implemented on Unix only".into() }
}

/// The path of the file named `name` among the mappings of `/proc/self/maps` (`maps`), if any.
fn mapped_library(maps: &str, name: &str) -> Option<PathBuf> {
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.rsplit('/').next() == Some(name))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
7f00a0000000-7f00a1000000 r-xp 00000000 fd:00 123 /venv/torch/lib/libtorch_cpu.so
7f00a2000000-7f00a2100000 r--p 00000000 fd:00 124 /venv/torch/lib/libc10.so
7f00a3000000-7f00a3001000 rw-p 00000000 00:00 0
7f00a4000000-7f00a4001000 r--p 00000000 fd:00 125 /opt/other/libtorch_cuda.so.bak
";

    #[test]
    fn a_library_is_found_by_its_file_name_only() {
        assert_eq!(mapped_library(MAPS, "libtorch_cpu.so"), Some(PathBuf::from("/venv/torch/lib/libtorch_cpu.so")));
        // A longer name that starts the same is another file; an anonymous mapping has no path.
        assert_eq!(mapped_library(MAPS, "libtorch_cuda.so"), None);
        assert_eq!(mapped_library(MAPS, "libtorch.so"), None);
        assert_eq!(mapped_library("", "libtorch_cpu.so"), None);
    }

    #[test]
    fn each_outcome_names_its_cause() {
        let dir = PathBuf::from("/venv/torch/lib");
        assert!(CudaLibrary::Absent { dir: Some(dir.clone()) }.no_device_reason().contains("CPU-only build"));
        assert!(CudaLibrary::Absent { dir: Some(dir.clone()) }.no_device_reason().contains("/venv/torch/lib"));
        let failed =
            CudaLibrary::Failed { path: dir.join("libtorch_cuda.so"), reason: "libcudart.so.13: not found".into() };
        assert!(failed.no_device_reason().contains("libcudart.so.13: not found"));
        assert!(CudaLibrary::Loaded(dir.join("libtorch_cuda.so")).no_device_reason().contains("no GPU or no driver"));
    }
}
