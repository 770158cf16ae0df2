//! A pool of ONNX Runtime inference sessions on one model: `ort`'s `Session::run` takes
//! `&mut self`, so each call that runs at the same time gets its own session.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ort::ep::{ExecutionProvider, ExecutionProviderDispatch, CUDA};
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use crate::declared_dims::check_negative_dims;
use crate::device::Device;
use crate::execution_plan::ExecutionPlan;
use crate::fixed_input::{CallData, CallInput};
use crate::model_signature::{ModelSignature, TensorSignature};
use crate::onnx_error::{OnnxError, GPU_LIBRARY_FIX, GPU_SESSION_FIX};
use crate::ort_library::{ort_environment, OrtLibrary};
use crate::runtime_choice::Runtime;

/// `plan.sessions` sessions of one model, each with `plan.intra_threads` intra-op threads.
pub(crate) struct OrtSessions {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    /// The library the sessions run on.
    pub(crate) library: OrtLibrary,
    /// Whether the GPU's convolutions and matrix products may use TensorFloat-32.
    pub(crate) tf32: bool,
    /// Where the sessions run.
    device: Device,
}

fn failure(action: &'static str, reason: impl ToString) -> OnnxError {
    OnnxError::Runtime { runtime: Runtime::Ort, action, reason: reason.to_string() }
}

/// The declared input or output (`kind`) `name`. ONNX Runtime reports a symbolic dimension as
/// −1; one below is declared negative, an [`OnnxError::NegativeDimension`].
fn tensor_signature(name: &str, dtype: &ValueType, kind: &'static str) -> Result<TensorSignature, OnnxError> {
    match dtype {
        ValueType::Tensor { ty, shape, dimension_symbols } => {
            if let Some((axis, &value)) = shape.iter().enumerate().find(|(_, &d)| d < -1) {
                return Err(OnnxError::NegativeDimension { kind, name: name.to_string(), axis, value });
            }
            Ok(TensorSignature {
                name: name.to_string(),
                element: ty.to_string(),
                is_f32: *ty == TensorElementType::Float32,
                dims: shape.iter().map(|&d| usize::try_from(d).ok()).collect(),
                symbols: shape
                    .iter()
                    .enumerate()
                    .map(|(axis, &d)| dimension_symbols.get(axis).filter(|s| d < 0 && !s.is_empty()).cloned())
                    .collect(),
            })
        }
        other => Ok(TensorSignature {
            name: name.to_string(),
            element: other.to_string(),
            is_f32: false,
            dims: Vec::new(),
            symbols: Vec::new(),
        }),
    }
}

/// The inputs and outputs `session` declares.
fn signature(session: &Session) -> Result<ModelSignature, OnnxError> {
    Ok(ModelSignature {
        inputs: session
            .inputs()
            .iter()
            .map(|i| tensor_signature(i.name(), i.dtype(), "input"))
            .collect::<Result<_, _>>()?,
        outputs: session
            .outputs()
            .iter()
            .map(|o| tensor_signature(o.name(), o.dtype(), "output"))
            .collect::<Result<_, _>>()?,
    })
}

/// The library cannot run on `device`: `fix` is [`GPU_LIBRARY_FIX`] when the provider is
/// missing or cannot start, [`GPU_SESSION_FIX`] when it started but a session did not (an
/// index with no GPU, no free memory, too many sessions).
fn device_unavailable(device: Device, library: &OrtLibrary, reason: String, fix: &'static str) -> OnnxError {
    OnnxError::DeviceUnavailable { device, path: library.path.clone(), version: library.version.clone(), reason, fix }
}

/// The execution providers a session on `device` registers: none on the CPU (ONNX Runtime's
/// own), CUDA's on a GPU, set to fail rather than fall back to the CPU, with TensorFloat-32
/// as `tf32` says (ONNX Runtime's own default is on; ours is off, for f32 maps). A library
/// built without the provider is an [`OnnxError::DeviceUnavailable`] here, before any session.
fn execution_providers(
    device: Device,
    tf32: bool,
    library: &OrtLibrary,
) -> Result<Vec<ExecutionProviderDispatch>, OnnxError> {
    match device {
        Device::Cpu => Ok(Vec::new()),
        Device::Cuda(index) => {
            match CUDA::is_available() {
                Ok(true) => {}
                Ok(false) => {
                    return Err(device_unavailable(
                        device,
                        library,
                        "this build of the library has no CUDA execution provider (the onnxruntime package is \
                         the CPU build)"
                            .into(),
                        GPU_LIBRARY_FIX,
                    ))
                }
                Err(e) => return Err(device_unavailable(device, library, e.to_string(), GPU_LIBRARY_FIX)),
            }
            Ok(vec![CUDA::default().with_device_id(i32::from(index)).with_tf32(tf32).build().error_on_failure()])
        }
    }
}

impl OrtSessions {
    /// Loads ONNX Runtime (see [`crate::load_ort_library`]) and opens `plan.sessions`
    /// sessions on the model at `path` (on a GPU, with TensorFloat-32 when `tf32`).
    pub(crate) fn open(
        path: &Path,
        plan: &ExecutionPlan,
        library: Option<&Path>,
        tf32: bool,
    ) -> Result<(OrtSessions, ModelSignature), OnnxError> {
        let (library, environment) = ort_environment(library).map_err(|e| e.for_device(plan.device))?;
        let providers = execution_providers(plan.device, tf32, &library)?;
        let bytes = std::fs::read(path).map_err(|e| OnnxError::UnreadableModel {
            path: path.to_path_buf(),
            runtime: Runtime::Ort,
            reason: e.to_string(),
        })?;
        check_negative_dims(&bytes)?;
        let unreadable =
            |reason: String| OnnxError::UnreadableModel { path: path.to_path_buf(), runtime: Runtime::Ort, reason };
        // One session on `providers`; a panic inside `ort` becomes an error.
        let open_session = |providers: &[ExecutionProviderDispatch]| -> Result<Session, OnnxError> {
            catch_unwind(AssertUnwindSafe(|| -> Result<Session, OnnxError> {
                let mut builder = Session::builder(&environment)
                    .and_then(|b| b.with_intra_threads(plan.intra_threads).map_err(Into::into))
                    .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
                    // Idle intra-op threads would spin against the threads building batches and
                    // running the other sessions.
                    .and_then(|b| b.with_intra_op_spinning(false).map_err(Into::into))
                    .map_err(|e| unreadable(format!("cannot configure a session: {e}")))?;
                if !providers.is_empty() {
                    builder = builder
                        .with_execution_providers(providers)
                        .map_err(|e| device_unavailable(plan.device, &library, e.to_string(), GPU_LIBRARY_FIX))?;
                }
                builder.commit_from_memory(&bytes).map_err(|e| unreadable(e.to_string()))
            }))
            .map_err(|_| unreadable("ort panicked while opening the model".into()))?
        };
        let mut sessions = Vec::with_capacity(plan.sessions);
        for k in 0..plan.sessions {
            let session = match open_session(&providers) {
                // ONNX Runtime starts the CUDA provider (device, memory arena, cuBLAS and
                // cuDNN handles) while it builds the session, so a first failure is either
                // the model's or the GPU's: the model opened on the CPU tells which. A later
                // one is the GPU's: the model has opened there already.
                Err(OnnxError::UnreadableModel { reason, .. }) if plan.device.is_gpu() && k > 0 => {
                    return Err(device_unavailable(
                        plan.device,
                        &library,
                        format!("session {} of {} could not start: {reason}", k + 1, plan.sessions),
                        GPU_SESSION_FIX,
                    ))
                }
                Err(OnnxError::UnreadableModel { reason, .. }) if plan.device.is_gpu() && open_session(&[]).is_ok() => {
                    return Err(device_unavailable(
                        plan.device,
                        &library,
                        format!("the model opens on the CPU but not on the GPU: {reason}"),
                        GPU_SESSION_FIX,
                    ))
                }
                other => other?,
            };
            sessions.push(session);
        }
        let signature = sessions.first().map(signature).ok_or_else(|| OnnxError::InvalidPlan {
            parameter: "sessions",
            value: 0,
            reason: "use at least 1".into(),
        })??;
        let pool = OrtSessions {
            sessions: sessions.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
            library,
            tf32,
            device: plan.device,
        };
        Ok((pool, signature))
    }

    /// A free session: the first one not in use, or (when every session is busy because more
    /// threads than sessions call) the next in turn, waited for.
    fn session(&self) -> MutexGuard<'_, Session> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            if let Ok(guard) = self.sessions[(start + k) % n].try_lock() {
                return guard;
            }
        }
        // A session whose caller panicked is still usable: `run` leaves no partial state.
        self.sessions[start % n].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs the model on `inputs` (every input, in graph order) and returns output `output`'s
    /// shape and values.
    pub(crate) fn run(&self, output: usize, inputs: &[CallInput<'_>]) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let mut values: Vec<SessionInputValue<'_>> = Vec::with_capacity(inputs.len());
        for input in inputs {
            let shape = input.shape.clone();
            values.push(
                match &input.data {
                    CallData::F32(v) => TensorRef::from_array_view((shape, &v[..])).map(Into::into),
                    CallData::I64(v) => TensorRef::from_array_view((shape, &v[..])).map(Into::into),
                }
                .map_err(|e| failure("take the input", e))?,
            );
        }
        let mut session = self.session();
        // On a GPU the reason (out of memory, a kernel that failed) names the device.
        let outputs = session.run(values.as_slice()).map_err(|e| match self.device {
            Device::Cpu => failure("run the model", e),
            gpu => failure("run the model", format!("on {gpu}: {e}")),
        })?;
        let value = outputs.values().nth(output).ok_or_else(|| failure("run the model", "an output is missing"))?;
        let name = outputs.keys().nth(output).unwrap_or_default().to_string();
        let (out_shape, values) = value
            .try_extract_tensor::<f32>()
            .map_err(|e| OnnxError::OutputNotF32 { name: name.clone(), element: e.to_string() })?;
        let dims = out_shape.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect();
        Ok((dims, values.to_vec()))
    }
}
