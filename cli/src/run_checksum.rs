//! Checksums (64-bit FNV-1a) of what a run's maps depend on: the model file, the model options
//! that change its scores, and, for a finished input a rerun skips, every setting and file its
//! map was made from. Parts of different runs must not merge, and a rerun with other settings
//! must not keep the maps of the first.

use std::io::Read;
use std::path::Path;

use tiled_occlusion_onnx::{FixedValue, OnnxOptions};

use crate::cli_error::CliError;

/// The FNV-1a offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes`, continuing from `hash`: `h ← (h ⊕ b) · 0x100000001b3` for each byte `b`.
///
/// ```
/// use tiled_occlusion_cli::run_checksum::{fnv, FNV_OFFSET};
/// // The published FNV-1a 64 test vector of "a".
/// assert_eq!(fnv(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
/// assert_eq!(fnv(fnv(FNV_OFFSET, b"a"), b"b"), fnv(FNV_OFFSET, b"ab"));
/// ```
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The FNV-1a hash of a file's bytes: which model file made a part. The file is streamed (a
/// model of gigabytes is not held twice).
pub fn file_checksum(path: &Path) -> Result<u64, CliError> {
    let cannot = |e: std::io::Error| CliError::Run(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let (mut hash, mut buffer) = (FNV_OFFSET, vec![0u8; 1 << 16]);
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(CliError::Run(format!("cannot read {}: it is not a regular file", path.display())));
    }
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(hash),
            Ok(n) => hash = fnv(hash, &buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    }
}

/// The FNV-1a hash of the model options that change a run's scores besides the model file, the
/// method and the input (which the parts' own fingerprint covers): the output read, the
/// explained input, softmax, TF32, and every fixed input's name, batch axis, shape and values.
/// Parts made with other options (`--model-output`, `--softmax`, `--fixed` values) merged
/// silently into a map of neither run.
pub fn options_checksum(options: &OnnxOptions) -> u64 {
    let settings = format!("{:?}|{:?}|{}|{}", options.output, options.explained_input, options.softmax, options.tf32);
    let mut hash = fnv(FNV_OFFSET, settings.as_bytes());
    for f in &options.fixed_inputs {
        hash = fnv(hash, format!("|{}|{:?}|{:?}|", f.name, f.batch_axis, f.value.shape()).as_bytes());
        hash = match &f.value {
            FixedValue::F32(a) => a.iter().fold(hash, |h, v| fnv(h, &v.to_bits().to_le_bytes())),
            FixedValue::I64(a) => a.iter().fold(fnv(hash, b"i64"), |h, v| fnv(h, &v.to_le_bytes())),
        };
    }
    hash
}

/// The checksum of everything a finished input's map was made from, besides the input's own
/// bytes (`input`, the checksum of its file): the model file (`model`), the model options
/// ([`options_checksum`]), and `settings` (the method and its settings as text) and the
/// checksums of the files among them (mask, baseline). Its summary records it, and a rerun
/// skips the input only when it is the same.
///
/// ```
/// use tiled_occlusion_cli::run_checksum::settings_checksum;
/// let a = settings_checksum(1, 2, "occlusion|4", &[], 7);
/// assert_eq!(a, settings_checksum(1, 2, "occlusion|4", &[], 7));
/// assert_ne!(a, settings_checksum(1, 2, "occlusion|8", &[], 7));
/// assert_ne!(a, settings_checksum(1, 2, "occlusion|4", &[0], 7));
/// assert_ne!(a, settings_checksum(1, 2, "occlusion|4", &[], 8));
/// ```
pub fn settings_checksum(model: u64, options: u64, settings: &str, files: &[u64], input: u64) -> u64 {
    let numbers = [model, options, input].into_iter().chain(files.iter().copied());
    let hash = numbers.fold(FNV_OFFSET, |h, n| fnv(h, &n.to_le_bytes()));
    fnv(fnv(hash, &(files.len() as u64).to_le_bytes()), settings.as_bytes())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use tiled_occlusion_onnx::{FixedInput, OnnxOptions};

    use super::{file_checksum, options_checksum};

    #[test]
    fn every_option_that_changes_the_scores_changes_the_checksum() {
        let state = |v: f32| FixedInput::per_example("state", ArrayD::from_elem(IxDyn(&[1, 2]), v));
        let base = || OnnxOptions { fixed_inputs: vec![state(1.0)], ..OnnxOptions::default() };
        let reference = options_checksum(&base());
        assert_eq!(options_checksum(&base()), reference, "the same options, the same checksum");
        let changed = [
            OnnxOptions { softmax: true, ..base() },
            OnnxOptions { output: Some("doubled".into()), ..base() },
            OnnxOptions { explained_input: Some("x".into()), ..base() },
            OnnxOptions { tf32: true, ..base() },
            OnnxOptions { fixed_inputs: vec![state(5.0)], ..base() },
            OnnxOptions { fixed_inputs: vec![state(1.0).with_batch_axis(1)], ..base() },
            OnnxOptions { fixed_inputs: vec![], ..base() },
        ];
        for (i, options) in changed.iter().enumerate() {
            assert_ne!(options_checksum(options), reference, "change {i}");
        }
        // Threads and sessions do not change the scores: parts may run with any.
        assert_eq!(options_checksum(&base().threads(1)), reference);
    }

    #[test]
    fn a_model_path_that_is_not_a_regular_file_is_named() {
        // /dev/zero never ends: its checksum was a read that never stopped.
        let e = file_checksum(std::path::Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("it is not a regular file"), "{e}");
    }
}
