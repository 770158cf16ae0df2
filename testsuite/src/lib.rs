//! The shared conformance suite of `tiled-occlusion`: every law of SEMANTICS.md as a
//! proptest property, the golden fixtures computed by Captum and the Python reference, and
//! Captum's own Occlusion unit-test results, all generic over the backend under test.
//!
//! A backend crate picks (or writes) a marker type implementing [`TestBackend`] — the
//! project's are in [`markers`], one per element type and device, with their tolerances —
//! and stamps the suite out in one line of an integration test, as
//! `backends/candle/tests/conformance.rs` does (so this example is compiled there, not here):
//!
//! ```ignore
//! use tiled_occlusion_testsuite::backend_conformance_tests;
//! use tiled_occlusion_testsuite::markers::{CandleF32, Cuda};
//!
//! backend_conformance_tests!(candle_f32, CandleF32, gradients);
//! backend_conformance_tests!(candle_cuda_f32, CandleF32<Cuda>, gradients); // skipped without a device
//! ```
//!
//! That gives one test module per part of the suite, so `cargo test candle_f32::noise::`
//! runs the noise cases alone:
//!
//! | Module | File | Macro | What |
//! |---|---|---|---|
//! | `properties` | [`properties`] | [`properties_tests!`] | the laws of SEMANTICS.md on random scenarios |
//! | `noise` | [`noise`] | [`noise_tests!`] | NoiseTunnel and FusionGrad: seeds, batching, VarGrad, restoring parameters, Captum parity |
//! | `metrics` | [`metrics`] | [`metrics_tests!`] | deletion, insertion and AOPC by hand |
//! | `captum` | [`captum`] | [`captum_tests!`] | Captum's own Occlusion unit tests |
//! | `fixtures` | [`fixtures`] | [`fixtures_tests!`] | the golden fixtures |
//! | `invalid_configurations` | [`invalid_configurations`] | [`invalid_configurations_tests!`] | every invalid setting is a named error, never a panic |
//! | `adversarial` | [`adversarial`] | [`adversarial_tests!`] | extreme sizes, overflowing products, non-finite values, metric settings that would exhaust the machine |
//! | `gradients` | [`gradients`] | [`gradients_tests!`] | gradient methods against closed forms (with `gradients`, for a [`GradientTestBackend`]) |
//!
//! A new case of a part is a function in its file and one line in that file's macro; a new
//! part is a new file with its functions and its macro, and one line in
//! [`backend_conformance_tests!`].
//!
//! Every test goes through [`test_backend::run`], which skips a marker whose device is
//! absent ([`TestBackend::skip_reason`]), so CUDA markers compile everywhere and run where a
//! device exists. Every property runs 256 random cases by default (`PROPTEST_CASES` changes
//! that). Models are evaluated on the host in `f64` ([`HostModel`]), so the suite needs
//! nothing of a backend beyond its [`Backend`](tiled_occlusion_core::backend::Backend)
//! implementation and a way to make tensors.
//!
//! ## Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod adversarial;
pub mod adversarial_random;
pub mod batch_level;
pub mod captum;
pub mod fixtures;
pub mod gradients;
pub mod host_model;
pub mod invalid_configurations;
pub mod markers;
pub mod metrics;
pub mod multi_input;
pub mod noise;
pub mod oracle;
pub mod partial;
pub mod properties;
pub mod rng;
pub mod scenario;
pub mod small_cnn;
pub mod test_backend;

pub use gradients::GradientTestBackend;
pub use host_model::{HostForward, HostModel};
pub use test_backend::TestBackend;

/// Stamps out the whole suite for a marker: `backend_conformance_tests!(module, Marker)`
/// gives `mod module { mod properties { … } mod noise { … } … }`, one `#[test]` per case;
/// `backend_conformance_tests!(module, Marker, gradients)` adds `mod gradients` for a
/// [`GradientTestBackend`].
///
/// The marker's name is resolved where the macro is called.
#[macro_export]
macro_rules! backend_conformance_tests {
    (@suite $module:ident, $backend:ty, { $($extra:tt)* }) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            /// The marker under test.
            type Marker = $backend;

            $crate::properties_tests!(Marker);
            $crate::noise_tests!(Marker);
            $crate::batch_level_tests!(Marker);
            $crate::multi_input_tests!(Marker);
            $crate::partial_tests!(Marker);
            $crate::metrics_tests!(Marker);
            $crate::captum_tests!(Marker);
            $crate::fixtures_tests!(Marker);
            $crate::invalid_configurations_tests!(Marker);
            $crate::adversarial_tests!(Marker);
            $($extra)*
        }
    };
    ($module:ident, $backend:ty) => {
        $crate::backend_conformance_tests!(@suite $module, $backend, {});
    };
    ($module:ident, $backend:ty, gradients) => {
        $crate::backend_conformance_tests!(@suite $module, $backend, { $crate::gradients_tests!(Marker); });
    };
}

/// One part of the suite as a test module: `mod $module { #[test] fn $case() … }`, each test
/// running `$crate::$module::$case::<$backend>()` through [`test_backend::run`]. The parts'
/// macros (`properties_tests!`, …) are made of it.
#[doc(hidden)]
#[macro_export]
macro_rules! suite_module {
    ($module:ident, $backend:ty, [$($case:ident),* $(,)?]) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $case() {
                    $crate::test_backend::run::<$backend>(|| $crate::$module::$case::<$backend>());
                }
            )*
        }
    };
}
