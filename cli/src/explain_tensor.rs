//! `tiled-occlusion explain-tensor`: any ONNX model whose input is not an image (time series,
//! tables, volumes, several inputs), explained on `.npy` inputs of any rank, raw maps out.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use ndarray::{ArrayD, Axis};
use tiled_occlusion_core::perturbation::{PartitionedAttribution, SchedulePart};
use tiled_occlusion_core::{
    Baseline, Contrast, FeatureAblation, FeatureMask, Inputs, Occlusion, Target, TiledOcclusion, TilingMode,
};
use tiled_occlusion_ndarray::Ndarray;
use tiled_occlusion_onnx::{FixedInput, FixedValue, OnnxError, OnnxModel};

use crate::cli_error::{run_error, usage, CliError};
use crate::dataset::{collect, npz_member, partial_path, stem, write_atomically, write_manifest, Shard};
use crate::method_config::check_k;
use crate::model_options::RuntimeOptions;
use crate::npy_file::{read_npy_file, read_npz_member, NpyArray};
use crate::part_file::{max_part_bytes, part_json, read_part};
use crate::run_checksum::{file_checksum, options_checksum, settings_checksum};

/// The method of `explain-tensor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TensorMethod {
    /// Occlusion with `--window` and `--strides` (default 1).
    Occlusion,
    /// TiledOcclusion with `--window` and `--k`.
    Tiled,
    /// FeatureAblation with `--mask` (default: every element its own feature).
    Ablation,
}

/// The arguments of `explain-tensor`.
#[derive(Args, Debug)]
pub struct ExplainTensorArgs {
    /// Inputs as `.npy` files (f32 or f64), arrays of `.npz` archives (`FILE.npz:NAME`), or
    /// folders of `.npy` files: each a batch `(N, d…)` or one example `(d…)` of the model's
    /// per-example shape, explained on its own, in sorted order.
    #[arg(value_name = "INPUT.npy|FOLDER")]
    pub inputs: Vec<PathBuf>,

    /// A file listing more inputs, one path per line (relative to the list's folder; to the
    /// working folder for a stream, `<(find …)` or `/dev/stdin`).
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,

    /// Explain only shard I of N of the sorted inputs (default: from SLURM_ARRAY_TASK_ID and
    /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX and JOB_COMPLETIONS, when set).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// The model and how it runs.
    #[command(flatten)]
    pub runtime: RuntimeOptions,

    /// The model input explained, by name (default: the only one without --fixed).
    #[arg(long = "input", value_name = "NAME")]
    pub explained_input: Option<String>,

    /// Another input of the model held at a value: NAME=FILE.npy (f32 or i64), given for one
    /// example and repeated along axis 0 to every row; NAME=FILE.npy@AXIS repeats along AXIS,
    /// NAME=FILE.npy@none passes it unchanged. Repeat for each input.
    #[arg(long = "fixed", value_name = "NAME=FILE.npy[@AXIS|@none]")]
    pub fixed: Vec<String>,

    /// The method.
    #[arg(long, value_enum, default_value_t = TensorMethod::Occlusion)]
    pub method: TensorMethod,

    /// The window: one number for every per-example dimension, or one per dimension (e.g.
    /// 1,8 for (channels, time)). Default 1.
    #[arg(long, value_name = "W|W1,W2,…")]
    pub window: Option<String>,

    /// Occlusion's strides, as the window (default 1).
    #[arg(long, value_name = "S|S1,S2,…")]
    pub strides: Option<String>,

    /// TiledOcclusion's tilings per dimension, as the window (default 1).
    #[arg(long, value_name = "K|K1,K2,…")]
    pub k: Option<String>,

    /// FeatureAblation's feature ids as a `.npy` of integers, of the per-example shape or one
    /// per example `(N, d…)`; equal ids are ablated together.
    #[arg(long, value_name = "MASK.npy")]
    pub mask: Option<PathBuf>,

    /// The baseline: a number, or a `.npy` that broadcasts to the input (default 0).
    #[arg(long, default_value = "0", value_name = "VALUE|FILE.npy")]
    pub baseline: String,

    /// The target: a class id for every example, `i,j,…` an index into each example's output,
    /// `each:C0;C1;…` one class (or index tuple `each:I,J;K,L`) per example, `C-D` or `C-mean`
    /// a contrast, or `none` for models with one output value per example (default 0).
    #[arg(long, default_value = "0", value_name = "CLASS|I,J,…|each:…|C-D|C-mean|none")]
    pub target: String,

    /// Softmax over each output row before the target is read.
    #[arg(long)]
    pub softmax: bool,

    /// The folder the maps (`STEM.METHOD.npy`) and their summaries (`STEM.METHOD.json`) go to.
    #[arg(long, value_name = "DIR")]
    pub output: PathBuf,

    /// Run only part I of N of the model calls (0 ≤ I < N) and write it as
    /// `STEM.METHOD.part-I-of-N.json`, for `tiled-occlusion merge` (not for tiled's reference mode).
    #[arg(long, value_name = "I/N")]
    pub part: Option<String>,
}

/// The arguments of `merge`: those of the `explain-tensor` run, and its parts.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The run the parts belong to, as given to `explain-tensor` (one input).
    #[command(flatten)]
    pub run: ExplainTensorArgs,

    /// The part files (`STEM.METHOD.part-I-of-N.json`), all N of them, in any order.
    #[arg(long, required = true, num_args = 1.., value_name = "PART.json")]
    pub parts: Vec<PathBuf>,
}

/// What a run of `explain-tensor` does with its input.
enum Mode<'a> {
    /// The whole map.
    Whole,
    /// One part of the model calls.
    Part(SchedulePart),
    /// The map from parts made before.
    Merge(&'a [PathBuf]),
}

/// Parses `--part I/N`.
pub fn parse_part(text: &str) -> Result<SchedulePart, CliError> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
    match parsed {
        Some((i, n)) => SchedulePart::new(i, n).map_err(|e| CliError::Usage(format!("--part {text}: {e}"))),
        None => usage(format!("--part {text:?}: expected I/N, e.g. 0/4")),
    }
}

/// Reads a `.npy` (or `FILE.npz:NAME`, an array of an archive), whatever its element type.
fn read_array(path: &Path, what: &str) -> Result<NpyArray, CliError> {
    match npz_member(path) {
        Some((file, name)) => read_npz_member(&file, &name, what),
        None => read_npy_file(path, what),
    }
}

/// Reads a `.npy` of `f32` or `f64` values (or `FILE.npz:NAME`, an array of an archive) as
/// `f32`. An `f64` value that is finite but beyond `f32`'s range (|v| > 3.4·10³⁸) is refused:
/// it would silently become infinite. NaN and infinite values pass (some models, trees among
/// them, read NaN as "missing"); a map they make non-finite is reported after the run.
fn read_floats(path: &Path, what: &str) -> Result<ArrayD<f32>, CliError> {
    floats(read_array(path, what)?, path, what)
}

/// The values of `array` (read from `path`) as `f32`, as [`read_floats`] takes them.
fn floats(array: NpyArray, path: &Path, what: &str) -> Result<ArrayD<f32>, CliError> {
    match array {
        NpyArray::F32(a) => Ok(a),
        NpyArray::F64(a) => {
            if let Some(v) = a.iter().find(|v| v.is_finite() && !(**v as f32).is_finite()) {
                return usage(format!(
                    "{what} {} holds {v:e}, beyond the range of f32 (the model's values, |v| ≤ {:e})",
                    path.display(),
                    f32::MAX
                ));
            }
            Ok(a.mapv(|v| v as f32))
        }
        other => usage(format!("{what} {} holds {} values; give f32 or f64 values", path.display(), other.type_name())),
    }
}

/// Reads a `.npy` of integers (`i64` or `i32`) as `i64`.
fn read_integers(path: &Path, what: &str) -> Result<ArrayD<i64>, CliError> {
    match read_npy_file(path, what)? {
        NpyArray::I64(a) => Ok(a),
        NpyArray::I32(a) => Ok(a.mapv(i64::from)),
        other => usage(format!("{what} {} holds {} values; give i64 or i32 values", path.display(), other.type_name())),
    }
}

/// Parses one `--fixed NAME=FILE.npy[@AXIS|@none]`.
pub fn parse_fixed(text: &str) -> Result<FixedInput, CliError> {
    let Some((name, rest)) = text.split_once('=') else {
        return usage(format!("--fixed {text:?}: expected NAME=FILE.npy"));
    };
    // A file whose name holds `@` is the file, unless the part before the last `@` is a file too.
    let whole_path = Path::new(rest).is_file();
    let (file, axis) = match rest.rsplit_once('@') {
        Some((file, _)) if whole_path && !Path::new(file).is_file() => (rest, Some(0)),
        Some((file, "none")) => (file, None),
        Some((file, axis)) => match axis.parse::<usize>() {
            Ok(a) => (file, Some(a)),
            Err(_) => return usage(format!("--fixed {text:?}: after @ give an axis number or none")),
        },
        None => (rest, Some(0)),
    };
    if name.is_empty() || file.is_empty() {
        return usage(format!("--fixed {text:?}: expected NAME=FILE.npy"));
    }
    let path = Path::new(file);
    let what = format!("--fixed {name}:");
    let value = match read_array(path, &what)? {
        NpyArray::I64(ints) => FixedValue::I64(ints),
        NpyArray::I32(_) => {
            return usage(format!(
                "{what} {} holds int32 values; give int64, float32 or float64 values",
                path.display()
            ))
        }
        other => FixedValue::F32(floats(other, path, &what)?),
    };
    Ok(FixedInput { name: name.to_string(), value, batch_axis: axis })
}

/// Parses a per-dimension size (`W` for every dimension, or one per dimension) for `rank`.
pub fn parse_sizes(option: &str, text: Option<&str>, rank: usize, default: usize) -> Result<Vec<usize>, CliError> {
    let Some(text) = text else { return Ok(vec![default; rank]) };
    let mut values = Vec::new();
    for part in text.split(',').map(str::trim) {
        match part.parse::<usize>() {
            Ok(n) if n > 0 => values.push(n),
            _ => return usage(format!("{option} {text:?}: expected positive whole numbers (e.g. 4 or 1,8)")),
        }
    }
    match values.len() {
        1 => Ok(vec![values[0]; rank]),
        n if n == rank => Ok(values),
        n => {
            usage(format!("{option} {text:?} has {n} numbers but an example has {rank} dimensions; give {rank} or one"))
        }
    }
}

/// Parses `--target`: `none`; a class `C`; an index tuple `I,J,…`; one class per example
/// `each:C0;C1;…`; one index tuple per example `each:I,J;K,L;…`; a contrast `C-D` (class C minus
/// class D) or `C-mean` (class C minus the mean of the others).
pub fn parse_target(text: &str) -> Result<Target, CliError> {
    let bad = || {
        usage(format!(
            "--target {text:?}: expected none, a class id, indices like 1,0, each:C0;C1;… (one per example), or a contrast C-D or C-mean"
        ))
    };
    let numbers = |t: &str| -> Option<Vec<usize>> { t.split(',').map(|p| p.trim().parse::<usize>().ok()).collect() };
    if text == "none" {
        return Ok(Target::None);
    }
    if let Some(rest) = text.strip_prefix("each:") {
        let rows: Option<Vec<Vec<usize>>> = rest.split(';').map(numbers).collect();
        return match rows {
            Some(rows) if !rows.is_empty() && rows.iter().all(|r| r.len() == 1) => {
                Ok(Target::PerExample(rows.into_iter().map(|r| r[0]).collect()))
            }
            Some(rows) if !rows.is_empty() && rows.iter().all(|r| r.len() == rows[0].len()) => {
                Ok(Target::PerExampleIndex(rows))
            }
            _ => bad(),
        };
    }
    if let Some((class, against)) = text.split_once('-') {
        let Ok(class) = class.trim().parse::<usize>() else { return bad() };
        let against = match against.trim() {
            "mean" => Contrast::MeanOfOthers,
            other => match other.parse::<usize>() {
                Ok(c) => Contrast::Class(c),
                Err(_) => return bad(),
            },
        };
        return Ok(Target::Contrastive { class, against });
    }
    match numbers(text) {
        Some(p) if p.len() == 1 => Ok(Target::Class(p[0])),
        Some(p) if !p.is_empty() => Ok(Target::Index(p)),
        _ => bad(),
    }
}

/// The input of a file: a batch of the model's per-example shape, or one example of it.
fn as_batch(x: ArrayD<f32>, example: &[usize], path: &Path) -> Result<ArrayD<f32>, CliError> {
    let shape = x.shape().to_vec();
    if shape.len() == example.len() + 1 && shape[1..] == *example && shape[0] > 0 {
        Ok(x)
    } else if shape == example {
        Ok(x.insert_axis(Axis(0)))
    } else {
        usage(format!(
            "{} has shape {shape:?}; the model takes examples of shape {example:?}: give (N, {}) or one example",
            path.display(),
            example.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// The method the arguments describe, for examples of shape `example`.
fn method(
    args: &ExplainTensorArgs,
    example: &[usize],
    per_eval: usize,
) -> Result<Box<dyn PartitionedAttribution<Ndarray<f32>>>, CliError> {
    let rank = example.len();
    let window = parse_sizes("--window", args.window.as_deref(), rank, 1)?;
    Ok(match args.method {
        TensorMethod::Occlusion => {
            let strides = parse_sizes("--strides", args.strides.as_deref(), rank, 1)?;
            Box::new(Occlusion::new(window).with_strides(strides).with_perturbations_per_eval(per_eval))
        }
        TensorMethod::Tiled => {
            let k = parse_sizes("--k", args.k.as_deref(), rank, 1)?;
            check_k("--k", &k, example, TilingMode::Shifted)?;
            Box::new(TiledOcclusion::new(window, k).with_perturbations_per_eval(per_eval))
        }
        TensorMethod::Ablation => {
            let ablation = match &args.mask {
                Some(path) => {
                    let ids = read_integers(path, "--mask")?;
                    let shape = ids.shape().to_vec();
                    let mask = FeatureMask::new(shape, ids.iter().copied().collect::<Vec<_>>())
                        .map_err(|e| CliError::Usage(format!("--mask {}: {e}", path.display())))?;
                    FeatureAblation::new(mask)
                }
                None => FeatureAblation::per_element(),
            };
            Box::new(ablation.with_perturbations_per_eval(per_eval))
        }
    })
}

fn method_name(method: TensorMethod) -> &'static str {
    match method {
        TensorMethod::Occlusion => "occlusion",
        TensorMethod::Tiled => "tiled",
        TensorMethod::Ablation => "ablation",
    }
}

/// The pictures of the first examples (at most 8) of `map`, one under the other.
fn pictures(x: &ArrayD<f32>, map: &ArrayD<f32>) -> image::RgbImage {
    // A batch-level output's map has one row per score, not per example: rows both have.
    let rows = map.shape()[0].min(x.shape()[0]).min(8);
    let shown: Vec<image::RgbImage> = (0..rows).map(|n| crate::tensor_picture::picture(x, map, n)).collect();
    let width = shown.iter().map(|p| p.width()).max().unwrap_or(1);
    let height: u32 = shown.iter().map(|p| p.height() + 6).sum();
    let mut out = image::RgbImage::from_pixel(width, height.max(1), image::Rgb([255, 255, 255]));
    let mut y = 0;
    for p in &shown {
        image::imageops::replace(&mut out, p, 0, i64::from(y));
        y += p.height() + 6;
    }
    out
}

/// Runs `explain-tensor`.
pub fn run(args: &ExplainTensorArgs) -> Result<(), CliError> {
    match &args.part {
        Some(part) => run_mode(args, Mode::Part(parse_part(part)?)),
        None => run_mode(args, Mode::Whole),
    }
}

/// Runs `merge`.
pub fn merge(args: &MergeArgs) -> Result<(), CliError> {
    if args.run.part.is_some() {
        return usage("merge takes the parts with --parts, not --part");
    }
    if args.run.inputs.len() != 1 || !args.run.list.is_empty() || args.run.inputs[0].is_dir() {
        return usage("merge takes the one input file the parts explain");
    }
    run_mode(&args.run, Mode::Merge(&args.parts))
}

fn run_mode(args: &ExplainTensorArgs, mode: Mode<'_>) -> Result<(), CliError> {
    let target = parse_target(&args.target)?;
    let fixed = args.fixed.iter().map(|f| parse_fixed(f)).collect::<Result<Vec<_>, _>>()?;
    let mut options = args.runtime.onnx_options(args.softmax);
    options.explained_input = args.explained_input.clone();
    options.fixed_inputs = fixed;
    let run_checksum = options_checksum(&options);
    // The model file's checksum, read once: for the part files a part writes or a merge reads,
    // and for the summaries, so a rerun keeps only maps made with the same model.
    let model_checksum = file_checksum(&args.runtime.model)?;
    let baseline_file = args.baseline.ends_with(".npy").then(|| PathBuf::from(&args.baseline));
    let scalar = match &baseline_file {
        Some(_) => 0.0,
        None => crate::explain_args::baseline_value(&args.baseline)
            .map_err(|e| CliError::Usage(format!("--baseline: {e}; give a number or a .npy file")))?,
    };
    let baseline_tensor = baseline_file.as_deref().map(|p| read_floats(p, "--baseline")).transpose()?;
    // What every map of this run is made from besides its input: a finished input is skipped
    // only when its summary records the same (a rerun with another --mask, --target, --window,
    // baseline, model or model option kept the first run's maps and reported them as this one's).
    let files = [args.mask.as_deref(), baseline_file.as_deref()]
        .into_iter()
        .flatten()
        .map(file_checksum)
        .collect::<Result<Vec<_>, _>>()?;
    let settings = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
        method_name(args.method),
        args.window,
        args.strides,
        args.k,
        args.baseline,
        args.target
    );
    let all = collect(&args.inputs, &args.list)?;
    // Shards split the inputs of whole runs. A part or a merge takes the whole input list: an
    // array job running `--part $SLURM_ARRAY_TASK_ID/N` set the shard variables too, and every
    // task but one found no input and exited 0.
    let shard = match mode {
        Mode::Whole => Shard::resolve(args.shard.as_deref(), &|k| std::env::var(k).ok())?,
        _ if args.shard.is_some() => {
            return usage(
                "--shard splits the inputs of a whole run; --part and merge split its model calls, not its inputs",
            )
        }
        _ => None,
    };
    let range = shard.map_or(0..all.len(), |s| s.slice(&all));
    let inputs = &all[range];
    // The first input is read before the model loads, so a bad file fails fast; its shape
    // gives the per-example shape of a model that leaves it symbolic (a sequence length).
    // Kept for the first turn of the loop, so the file is not read again.
    let mut first = inputs.first().map(|first| read_floats(first, "input")).transpose()?;
    let first_shape = first.as_ref().map_or_else(Vec::new, |f| f.shape().to_vec());
    let mut model: OnnxModel = match OnnxModel::load(&args.runtime.model, &options) {
        Err(OnnxError::UnknownInputSize { declared }) if !first_shape.is_empty() => {
            // A batch (N, d…) of the declared rank, or one example (d…).
            let example =
                if first_shape.len() == declared.len() { first_shape[1..].to_vec() } else { first_shape.clone() };
            args.runtime.load(&options.clone().example_shape(example))?
        }
        other => args.runtime.report(other)?,
    };
    let example = model.example_shape().to_vec();
    let per_eval = model.plan().perturbations_per_eval;
    let method = method(args, &example, per_eval)?;
    std::fs::create_dir_all(&args.output)
        .or_else(|e| run_error(format!("cannot create {}: {e}", args.output.display())))?;
    let name = method_name(args.method);
    let bar = indicatif::ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{pos}/{len} inputs [{elapsed_precise}, ETA {eta}] {wide_bar}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut explained_count, mut skipped, started) = (0usize, 0usize, Instant::now());
    let mut manifest = Vec::with_capacity(inputs.len());
    for (i, path) in inputs.iter().enumerate() {
        let read_before = if i == 0 { first.take() } else { None };
        let stem = stem(path);
        let map_path = args.output.join(format!("{stem}.{name}.npy"));
        let summary_path = args.output.join(format!("{stem}.{name}.json"));
        for stale in [&map_path, &summary_path] {
            let _ = std::fs::remove_file(partial_path(stale));
        }
        // An `.npz` member's checksum is its archive's. A part writes no summary, so needs none.
        let input_file = npz_member(path).map_or_else(|| path.clone(), |(file, _)| file);
        let checksum = match mode {
            Mode::Part(_) => String::new(),
            _ => format!(
                "{:016x}",
                settings_checksum(model_checksum, run_checksum, &settings, &files, file_checksum(&input_file)?)
            ),
        };
        // A finished input (its summary is written last) made from the same settings and files
        // is not recomputed; one made from others is, and says so.
        if matches!(mode, Mode::Whole) && summary_path.is_file() && map_path.is_file() {
            let done = std::fs::read_to_string(&summary_path)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .filter(|row| row["settings_checksum"] == checksum.as_str());
            if let Some(row) = done {
                manifest.push(row);
                skipped += 1;
                bar.inc(1);
                continue;
            }
            bar.suspend(|| {
                println!(
                    "{}: the finished {} was made from other settings or files (or by an older version): explained again",
                    path.display(),
                    map_path.display()
                )
            });
        }
        let values = match read_before {
            Some(values) => values,
            None => read_floats(path, "input")?,
        };
        let x = as_batch(values, &example, path)?;
        let x = &x;
        let baseline = baseline_tensor.as_ref().map_or(Baseline::Scalar(scalar), Baseline::Tensor);
        let explained = Inputs::new(x).with_baseline(baseline).with_target(target.clone());
        let mut calls = method.model_calls(x.shape())?;
        let start = Instant::now();
        let map = match &mode {
            Mode::Whole => method.attribute(&mut model, &explained)?,
            Mode::Part(part) => {
                let partial = method.attribute_part(&mut model, &explained, *part)?;
                let part_path =
                    args.output.join(format!("{stem}.{name}.part-{}-of-{}.json", part.index(), part.count()));
                let json = part_json(&partial, path, model_checksum, run_checksum);
                write_atomically(&part_path, |tmp| {
                    std::fs::write(tmp, format!("{json}\n")).map_err(|e| e.to_string())
                })?;
                let total = partial.total_regions.div_ceil(per_eval.max(1));
                calls = 1 + part.calls(total).len();
                println!(
                    "{}: {name}, part {} of {}: {calls} model calls in {:.2} s; wrote {}",
                    path.display(),
                    part.index(),
                    part.count(),
                    start.elapsed().as_secs_f64(),
                    part_path.display()
                );
                continue;
            }
            Mode::Merge(files) => {
                // Each call after the first perturbs at most `per_eval` regions.
                let most = max_part_bytes(calls.saturating_mul(per_eval.max(1)), x.shape()[0], path);
                let mut parts = Vec::with_capacity(files.len());
                for file in files.iter() {
                    let (part, part_model, part_options) = read_part(file, most)?;
                    if part_model != model_checksum {
                        return usage(format!(
                            "{} was made with another model file than {}",
                            file.display(),
                            args.runtime.model.display()
                        ));
                    }
                    if part_options != run_checksum {
                        return usage(format!(
                            "{} was made with other model options than this merge (--model-output, --softmax, --input, --fixed or --tf32 differ)",
                            file.display()
                        ));
                    }
                    // This command's models give a row per example (the library also allows a
                    // batch-level output's rows): other rows are an edited part file, refused
                    // before the merge allocates a map of that many rows.
                    if part.reference.len() != x.shape()[0] {
                        return usage(format!(
                            "{} holds {} rows of scores for an input of {} examples: the part file was edited",
                            file.display(),
                            part.reference.len(),
                            x.shape()[0]
                        ));
                    }
                    parts.push(part);
                }
                calls = 0;
                method.merge_parts(&explained, &parts)?
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        let scores = model.classify(x).map_err(|e| CliError::Run(e.to_string()))?;
        let predictions: Vec<usize> = scores
            .axis_iter(Axis(0))
            .map(|row| {
                row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0
            })
            .collect();
        write_atomically(&map_path, |tmp| ndarray_npy::write_npy(tmp, &map).map_err(|e| e.to_string()))?;
        let picture_path = args.output.join(format!("{stem}.{name}.png"));
        let picture = pictures(x, &map);
        write_atomically(&picture_path, |tmp| {
            picture.save_with_format(tmp, image::ImageFormat::Png).map_err(|e| e.to_string())
        })?;
        let summary = serde_json::json!({
            "input": path.display().to_string(),
            "input_shape": x.shape(),
            "model": args.runtime.model.display().to_string(),
            "runtime": model.describe(),
            "prediction": predictions,
            "target": args.target,
            "method": name,
            "window": args.window, "strides": args.strides, "k": args.k,
            "mask": args.mask.as_ref().map(|m| m.display().to_string()),
            "baseline": args.baseline,
            "perturbations_per_eval": per_eval,
            "model_calls": calls,
            "merged_parts": match &mode { Mode::Merge(files) => files.len(), _ => 0 },
            "seconds": seconds,
            "non_finite_values": crate::non_finite::count(&map),
            "settings_checksum": checksum,
            "map": map_path.display().to_string(),
            "picture": picture_path.display().to_string(),
        });
        write_atomically(&summary_path, |tmp| {
            std::fs::write(tmp, format!("{summary:#}\n")).map_err(|e| e.to_string())
        })?;
        bar.suspend(|| {
            println!(
                "{}: {name}, {calls} model calls in {seconds:.2} s, prediction {predictions:?}; wrote {}",
                path.display(),
                map_path.display()
            )
        });
        bar.inc(1);
        explained_count += 1;
        manifest.push(summary);
    }
    bar.finish_and_clear();
    if matches!(mode, Mode::Whole) {
        let name = match shard {
            Some(s) => format!("manifest.shard-{}-of-{}", s.index, s.count),
            None => "manifest".into(),
        };
        let columns = [
            "input",
            "prediction",
            "target",
            "method",
            "window",
            "strides",
            "k",
            "mask",
            "baseline",
            "perturbations_per_eval",
            "model_calls",
            "seconds",
            "non_finite_values",
            "map",
        ];
        write_manifest(&args.output, &name, &manifest, &columns)?;
        crate::gallery::write_gallery(&args.output)?;
        println!(
            "{explained_count} inputs explained, {skipped} already done (skipped), in {:.1} s; manifest {}",
            started.elapsed().as_secs_f64(),
            args.output.join(format!("{name}.csv")).display()
        );
    }
    // Inputs done before (skipped now) count too: a rerun does not turn a bad map into success.
    let flagged: Vec<(String, usize)> = manifest
        .iter()
        .filter_map(|row| {
            let n = usize::try_from(row["non_finite_values"].as_u64()?).ok()?;
            (n > 0).then(|| (row["map"].as_str().unwrap_or_default().to_string(), n))
        })
        .collect();
    crate::non_finite::refuse(&flagged)
}

#[cfg(test)]
mod tests {
    use tiled_occlusion_core::{Contrast, Target};

    use super::{parse_fixed, parse_target};

    #[test]
    fn fixed_files_whose_names_hold_an_at_sign_are_read() {
        let dir = std::env::temp_dir().join(format!("tiled-occlusion-fixed-at-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("state@2.npy");
        ndarray_npy::write_npy(&file, &ndarray::arr2(&[[1.0f32, 2.0]])).unwrap();
        let path = file.to_str().unwrap();
        let read = |text: String| parse_fixed(&text).map(|f| (f.name, f.batch_axis));
        assert_eq!(read(format!("h={path}")).ok(), Some(("h".to_string(), Some(0))));
        assert_eq!(read(format!("h={path}@1")).ok(), Some(("h".to_string(), Some(1))));
        assert_eq!(read(format!("h={path}@none")).ok(), Some(("h".to_string(), None)));
        // Not a file, and not an axis after the @: named.
        let missing = dir.join("missing@x").to_string_lossy().into_owned();
        let error = read(format!("h={missing}")).expect_err("no such file").to_string();
        assert!(error.contains("after @ give an axis number or none"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_target_of_the_library_can_be_written() {
        let parse = |t: &str| parse_target(t).ok();
        assert_eq!(parse("none"), Some(Target::None));
        assert_eq!(parse("3"), Some(Target::Class(3)));
        assert_eq!(parse("1,0"), Some(Target::Index(vec![1, 0])));
        assert_eq!(parse("each:1;0;2"), Some(Target::PerExample(vec![1, 0, 2])));
        assert_eq!(parse("each:1,0;0,1"), Some(Target::PerExampleIndex(vec![vec![1, 0], vec![0, 1]])));
        assert_eq!(parse("2-0"), Some(Target::Contrastive { class: 2, against: Contrast::Class(0) }));
        assert_eq!(parse("2-mean"), Some(Target::Contrastive { class: 2, against: Contrast::MeanOfOthers }));
        for bad in ["", "top", "each:", "each:1;0,1", "a-b", "1,x"] {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }
}
