//! What the tests on real models share: the folder of assets `scripts/assets/assets.py test`
//! fills.

use std::path::PathBuf;

/// The test assets' folder (`TILED_OCCLUSION_TEST_ASSETS`) when it holds `file`; without it the
/// test says so and passes, unless `TILED_OCCLUSION_REQUIRE_ASSETS=1` (set by the test command),
/// where missing assets are a failure.
pub fn test_assets(file: &str) -> Option<PathBuf> {
    let folder = std::env::var_os("TILED_OCCLUSION_TEST_ASSETS").map(PathBuf::from);
    match folder {
        Some(f) if f.join(file).is_file() => Some(f),
        _ if std::env::var("TILED_OCCLUSION_REQUIRE_ASSETS").as_deref() == Ok("1") => {
            panic!("TILED_OCCLUSION_TEST_ASSETS does not name a folder made by `python3 scripts/assets/assets.py test` with {file}")
        }
        _ => {
            eprintln!(
                "skipped: set TILED_OCCLUSION_TEST_ASSETS to the folder `python3 scripts/assets/assets.py test` prints"
            );
            None
        }
    }
}
