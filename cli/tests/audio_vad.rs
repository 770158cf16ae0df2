//! End to end on a real audio model of several inputs: Silero VAD (16 kHz, from the
//! `silero-vad` wheel; `scripts/assets/assets.py test` fetches it): inputs `input` (N, samples),
//! `state` (2, N, 128) with the batch on axis 1, and `sr`, an i64 scalar. `explain-tensor`
//! explains the samples with the state and the sample rate held fixed (`--fixed state=…@1`,
//! `--fixed sr=…@none`); its map must equal the drops of the speech probability computed here
//! by hand, the model run on the chunk with each window of samples at the baseline. The
//! sequence length is symbolic: `explain-tensor` takes it from the input file.

mod common;

use std::process::Command;

use ndarray::ArrayD;
use tiled_occlusion_onnx::{FixedInput, OnnxModel, OnnxOptions, RuntimeChoice};

const MODEL: &str = "silero_vad_16k_op15.onnx";

#[test]
fn the_voice_detector_is_explained_with_its_state_and_rate_held_fixed() {
    let Some(assets) = common::test_assets(MODEL) else { return };
    let model_path = assets.join(MODEL);
    let dir = std::env::temp_dir().join(format!("tiled-occlusion-vad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The README's inputs (`scripts/assets/make_vad_inputs.py`): 512 samples (32 ms) of a
    // decaying 220 Hz tone with a 1.3 kHz overtone, a zero state, the rate 16000.
    let (x_path, state_path, sr_path) =
        (assets.join("vad_chunk.npy"), assets.join("vad_state.npy"), assets.join("vad_sr.npy"));
    let x: ArrayD<f32> = ndarray_npy::read_npy(&x_path).expect("the chunk");
    let state: ArrayD<f32> = ndarray_npy::read_npy(&state_path).expect("the state");
    let sr: ArrayD<i64> = ndarray_npy::read_npy(&sr_path).expect("the rate");
    assert_eq!(
        (x.shape(), state.shape(), sr.shape(), sr.iter().next()),
        (&[1, 512][..], &[2, 1, 128][..], &[][..], Some(&16000))
    );
    // ONNX Runtime only: tract 0.23 cannot type the model's `If` branches (they differ in rank),
    // so loading it on tract is a named runtime error.
    {
        let runtime = RuntimeChoice::Ort;
        let options = OnnxOptions::default()
            .runtime(runtime)
            .example_shape([512])
            .explained_input("input")
            .fixed_input(FixedInput::per_example("state", state.clone()).with_batch_axis(1))
            .fixed_input(FixedInput::whole("sr", sr.clone()));
        let model = OnnxModel::load(&model_path, &options).expect("Silero VAD with its state and rate fixed");
        let score = |x: &ArrayD<f32>| model.classify(x).expect("the model runs")[[0, 0]];
        let whole = score(&x);
        assert!((0.0..=1.0).contains(&whole), "a speech probability: {whole}");
        let width = 64;
        let want: Vec<f32> = (0..512 / width)
            .flat_map(|w| {
                let mut hidden = x.clone();
                (w * width..(w + 1) * width).for_each(|t| hidden[[0, t]] = 0.0);
                std::iter::repeat_n(whole - score(&hidden), width)
            })
            .collect();
        let out = dir.join(format!("out-{runtime}"));
        let o = Command::new(env!("CARGO_BIN_EXE_tiled-occlusion"))
            .arg("explain-tensor")
            .arg(&x_path)
            .arg("--model")
            .arg(&model_path)
            .args(["--runtime", &runtime.to_string(), "--input", "input", "--fixed"])
            .arg(format!("state={}@1", state_path.display()))
            .arg("--fixed")
            .arg(format!("sr={}@none", sr_path.display()))
            .args(["--window", "64", "--strides", "64", "--target", "0", "--output"])
            .arg(&out)
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let map: ArrayD<f32> = ndarray_npy::read_npy(out.join("vad_chunk.occlusion.npy")).expect("the map");
        let worst = map.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{runtime}: {worst:e} from the drops by hand");
        assert!(want.iter().any(|v| v.abs() > 1e-6), "some window matters: {want:?}");
        assert!(out.join("vad_chunk.occlusion.png").is_file(), "the signal picture");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
