//! The shared conformance suite of `tiled-occlusion`: every law of SEMANTICS.md as a
//! proptest property, the golden fixtures computed by Captum and the Python reference, and
//! Captum's own Occlusion unit-test results, all generic over the backend under test.
//!
//! A backend crate implements [`TestBackend`] for a marker type and stamps the suite out in
//! one line, in an integration test:
//!
//! ```ignore
//! tiled_occlusion_testsuite::backend_conformance_tests!(ndarray_f64, MyBackendF64);
//! ```
//!
//! Every property runs 256 random cases by default (`PROPTEST_CASES` changes that). Models
//! are evaluated on the host in `f64` ([`HostModel`]), so the suite needs nothing of a backend
//! beyond its [`Backend`](tiled_occlusion_core::backend::Backend) implementation and a way to make
//! tensors.
#![warn(missing_docs)]

pub mod captum_cases;
pub mod fixtures;
pub mod gradient_cases;
pub mod host_model;
pub mod invalid_configurations;
pub mod metric_cases;
pub mod noise_properties;
pub mod oracle;
pub mod properties;
pub mod rng;
pub mod scenario;
pub mod small_cnn;
pub mod test_backend;

pub use gradient_cases::GradientTestBackend;
pub use host_model::{HostForward, HostModel};
pub use test_backend::TestBackend;

/// Stamps out the whole suite for a [`TestBackend`] as a module of `#[test]` functions.
///
/// `backend_conformance_tests!(module_name, BackendUnderTest);`
#[macro_export]
macro_rules! backend_conformance_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn golden_fixtures() {
                $crate::fixtures::golden_fixtures::<$backend>();
            }
            #[test]
            fn captum_multilayer() {
                $crate::captum_cases::captum_multilayer::<$backend>();
            }
            #[test]
            fn captum_weighted_sum_2d() {
                $crate::captum_cases::captum_weighted_sum_2d::<$backend>();
            }
            #[test]
            fn captum_sum_and_squares() {
                $crate::captum_cases::captum_sum_and_squares::<$backend>();
            }
            #[test]
            fn noise_no_noise_gives_the_inner_method() {
                $crate::noise_properties::no_noise_gives_the_inner_method::<$backend>();
            }
            #[test]
            fn noise_same_seed_same_result_whatever_the_batching() {
                $crate::noise_properties::same_seed_same_result_whatever_the_batching::<$backend>();
            }
            #[test]
            fn noise_vargrad_is_mean_square_minus_square_mean() {
                $crate::noise_properties::vargrad_is_mean_square_minus_square_mean::<$backend>();
            }
            #[test]
            fn noise_progress_counts_every_inner_call() {
                $crate::noise_properties::progress_counts_every_inner_call::<$backend>();
            }
            #[test]
            fn noise_fusion_grad_restores_parameters() {
                $crate::noise_properties::fusion_grad_restores_parameters::<$backend>();
            }
            #[test]
            fn noise_invalid_settings_are_errors() {
                $crate::noise_properties::invalid_noise_settings_are_errors::<$backend>();
            }
            #[test]
            fn noise_captum_noise_tunnel_parity() {
                $crate::noise_properties::captum_noise_tunnel_parity::<$backend>();
            }
            #[test]
            fn metrics_deletion_and_insertion_by_hand() {
                $crate::metric_cases::deletion_and_insertion_by_hand::<$backend>();
            }
            #[test]
            fn metrics_aopc_by_hand() {
                $crate::metric_cases::aopc_by_hand::<$backend>();
            }
            #[test]
            fn k1_equals_occlusion() {
                $crate::properties::k1_equals_occlusion::<$backend>();
            }
            #[test]
            fn shifted_mean_equals_occlusion_in_interior() {
                $crate::properties::shifted_mean_equals_occlusion_in_interior::<$backend>();
            }
            #[test]
            fn linear_models_match_analytic() {
                $crate::properties::linear_models_match_analytic::<$backend>();
            }
            #[test]
            fn independent_of_batching() {
                $crate::properties::independent_of_batching::<$backend>();
            }
            #[test]
            fn model_calls_match_formulas() {
                $crate::properties::model_calls_match_formulas::<$backend>();
            }
            #[test]
            fn every_position_covered_prod_k_times() {
                $crate::properties::every_position_covered_prod_k_times::<$backend>();
            }
            #[test]
            fn feature_ablation_block_mask_equals_occlusion() {
                $crate::properties::feature_ablation_block_mask_equals_occlusion::<$backend>();
            }
            #[test]
            fn nan_drop_stays_in_its_region() {
                $crate::properties::nan_drop_stays_in_its_region::<$backend>();
            }
            #[test]
            fn invalid_configurations_return_errors() {
                $crate::invalid_configurations::invalid_configurations_return_errors::<$backend>();
            }
            #[test]
            fn minimums_are_too_small_errors() {
                $crate::invalid_configurations::minimums_are_too_small_errors::<$backend>();
            }
        }
    };
}
