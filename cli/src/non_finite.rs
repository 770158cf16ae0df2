//! Maps holding NaN or infinite values. The library lets non-finite scores through where they
//! belong (SEMANTICS.md: a NaN drop stays in its region), so a model that gives NaN or infinite
//! scores for some occluded copies, or an input holding NaN, makes such a map. The commands
//! write the maps (they are what the model did) but never report success for them.

use crate::cli_error::{run_error, CliError};

/// The number of NaN or infinite values in `values`.
///
/// ```
/// use tiled_occlusion_cli::non_finite::count;
/// assert_eq!(count(&[1.0, f32::NAN, f32::INFINITY, -0.0]), 2);
/// ```
pub fn count<'a>(values: impl IntoIterator<Item = &'a f32>) -> usize {
    values.into_iter().filter(|v| !v.is_finite()).count()
}

/// An error naming every written map in `flagged` (`(file, non-finite values)`), or `Ok` when
/// there is none: exit code 1 after the run, so a dataset run finishes its other inputs.
pub fn refuse(flagged: &[(String, usize)]) -> Result<(), CliError> {
    if flagged.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = flagged.iter().take(5).map(|(file, n)| format!("{file} ({n} values)")).collect();
    let more = if flagged.len() > 5 { format!(" and {} more", flagged.len() - 5) } else { String::new() };
    run_error(format!(
        "{} map(s) hold NaN or infinite values: {}{more}. The model gave non-finite scores for some occluded \
         copies (or the input holds NaN); the maps are written, but those values are not attributions",
        flagged.len(),
        shown.join(", ")
    ))
}
