//! Class names: a text file with one name per line, or a JSON list of names.

use std::path::Path;

use crate::bounded_read::{read_bounded_text, MAX_LABELS_BYTES};
use crate::cli_error::{run_error, usage, CliError};

/// Class names, index = class id.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    names: Vec<String>,
}

impl Labels {
    /// Reads `path`: a JSON list of strings (`.json`) or one name per line.
    pub fn read(path: &Path) -> Result<Labels, CliError> {
        let text = match read_bounded_text(path, MAX_LABELS_BYTES) {
            Ok(t) => t,
            Err(e) => return run_error(format!("cannot read the labels file {}: {e}", path.display())),
        };
        let names: Vec<String> = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            match serde_json::from_str(&text) {
                Ok(n) => n,
                Err(e) => {
                    return run_error(format!(
                        "the labels file {} is not a JSON list of class names: {e}",
                        path.display()
                    ))
                }
            }
        } else {
            // One name per line, line i naming class i: a blank line inside the list would
            // shift every later name, so it is an error (blank lines at the end are not).
            let lines: Vec<&str> = text.trim_end().lines().map(str::trim).collect();
            if let Some(i) = lines.iter().position(|l| l.is_empty()) {
                return run_error(format!(
                    "the labels file {} has a blank line {} (line i names class i − 1; remove it or name the class)",
                    path.display(),
                    i + 1
                ));
            }
            lines.into_iter().map(str::to_string).collect()
        };
        if let Some(empty) = names.iter().position(|n| n.trim().is_empty()) {
            return run_error(format!("the labels file {} has an empty name for class {empty}", path.display()));
        }
        if names.is_empty() {
            return run_error(format!("the labels file {} holds no class names", path.display()));
        }
        Ok(Labels { names })
    }

    /// An error unless the file names exactly `classes` classes (or no file was given).
    pub fn check_classes(&self, classes: usize, path: Option<&Path>) -> Result<(), CliError> {
        match path {
            Some(path) if self.names.len() != classes => run_error(format!(
                "the labels file {} names {} classes, but the model has {classes}",
                path.display(),
                self.names.len()
            )),
            _ => Ok(()),
        }
    }

    /// The name of class `id`, or `class {id}` when unknown.
    pub fn name(&self, id: usize) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| format!("class {id}"))
    }

    /// The class id of `name` (case, spaces and underscores ignored).
    pub fn id_of(&self, name: &str) -> Result<usize, CliError> {
        let key = |s: &str| s.to_lowercase().replace(['_', ' '], "");
        let wanted = key(name);
        if self.names.is_empty() {
            return usage(format!("target {name:?} is a class name, but no labels file was given (use --labels FILE)"));
        }
        self.names.iter().position(|n| key(n) == wanted).map_or_else(
            || {
                usage(format!(
                    "unknown class name {name:?}: it is not in the labels file (give a class id or a name from it)"
                ))
            },
            Ok,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Labels;

    #[test]
    fn names_match_loosely() {
        let l = Labels { names: vec!["tabby".into(), "tiger_cat".into()] };
        assert_eq!(l.id_of("Tiger cat").ok(), Some(1));
        assert!(l.id_of("lion").is_err());
        assert_eq!(l.name(7), "class 7");
    }
}
