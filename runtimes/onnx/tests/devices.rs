//! Devices: a GPU is ONNX Runtime's CUDA execution provider or a named error, never a silent
//! run on the CPU. Here (no GPU, the CPU build of ONNX Runtime) every GPU request must fail
//! with an error that names the device, the library and the fix; on the CPU the device
//! changes nothing.

mod common;

use common::{fixture, load, runtimes};
use tiled_occlusion_onnx::{Device, OnnxError, OnnxModel, OnnxOptions, RuntimeChoice};

#[test]
fn tract_on_a_gpu_is_named_before_the_model_is_read() {
    let options = OnnxOptions::default().runtime(RuntimeChoice::Tract).device(Device::Cuda(0));
    match OnnxModel::load(fixture("linear.onnx"), &options) {
        Err(e @ OnnxError::DeviceUnsupported { .. }) => {
            let text = e.to_string();
            assert!(text.contains("tract") && text.contains("cuda:0") && text.contains("runtime ort"), "{text}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("tract ran on a GPU"),
    }
}

#[test]
fn the_cpu_device_is_the_default_plan() {
    for runtime in runtimes() {
        let default = load("small_cnn.onnx", runtime, OnnxOptions::default());
        assert_eq!(default.plan().device, Device::Cpu, "{runtime}");
        assert!(!default.describe().contains("cuda"), "{}", default.describe());
    }
}

#[test]
fn tf32_on_the_cpu_is_named_not_ignored() {
    for runtime in runtimes() {
        let options = OnnxOptions::default().runtime(runtime).tf32(true);
        match OnnxModel::load(fixture("linear.onnx"), &options) {
            Err(e @ OnnxError::GpuOnlyOption { option: "tf32", device: Device::Cpu }) => {
                assert!(e.to_string().contains("applies to a GPU only"), "{e}")
            }
            Err(other) => panic!("{runtime}: {other}"),
            Ok(model) => panic!("{runtime}: ran {} with tf32 on the CPU", model.describe()),
        }
    }
}

#[cfg(feature = "ort")]
#[test]
fn a_gpu_without_onnx_runtime_is_an_error_not_tract() {
    // `auto` falls back to tract on the CPU, but tract cannot honour a GPU.
    let missing = std::env::temp_dir().join("tiled-occlusion-no-gpu-here").join("libonnxruntime.so.1.31.1");
    let options = OnnxOptions::default().ort_library(&missing).device(Device::Cuda(0));
    match OnnxModel::load(fixture("linear.onnx"), &options) {
        Err(OnnxError::OrtLibraryMissing { looked, fix }) => {
            assert!(looked.iter().any(|l| l.contains("tiled-occlusion-no-gpu-here")), "{looked:?}");
            // The fix is the GPU build: the CPU build would fail again, as unavailable.
            assert_eq!(fix, tiled_occlusion_onnx::GPU_LIBRARY_FIX);
        }
        Err(other) => panic!("{other}"),
        Ok(model) => panic!("ran on {} without ONNX Runtime", model.describe()),
    }
}

#[cfg(feature = "ort")]
#[test]
fn a_gpu_on_the_cpu_build_of_onnx_runtime_names_the_library_and_the_fix() {
    if !common::ort_available() {
        return;
    }
    let library = tiled_occlusion_onnx::load_ort_library(None).unwrap();
    for (runtime, device) in [(RuntimeChoice::Ort, Device::Cuda(0)), (RuntimeChoice::Auto, Device::Cuda(3))] {
        let options = OnnxOptions::default().runtime(runtime).device(device).tf32(device == Device::Cuda(3));
        match OnnxModel::load(fixture("small_cnn.onnx"), &options) {
            // The CPU build has no CUDA provider; a GPU build on a machine without a GPU fails
            // when the provider starts. Either way the message names the device and the file.
            Err(e @ OnnxError::DeviceUnavailable { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&device.to_string()), "{text}");
                assert!(text.contains(&library.path.display().to_string()), "{text}");
                assert!(text.contains("onnxruntime-gpu") && text.contains("setup-onnxruntime-gpu.sh"), "{text}");
            }
            Err(other) => panic!("{other}"),
            // Only where a GPU and the GPU build are both here.
            Ok(model) => {
                assert_eq!(model.plan().device, device);
                assert_eq!(model.describe().contains("TF32"), options.tf32, "{}", model.describe());
            }
        }
    }
}
