//! The inputs of a run over a dataset: collected from files, folders and list files, sorted,
//! split into shards (given, or from Slurm's or Kubernetes' environment), and the manifest of
//! what each input gave.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::bounded_read::{read_bounded_text, MAX_LIST_BYTES};
use crate::cli_error::{run_error, usage, CliError};

/// Shard `index` of `count`: the inputs `[⌊index·L/count⌋, ⌊(index+1)·L/count⌋)` of the `L`
/// sorted inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, `0 ≤ index < count`.
    pub index: usize,
    /// How many.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(option: &str, text: &str) -> Result<Shard, CliError> {
        let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index < count => Ok(Shard { index, count }),
            Some((index, count)) => usage(format!("{option} {index}/{count}: use 0 ≤ I < N")),
            None => usage(format!("{option} {text:?}: expected I/N, e.g. 0/4")),
        }
    }

    /// The shard `--shard` gives, else the one of a Slurm array task
    /// (`(SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP` of
    /// `SLURM_ARRAY_TASK_COUNT`), else the one
    /// of a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` of `JOB_COMPLETIONS`, which the
    /// manifest in docs/ sets from the job's completions); `None`: every input.
    pub fn resolve(given: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, CliError> {
        if let Some(text) = given {
            return Shard::parse("--shard", text).map(Some);
        }
        let number = |name: &str| -> Result<Option<usize>, CliError> {
            match env(name) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).or_else(|_| usage(format!("{name}={v:?} is not a whole number"))),
            }
        };
        if let (Some(id), Some(count)) = (number("SLURM_ARRAY_TASK_ID")?, number("SLURM_ARRAY_TASK_COUNT")?) {
            // `--array=0-6:2` runs ids 0, 2, 4, 6: shards 0 to 3 of 4.
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let Some(offset) = id.checked_sub(number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0)) else {
                return usage(format!("SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN"));
            };
            if offset % step != 0 {
                return usage(format!(
                    "SLURM_ARRAY_TASK_ID {id} is not on the array's step {step} from its minimum: for an array given as a list, pass --shard I/N"
                ));
            }
            return Shard::parse("the Slurm array task", &format!("{}/{count}", offset / step)).map(Some);
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let Some(count) = number("JOB_COMPLETIONS")? else {
                return usage(
                    "JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not: set it to the job's completions",
                );
            };
            return Shard::parse("the Kubernetes job index", &format!("{index}/{count}")).map(Some);
        }
        Ok(None)
    }

    /// This shard's slice of `inputs`.
    pub fn slice<T>(&self, inputs: &[T]) -> std::ops::Range<usize> {
        let at = |i: usize| ((i as u128 * inputs.len() as u128) / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// The inputs named by `paths` (files, and folders for every `.npy` file in them) and by the
/// list files `lists` (one path per line, relative to the list's folder; blank lines and `#`
/// comments skipped), sorted and without repeats; two inputs with the same file stem (which
/// would write the same outputs) are an error.
pub fn collect(paths: &[PathBuf], lists: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    // A file, an array of an archive, or a folder (its `.npy` files), on the command line or
    // in a list; `false` when there is none of them.
    let mut add = |path: &Path| -> Result<bool, CliError> {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).or_else(|e| run_error(format!("cannot read {}: {e}", path.display())))?;
            for entry in entries.flatten() {
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "npy") && p.is_file() {
                    out.push(p);
                }
            }
        } else if path.is_file() || npz_member(path).is_some_and(|(file, _)| file.is_file()) {
            out.push(path.to_path_buf());
        } else {
            return Ok(false);
        }
        Ok(true)
    };
    for path in paths {
        if !add(path)? {
            return usage(format!("input {} does not exist", path.display()));
        }
    }
    for list in lists {
        let text =
            read_bounded_text(list, MAX_LIST_BYTES).or_else(|e| usage(format!("--list {}: {e}", list.display())))?;
        // Paths are relative to the list's folder; a list that is a stream or a descriptor
        // (`--list <(find …)`, `/dev/stdin`, also when it is a file redirected there) has none,
        // and its paths are relative to the working folder (they were looked for in /dev/fd).
        let descriptor = list.starts_with("/dev") || list.starts_with("/proc");
        let folder =
            if list.is_file() && !descriptor { list.parent().unwrap_or(Path::new(".")) } else { Path::new("") };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = folder.join(line);
            if !add(&p)? {
                return usage(format!("--list {} line {}: {} does not exist", list.display(), n + 1, p.display()));
            }
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return usage("no input: give .npy files, folders of them, or --list FILE");
    }
    let mut stems: HashMap<String, &Path> = HashMap::with_capacity(out.len());
    for p in &out {
        if let Some(first) = stems.insert(stem(p).to_lowercase(), p) {
            return usage(format!(
                "{} and {} would write the same output files ({}.*); rename one or explain them into different folders",
                first.display(),
                p.display(),
                stem(p)
            ));
        }
    }
    Ok(out)
}

/// `FILE.npz:NAME` split into the archive and the array's name.
pub fn npz_member(path: &Path) -> Option<(PathBuf, String)> {
    let text = path.to_str()?;
    let (file, name) = text.rsplit_once(".npz:")?;
    (!name.is_empty()).then(|| (PathBuf::from(format!("{file}.npz")), name.to_string()))
}

/// The stem outputs of `input` are named by (`FILE-NAME` for array `NAME` of `FILE.npz`).
pub fn stem(input: &Path) -> String {
    if let Some((file, name)) = npz_member(input) {
        // A member's name may hold folders (`sub/x`, `../x`): flattened, so outputs stay in
        // the output folder.
        return format!("{}-{}", stem(&file), name.replace(['/', '\\'], "_"));
    }
    input.file_stem().map_or_else(|| "input".into(), |s| s.to_string_lossy().into_owned())
}

/// Writes `path` through a temporary file and a rename, so a killed run leaves no half-written
/// file (only, at worst, a `.partial` file that the next run removes).
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), CliError> {
    let tmp = partial_path(path);
    write(&tmp).or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))?;
    std::fs::rename(&tmp, path).or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))
}

/// Where [`write_atomically`] writes first.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// The manifest of a run: one row per input, as CSV and as JSON Lines.
pub fn write_manifest(folder: &Path, name: &str, rows: &[serde_json::Value], columns: &[&str]) -> Result<(), CliError> {
    let cell = |v: &serde_json::Value| -> String {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        if text.contains([',', '"', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let mut csv = columns.join(",");
    csv.push('\n');
    let mut jsonl = String::new();
    for row in rows {
        csv.push_str(&columns.iter().map(|c| cell(&row[*c])).collect::<Vec<_>>().join(","));
        csv.push('\n');
        jsonl.push_str(&row.to_string());
        jsonl.push('\n');
    }
    write_atomically(&folder.join(format!("{name}.csv")), |p| std::fs::write(p, &csv).map_err(|e| e.to_string()))?;
    write_atomically(&folder.join(format!("{name}.jsonl")), |p| std::fs::write(p, &jsonl).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_come_from_the_option_slurm_or_kubernetes() {
        let none = |_: &str| None;
        assert_eq!(Shard::resolve(None, &none).ok().flatten(), None);
        assert_eq!(Shard::resolve(Some("1/4"), &none).ok().flatten(), Some(Shard { index: 1, count: 4 }));
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("3".to_string()),
            "SLURM_ARRAY_TASK_MIN" => Some("1".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("5".to_string()),
            _ => None,
        };
        assert_eq!(Shard::resolve(None, &slurm).ok().flatten(), Some(Shard { index: 2, count: 5 }));
        // `--array=0-6:2`: ids 0, 2, 4, 6 are shards 0 to 3 of 4 (4 was "4/4: use 0 ≤ I < N",
        // and shards 1 and 3 never ran); an id off the step is named.
        let stepped = |id: &'static str| {
            move |k: &str| match k {
                "SLURM_ARRAY_TASK_ID" => Some(id.to_string()),
                "SLURM_ARRAY_TASK_MIN" => Some("0".to_string()),
                "SLURM_ARRAY_TASK_STEP" => Some("2".to_string()),
                "SLURM_ARRAY_TASK_COUNT" => Some("4".to_string()),
                _ => None,
            }
        };
        let shards: Vec<_> =
            ["0", "2", "4", "6"].map(|id| Shard::resolve(None, &stepped(id)).ok().flatten().map(|s| s.index)).to_vec();
        assert_eq!(shards, [Some(0), Some(1), Some(2), Some(3)]);
        let off = Shard::resolve(None, &stepped("3")).map(|_| ()).map_err(|e| e.to_string());
        assert!(off.as_ref().is_err_and(|e| e.contains("not on the array's step 2")), "{off:?}");
        let k8s = |k: &str| match k {
            "JOB_COMPLETION_INDEX" => Some("0".to_string()),
            "JOB_COMPLETIONS" => Some("2".to_string()),
            _ => None,
        };
        assert_eq!(Shard::resolve(None, &k8s).ok().flatten(), Some(Shard { index: 0, count: 2 }));
        let half = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "0".to_string());
        assert!(Shard::resolve(None, &half).is_err());
        assert!(Shard::resolve(Some("4/4"), &none).is_err());
        // Slices of 10 inputs in 3 shards: 3, 3, 4, covering all once.
        let inputs: Vec<usize> = (0..10).collect();
        let slices: Vec<_> = (0..3).map(|i| Shard { index: i, count: 3 }.slice(&inputs)).collect();
        assert_eq!(slices, [0..3, 3..6, 6..10]);
    }
}
