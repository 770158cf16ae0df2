//! The fixtures of the small TorchScript CNN the tch backend is tested on
//! (`scripts/fixtures/make_torchscript_fixture.py` writes them next to `small_cnn.pt`): Captum's
//! Occlusion and gradient-method results on it, and its weights, for every test that compares
//! with them.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// A tensor in a fixture: its shape (empty for a vector whose shape does not matter) and its
/// row-major values.
#[derive(Clone, Debug, Deserialize)]
pub struct Values {
    /// The shape.
    #[serde(default)]
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f64>,
}

/// `small_cnn_occlusion.json`: Captum's Occlusion on the CNN.
#[derive(Clone, Debug, Deserialize)]
pub struct OcclusionFixture {
    /// The input batch.
    pub input: Values,
    /// The sliding window.
    pub window: Vec<usize>,
    /// The strides.
    pub strides: Vec<usize>,
    /// The scalar baseline.
    pub baseline: f64,
    /// One class per example.
    pub target: Vec<usize>,
    /// Captum's map with the float32 network.
    pub captum_float32: Values,
    /// Captum's map with the float64 network.
    pub captum_float64: Values,
}

/// `small_cnn_gradients.json`: Captum's gradient methods on the CNN, and its weights.
#[derive(Clone, Debug, Deserialize)]
pub struct GradientFixture {
    /// The input batch.
    pub input: Values,
    /// The scalar baseline of Integrated Gradients.
    pub baseline: f64,
    /// One class per example.
    pub target: Vec<usize>,
    /// `n_steps` of Integrated Gradients.
    pub ig_steps: usize,
    /// `internal_batch_size` of Integrated Gradients.
    pub ig_internal_batch_size: usize,
    /// The network's `state_dict`, by name.
    pub weights: HashMap<String, Values>,
    /// Captum's results by name (`saliency_abs_float64`, `ig_gausslegendre_float64_delta`, …).
    pub results: HashMap<String, Values>,
}

impl GradientFixture {
    /// Captum's result `key`, or a panic naming the missing key (for tests).
    pub fn captum(&self, key: &str) -> &[f64] {
        match self.results.get(key) {
            Some(values) => &values.data,
            None => panic!("the gradient fixture has no result {key}"),
        }
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a fixture: {e}", path.display()))
}

/// Reads `small_cnn_occlusion.json` from `dir` (panics with the path on failure: for tests).
pub fn occlusion_fixture(dir: &Path) -> OcclusionFixture {
    read(&dir.join("small_cnn_occlusion.json"))
}

/// Reads `small_cnn_gradients.json` from `dir` (panics with the path on failure: for tests).
pub fn gradient_fixture(dir: &Path) -> GradientFixture {
    read(&dir.join("small_cnn_gradients.json"))
}
