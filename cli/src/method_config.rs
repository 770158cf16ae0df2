//! Method configurations as `evaluate` takes them: `occlusion:W:S`, `tiled:W:K`,
//! `tiled-reference:W:K` (window, strides or k over height and width, all channels).

use tiled_occlusion_core::{Attribution, Occlusion, TiledOcclusion, TilingMode};
use tiled_occlusion_ndarray::Ndarray;
use tiled_occlusion_onnx::InputGeometry;

use crate::cli_error::{usage, CliError};
use crate::window_spec::SizeSpec;

/// A parsed configuration.
pub struct MethodConfig {
    /// As written, e.g. `tiled:18:2`.
    pub label: String,
    /// The method.
    pub method: Box<dyn Attribution<Ndarray<f32>>>,
}

/// The configurations of the study (docs/study.md), at output resolution 9 on 224×224.
pub const STUDY_CONFIGS: [&str; 5] =
    ["occlusion:9:9", "occlusion:18:9", "tiled:18:2", "tiled-reference:18:2", "tiled:36:4"];

/// The command's limits on `k` (`what` names the option in the message): at most the input's
/// size per dimension (more tilings than positions only repeat windows, and
/// `--window 1000000000 --k 1000000000` asked for 10⁹ model calls), and at most 2 in reference
/// mode, whose phases `φ ≥ 2` give the model shorter inputs than the fixed size an ONNX
/// classifier takes (it failed on the first such call, "224=224 != 196").
pub(crate) fn check_k(what: &str, k: &[usize], example: &[usize], mode: TilingMode) -> Result<(), CliError> {
    if let Some(r) = (0..k.len()).find(|&r| k[r] > example[r]) {
        return usage(format!(
            "{what} {} is larger than the model's input {example:?} in dimension {r}: at most one tiling per position",
            k[r]
        ));
    }
    if mode == TilingMode::Reference {
        if let Some(r) = (0..k.len()).find(|&r| k[r] > 2) {
            return usage(format!(
                "{what} {} in dimension {r}: the reference mode's phases beyond the second give the model smaller inputs than its fixed size; use k ≤ 2 there or the shifted mode",
                k[r]
            ));
        }
    }
    Ok(())
}

impl MethodConfig {
    /// Parses `METHOD:WINDOW:STRIDES_OR_K` for an input of `geometry`, with
    /// `perturbations_per_eval` occluded copies per model call.
    pub fn parse(text: &str, geometry: InputGeometry, perturbations_per_eval: usize) -> Result<MethodConfig, CliError> {
        let parts: Vec<&str> = text.split(':').collect();
        let [kind, window, third] = parts.as_slice() else {
            return usage(format!("--config {text:?}: expected METHOD:WINDOW:STRIDES (occlusion) or METHOD:WINDOW:K (tiled, tiled-reference)"));
        };
        let example = geometry.example_shape();
        let window =
            SizeSpec::parse("window", window)?.resolve("window", &example, geometry.layout, geometry.channels)?;
        let method: Box<dyn Attribution<Ndarray<f32>>> = match *kind {
            "occlusion" => {
                let channel = window[geometry.channel_axis()];
                let strides =
                    SizeSpec::parse("strides", third)?.resolve("strides", &example, geometry.layout, channel)?;
                Box::new(
                    Occlusion::new(window).with_strides(strides).with_perturbations_per_eval(perturbations_per_eval),
                )
            }
            "tiled" | "tiled-reference" => {
                let k = SizeSpec::parse("k", third)?.resolve("k", &example, geometry.layout, 1)?;
                let mode = if *kind == "tiled" { TilingMode::Shifted } else { TilingMode::Reference };
                check_k(&format!("--config {text:?}: k"), &k, &example, mode)?;
                Box::new(
                    TiledOcclusion::new(window, k).with_mode(mode).with_perturbations_per_eval(perturbations_per_eval),
                )
            }
            other => {
                return usage(format!(
                    "--config {text:?}: unknown method {other:?} (occlusion, tiled or tiled-reference)"
                ))
            }
        };
        // Every setting checked against the input now, before any photo is explained.
        let input_shape: Vec<usize> = [&[1][..], &example].concat();
        method.model_calls(&input_shape)?;
        Ok(MethodConfig { label: text.to_string(), method })
    }
}
