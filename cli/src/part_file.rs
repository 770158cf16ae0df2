//! The part files of `explain-tensor --part I/N` (`STEM.METHOD.part-I-of-N.json`), which
//! `merge` reads back: a [`PartialAttribution`] with every float as its 64 bits (so the merge is
//! exact), and checksums of what else must be the same for parts to merge: the model file, and
//! the model options that change its scores (see [`crate::run_checksum`]).

use std::path::Path;

use tiled_occlusion_core::perturbation::{PartialAttribution, SchedulePart};

use crate::bounded_read::read_bounded_text;
use crate::cli_error::CliError;

/// The most bytes a part file of an input at `input` may hold when its run perturbs at most
/// `regions` regions of `rows` rows each: every float is written as its 64 bits in decimal
/// (at most 20 digits and a comma), `regions × rows` drops and `rows` reference scores, and
/// the input's path at most 6 bytes per byte (JSON escapes), with 4 KiB for the other fields.
/// A larger file is not a part of this run and is refused before it is read.
///
/// ```
/// use tiled_occlusion_cli::part_file::max_part_bytes;
/// assert_eq!(max_part_bytes(10, 2, std::path::Path::new("x.npy")), 4096 + 6 * 5 + 21 * 11 * 2);
/// assert_eq!(max_part_bytes(usize::MAX, 2, std::path::Path::new("x.npy")), u64::MAX);
/// ```
pub fn max_part_bytes(regions: usize, rows: usize, input: &Path) -> u64 {
    let values = (regions as u64).saturating_add(1).saturating_mul(rows as u64);
    let path = input.as_os_str().len() as u64;
    4096u64.saturating_add(path.saturating_mul(6)).saturating_add(values.saturating_mul(21))
}

/// The format line: version 2 added `options_checksum`.
const PART_FORMAT: &str = "tiled-occlusion-part/2";

/// A part as JSON: every float as its 64 bits, so the merge is exact.
pub fn part_json(p: &PartialAttribution, input: &Path, model: u64, options: u64) -> serde_json::Value {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    serde_json::json!({
        "format": PART_FORMAT,
        "input": input.display().to_string(),
        "model_checksum": format!("{model:016x}"),
        "options_checksum": format!("{options:016x}"),
        "part": p.part.index(),
        "count": p.part.count(),
        "fingerprint": format!("{:016x}", p.fingerprint),
        "input_shape": p.input_shape,
        "total_regions": p.total_regions,
        "regions": [p.regions.start, p.regions.end],
        "reference_bits": bits(&p.reference),
        "drops_bits": bits(&p.drops),
    })
}

/// Reads a part file back, with the model and options checksums it records; a file of more
/// than `max_bytes` (see [`max_part_bytes`]) is refused before it is read.
pub fn read_part(path: &Path, max_bytes: u64) -> Result<(PartialAttribution, u64, u64), CliError> {
    let bad = |why: &str| CliError::Usage(format!("{} is not a part file of explain-tensor: {why}", path.display()));
    let text = read_bounded_text(path, max_bytes).map_err(|e| match e.kind() {
        std::io::ErrorKind::FileTooLarge => {
            bad(&format!("it is larger than a part of this input and method may be ({e})"))
        }
        _ => bad(&e.to_string()),
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    if v["format"] != PART_FORMAT {
        return Err(bad(&format!(
            "no {PART_FORMAT} format line (a part of another version of the command? make the parts again)"
        )));
    }
    let field = |key: &str, kind: &str| bad(&format!("its field {key:?} is missing or not {kind}"));
    let number =
        |key: &str| v[key].as_u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| field(key, "a whole number"));
    let hex = |key: &str| {
        v[key].as_str().and_then(|h| u64::from_str_radix(h, 16).ok()).ok_or_else(|| field(key, "a hexadecimal number"))
    };
    let list = |key: &str| -> Result<Vec<u64>, CliError> {
        let whole = || field(key, "a list of whole numbers");
        v[key].as_array().ok_or_else(whole)?.iter().map(|x| x.as_u64().ok_or_else(whole)).collect()
    };
    let floats = |key: &str| list(key).map(|b| b.into_iter().map(f64::from_bits).collect::<Vec<_>>());
    let sizes = |key: &str| list(key).map(|b| b.into_iter().map(|n| n as usize).collect::<Vec<_>>());
    let regions = sizes("regions")?;
    if regions.len() != 2 {
        return Err(field("regions", "two numbers"));
    }
    let part = SchedulePart::new(number("part")?, number("count")?).map_err(|e| bad(&e.to_string()))?;
    Ok((
        PartialAttribution {
            part,
            fingerprint: hex("fingerprint")?,
            input_shape: sizes("input_shape")?,
            total_regions: number("total_regions")?,
            regions: regions[0]..regions[1],
            reference: floats("reference_bits")?,
            drops: floats("drops_bits")?,
        },
        hex("model_checksum")?,
        hex("options_checksum")?,
    ))
}
