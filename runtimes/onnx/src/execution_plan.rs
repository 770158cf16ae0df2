//! How model calls use the cores: inference sessions × intra-op threads per session × rows
//! per model call.

use std::fmt;

use crate::device::Device;
use crate::model_signature::BatchDimension;
use crate::onnx_error::OnnxError;
use crate::runtime_choice::Runtime;

/// How an attribution's model calls run.
///
/// - `sessions`: model calls that run at the same time, each on its own inference session
///   (for tract, its own run of the shared plan). The thread that builds the batches runs
///   calls too (see the core's `Parallel`).
/// - `intra_threads`: threads one call uses inside the runtime (ONNX Runtime's intra-op
///   threads; tract always uses 1).
/// - `perturbations_per_eval`: perturbed copies per model call, the rows of each batch. A
///   model with a symbolic batch runs them in one call of the runtime; a fixed-batch model
///   runs them in chunks of its batch (the last chunk padded).
///
/// - `device`: where the calls run (a GPU only on ONNX Runtime).
///
/// The cores in use are `sessions × intra_threads`. Maps do not depend on the plan: the core
/// scores every call in call order, and a row's output does not depend on the other rows
/// (a GPU's kernels round differently from the CPU's, so maps of two devices agree to
/// rounding, not bit for bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExecutionPlan {
    /// Model calls running at once.
    pub sessions: usize,
    /// Threads per call inside the runtime.
    pub intra_threads: usize,
    /// Rows per model call.
    pub perturbations_per_eval: usize,
    /// Where the calls run.
    pub device: Device,
}

impl fmt::Display for ExecutionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} session{} × {} intra-op thread{}, {} row{} per call",
            self.sessions,
            if self.sessions == 1 { "" } else { "s" },
            self.intra_threads,
            if self.intra_threads == 1 { "" } else { "s" },
            self.perturbations_per_eval,
            if self.perturbations_per_eval == 1 { "" } else { "s" }
        )?;
        match self.device {
            Device::Cpu => Ok(()),
            gpu => write!(f, ", on {gpu}"),
        }
    }
}

/// Input values per call the plan aims at for ONNX Runtime on a model with a symbolic batch:
/// the rows per call are `clamp(ORT_VALUES_PER_CALL / (d_1 ⋯ d_m), 1, ORT_MAX_ROWS)`.
///
/// Measured on 2 cores (see `docs/onnx.md`): EfficientNet-Lite0 on 224 × 224 images (150 528
/// values per row) runs fastest one row per call, with one single-threaded session per core;
/// bigger batches spill the activations out of the caches. Small inputs gain from batching,
/// which spreads the per-call cost over the rows.
pub const ORT_VALUES_PER_CALL: usize = 1 << 16;

/// The most rows per call the plan chooses by itself.
pub const ORT_MAX_ROWS: usize = 16;

/// The rows per call of the default plan for ONNX Runtime, for `example_len` input values per
/// row: `clamp(ORT_VALUES_PER_CALL / example_len, 1, ORT_MAX_ROWS)`.
///
/// ```
/// use tiled_occlusion_onnx::ort_default_rows;
/// assert_eq!(ort_default_rows(3 * 224 * 224), 1);
/// assert_eq!(ort_default_rows(28 * 28), 16);
/// assert_eq!(ort_default_rows(3 * 64 * 64), 5);
/// ```
pub fn ort_default_rows(example_len: usize) -> usize {
    rows_per_call(ORT_VALUES_PER_CALL, example_len, ORT_MAX_ROWS)
}

/// `clamp(values_per_call / example_len, 1, max_rows)`: the rule of both default plans.
fn rows_per_call(values_per_call: usize, example_len: usize, max_rows: usize) -> usize {
    (values_per_call / example_len.max(1)).clamp(1, max_rows)
}

/// Input values per call the plan aims at on a GPU, for a model with a symbolic batch: the
/// rows per call are `clamp(GPU_VALUES_PER_CALL / (d_1 ⋯ d_m), 1, GPU_MAX_ROWS)` (55 for
/// 224 × 224 RGB, 32 MiB of `f32` input per call).
///
/// A documented rule, not a measurement: a GPU runs a call's rows side by side, so it wants
/// many rows per call, up to what its memory and the activations allow; we have not yet
/// measured it on a GPU (see `docs/onnx.md`). Give `perturbations_per_eval` to choose.
pub const GPU_VALUES_PER_CALL: usize = 1 << 23;

/// The most rows per call the plan chooses by itself on a GPU.
pub const GPU_MAX_ROWS: usize = 256;

/// The rows per call of the default plan on a GPU, for `example_len` input values per row:
/// `clamp(GPU_VALUES_PER_CALL / example_len, 1, GPU_MAX_ROWS)`.
///
/// ```
/// use tiled_occlusion_onnx::gpu_default_rows;
/// assert_eq!(gpu_default_rows(3 * 224 * 224), 55);
/// assert_eq!(gpu_default_rows(28 * 28), 256);
/// assert_eq!(gpu_default_rows(3 * 4096 * 4096), 1);
/// ```
pub fn gpu_default_rows(example_len: usize) -> usize {
    rows_per_call(GPU_VALUES_PER_CALL, example_len, GPU_MAX_ROWS)
}

/// What the caller fixes of the plan; the rest is chosen by [`PlanRequest::resolve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PlanRequest {
    /// The cores to use in all (default: every core).
    pub threads: Option<usize>,
    /// Inference sessions.
    pub sessions: Option<usize>,
    /// Intra-op threads per session.
    pub intra_threads: Option<usize>,
    /// Rows per model call.
    pub perturbations_per_eval: Option<usize>,
    /// Where the calls run (default: the CPU).
    pub device: Device,
}

impl PlanRequest {
    /// The plan for `runtime` on a model whose batch is `batch` and whose rows hold
    /// `example_len` values, on `cores` cores.
    ///
    /// With `T = threads` (default `cores`):
    /// - tract: `T` sessions × 1 thread (tract runs a call on one thread; asking for more
    ///   intra-op threads is an error), 1 row per call;
    /// - ONNX Runtime: `T` sessions × 1 intra-op thread unless one of the two is given (then
    ///   the other is `max(1, T / given)`); [`ort_default_rows`] of the `example_len` values
    ///   per row for a symbolic batch, the fixed batch otherwise;
    /// - ONNX Runtime on a GPU: 1 session × 1 intra-op thread unless given (the GPU runs a
    ///   call's rows side by side; `threads` is not used), [`gpu_default_rows`] rows per call
    ///   for a symbolic batch, the fixed batch otherwise. tract on a GPU is an
    ///   [`OnnxError::DeviceUnsupported`].
    ///
    /// Whatever is given is used as given. Every number must be at least 1.
    ///
    /// ```
    /// use tiled_occlusion_onnx::{BatchDimension, Device, ExecutionPlan, PlanRequest, Runtime};
    ///
    /// let image = 3 * 224 * 224;
    /// let plan = PlanRequest::default().resolve(Runtime::Ort, BatchDimension::Symbolic, image, 2).unwrap();
    /// assert_eq!(plan, ExecutionPlan { sessions: 2, intra_threads: 1, perturbations_per_eval: 1, device: Device::Cpu });
    /// let request = PlanRequest { intra_threads: Some(2), ..PlanRequest::default() };
    /// let plan = request.resolve(Runtime::Ort, BatchDimension::Fixed(1), image, 2).unwrap();
    /// assert_eq!(plan, ExecutionPlan { sessions: 1, intra_threads: 2, perturbations_per_eval: 1, device: Device::Cpu });
    /// assert!(request.resolve(Runtime::Tract, BatchDimension::Symbolic, image, 2).is_err());
    /// let gpu = PlanRequest { device: Device::Cuda(0), ..PlanRequest::default() };
    /// let plan = gpu.resolve(Runtime::Ort, BatchDimension::Symbolic, image, 16).unwrap();
    /// assert_eq!(plan, ExecutionPlan { sessions: 1, intra_threads: 1, perturbations_per_eval: 55, device: Device::Cuda(0) });
    /// ```
    pub fn resolve(
        &self,
        runtime: Runtime,
        batch: BatchDimension,
        example_len: usize,
        cores: usize,
    ) -> Result<ExecutionPlan, OnnxError> {
        let positive = |parameter: &'static str, value: Option<usize>| match value {
            Some(0) => Err(OnnxError::InvalidPlan { parameter, value: 0, reason: "use at least 1".into() }),
            Some(n) if n > MAX_PLAN_THREADS && parameter != "perturbations_per_eval" => Err(OnnxError::InvalidPlan {
                parameter,
                value: n,
                reason: format!("use at most {MAX_PLAN_THREADS} (the most threads a plan runs)"),
            }),
            v => Ok(v),
        };
        let threads = positive("threads", self.threads)?.unwrap_or(cores.max(1));
        let sessions = positive("sessions", self.sessions)?;
        let intra = positive("intra_threads", self.intra_threads)?;
        let rows = positive("perturbations_per_eval", self.perturbations_per_eval)?;
        let fixed_rows = batch.fixed_rows();
        let device = self.device;
        let plan = match runtime {
            Runtime::Tract if device.is_gpu() => return Err(OnnxError::DeviceUnsupported { device, runtime }),
            Runtime::Tract => {
                if let Some(n) = intra.filter(|&n| n > 1) {
                    return Err(OnnxError::InvalidPlan {
                        parameter: "intra_threads",
                        value: n,
                        reason: "tract runs each call on one thread; use more sessions instead".into(),
                    });
                }
                ExecutionPlan {
                    sessions: sessions.unwrap_or(threads),
                    intra_threads: 1,
                    perturbations_per_eval: rows.or(fixed_rows).unwrap_or(1),
                    device,
                }
            }
            Runtime::Ort if device.is_gpu() => ExecutionPlan {
                sessions: sessions.unwrap_or(1),
                intra_threads: intra.unwrap_or(1),
                perturbations_per_eval: rows.or(fixed_rows).unwrap_or_else(|| gpu_default_rows(example_len)),
                device,
            },
            Runtime::Ort => {
                let (sessions, intra_threads) = match (sessions, intra) {
                    (Some(s), Some(i)) => (s, i),
                    (Some(s), None) => (s, (threads / s).max(1)),
                    (None, Some(i)) => ((threads / i).max(1), i),
                    (None, None) => (threads, 1),
                };
                ExecutionPlan {
                    sessions,
                    intra_threads,
                    perturbations_per_eval: rows.or(fixed_rows).unwrap_or_else(|| ort_default_rows(example_len)),
                    device,
                }
            }
        };
        if plan.sessions.checked_mul(plan.intra_threads).is_none_or(|t| t > MAX_PLAN_THREADS) {
            return Err(OnnxError::InvalidPlan {
                parameter: "sessions",
                value: plan.sessions,
                reason: format!(
                    "sessions × intra_threads ({} × {}) must be at most {MAX_PLAN_THREADS}",
                    plan.sessions, plan.intra_threads
                ),
            });
        }
        Ok(plan)
    }
}

/// The most threads a plan runs (sessions × intra-op threads), as the core's
/// `Parallel::MAX_THREADS`: more is an [`OnnxError::InvalidPlan`], not thousands of threads.
pub const MAX_PLAN_THREADS: usize = 1024;

#[cfg(test)]
mod tests {
    use super::{ort_default_rows, ExecutionPlan, PlanRequest};
    use crate::device::Device;
    use crate::model_signature::BatchDimension::{Fixed, Symbolic};
    use crate::onnx_error::OnnxError;
    use crate::runtime_choice::Runtime::{Ort, Tract};

    fn plan(sessions: usize, intra_threads: usize, perturbations_per_eval: usize) -> ExecutionPlan {
        ExecutionPlan { sessions, intra_threads, perturbations_per_eval, device: Device::Cpu }
    }

    #[test]
    fn thread_counts_are_capped() {
        for (request, parameter) in [
            (PlanRequest { threads: Some(1 << 62), ..PlanRequest::default() }, "threads"),
            (PlanRequest { threads: Some(1 << 40), ..PlanRequest::default() }, "threads"),
            (PlanRequest { threads: Some(100_000), ..PlanRequest::default() }, "threads"),
            (PlanRequest { sessions: Some(1025), ..PlanRequest::default() }, "sessions"),
            (PlanRequest { intra_threads: Some(4096), ..PlanRequest::default() }, "intra_threads"),
            (PlanRequest { sessions: Some(64), intra_threads: Some(64), ..PlanRequest::default() }, "sessions"),
        ] {
            match request.resolve(Ort, Symbolic, 150_528, 2) {
                Err(OnnxError::InvalidPlan { parameter: p, .. }) => assert_eq!(p, parameter, "{request:?}"),
                other => panic!("{request:?}: expected InvalidPlan, got {other:?}"),
            }
        }
        let most = PlanRequest { threads: Some(1024), ..PlanRequest::default() };
        assert_eq!(most.resolve(Tract, Symbolic, 150_528, 2).ok(), Some(plan(1024, 1, 1)));
    }

    #[test]
    fn defaults_fill_the_cores() {
        let none = PlanRequest::default();
        assert_eq!(none.resolve(Tract, Symbolic, 150_528, 4).ok(), Some(plan(4, 1, 1)));
        assert_eq!(none.resolve(Ort, Symbolic, 150_528, 4).ok(), Some(plan(4, 1, 1)));
        assert_eq!(none.resolve(Ort, Symbolic, 784, 4).ok(), Some(plan(4, 1, 16)));
        assert_eq!(ort_default_rows(0), 16);
        assert_eq!(none.resolve(Ort, Fixed(1), 150_528, 2).ok(), Some(plan(2, 1, 1)));
        assert_eq!(none.resolve(Ort, Fixed(8), 150_528, 0).ok(), Some(plan(1, 1, 8)));
        let three = PlanRequest { threads: Some(3), ..none };
        assert_eq!(three.resolve(Tract, Fixed(1), 150_528, 16).ok(), Some(plan(3, 1, 1)));
        let two_sessions = PlanRequest { threads: Some(5), sessions: Some(2), ..none };
        assert_eq!(two_sessions.resolve(Ort, Symbolic, 150_528, 16).ok(), Some(plan(2, 2, 1)));
        let wide = PlanRequest { intra_threads: Some(8), ..none };
        assert_eq!(wide.resolve(Ort, Symbolic, 150_528, 2).ok(), Some(plan(1, 8, 1)));
    }

    #[test]
    fn given_numbers_are_kept() {
        let all = PlanRequest {
            threads: Some(1),
            sessions: Some(3),
            intra_threads: Some(2),
            perturbations_per_eval: Some(5),
            device: Device::Cpu,
        };
        assert_eq!(all.resolve(Ort, Fixed(1), 150_528, 2).ok(), Some(plan(3, 2, 5)));
        let tract = PlanRequest { intra_threads: Some(1), perturbations_per_eval: Some(7), ..PlanRequest::default() };
        assert_eq!(tract.resolve(Tract, Symbolic, 150_528, 2).ok(), Some(plan(2, 1, 7)));
    }

    #[test]
    fn zeros_overflows_and_threaded_tract_are_errors() {
        for request in [
            PlanRequest { threads: Some(0), ..PlanRequest::default() },
            PlanRequest { sessions: Some(0), ..PlanRequest::default() },
            PlanRequest { intra_threads: Some(0), ..PlanRequest::default() },
            PlanRequest { perturbations_per_eval: Some(0), ..PlanRequest::default() },
            PlanRequest { sessions: Some(usize::MAX), intra_threads: Some(2), ..PlanRequest::default() },
        ] {
            assert!(
                matches!(request.resolve(Ort, Symbolic, 150_528, 2), Err(OnnxError::InvalidPlan { .. })),
                "{request:?}"
            );
        }
        let threaded = PlanRequest { intra_threads: Some(2), ..PlanRequest::default() };
        match threaded.resolve(Tract, Symbolic, 150_528, 2) {
            Err(e @ OnnxError::InvalidPlan { parameter: "intra_threads", .. }) => {
                assert!(e.to_string().contains("tract"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod gpu_tests {
    use super::{gpu_default_rows, ExecutionPlan, PlanRequest, GPU_MAX_ROWS};
    use crate::device::Device;
    use crate::model_signature::BatchDimension::{Fixed, Symbolic};
    use crate::onnx_error::OnnxError;
    use crate::runtime_choice::Runtime::{Ort, Tract};

    #[test]
    fn a_gpu_plan_is_one_session_of_many_rows() {
        let gpu = PlanRequest { device: Device::Cuda(1), ..PlanRequest::default() };
        let plan = |sessions, intra_threads, perturbations_per_eval| ExecutionPlan {
            sessions,
            intra_threads,
            perturbations_per_eval,
            device: Device::Cuda(1),
        };
        // The cores do not matter on a GPU.
        for cores in [1, 2, 64] {
            assert_eq!(gpu.resolve(Ort, Symbolic, 150_528, cores).ok(), Some(plan(1, 1, 55)));
        }
        assert_eq!(gpu.resolve(Ort, Symbolic, 784, 2).ok(), Some(plan(1, 1, GPU_MAX_ROWS)));
        assert_eq!(gpu.resolve(Ort, Fixed(8), 150_528, 2).ok(), Some(plan(1, 1, 8)));
        let given = PlanRequest { sessions: Some(2), intra_threads: Some(3), perturbations_per_eval: Some(16), ..gpu };
        assert_eq!(given.resolve(Ort, Symbolic, 150_528, 2).ok(), Some(plan(2, 3, 16)));
        assert_eq!(gpu_default_rows(0), GPU_MAX_ROWS);
        assert_eq!(gpu_default_rows(usize::MAX), 1);
        assert_eq!(plan(1, 1, 55).to_string(), "1 session × 1 intra-op thread, 55 rows per call, on cuda:1");
        // Zeros and oversized numbers are refused on a GPU too.
        let zero = PlanRequest { perturbations_per_eval: Some(0), ..gpu };
        assert!(matches!(zero.resolve(Ort, Symbolic, 150_528, 2), Err(OnnxError::InvalidPlan { .. })));
        let many = PlanRequest { sessions: Some(2048), ..gpu };
        assert!(matches!(many.resolve(Ort, Symbolic, 150_528, 2), Err(OnnxError::InvalidPlan { .. })));
    }

    #[test]
    fn tract_on_a_gpu_is_named() {
        let gpu = PlanRequest { device: Device::Cuda(0), ..PlanRequest::default() };
        match gpu.resolve(Tract, Symbolic, 150_528, 2) {
            Err(e @ OnnxError::DeviceUnsupported { .. }) => {
                let text = e.to_string();
                assert!(text.contains("tract") && text.contains("cuda:0") && text.contains("ONNX Runtime"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }
}
