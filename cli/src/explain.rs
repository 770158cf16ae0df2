//! `tiled-occlusion explain`: classify each photo, explain the prediction with Occlusion
//! and/or TiledOcclusion, write heat maps, raw maps, a comparison and a gallery.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::RgbImage;
use tiled_occlusion_core::{Attribution, Baseline, Inputs, Occlusion, Target, TiledOcclusion, TilingMode};
use tiled_occlusion_ndarray::Ndarray;
use tiled_occlusion_onnx::{softmax_rows, InputGeometry};

use crate::cli_error::{run_error, usage, CliError};
use crate::comparison::{compose, Panel};
use crate::explain_args::{ExplainArgs, MethodChoice, ModeChoice};
use crate::gallery::write_gallery;
use crate::heatmap::{channel_sum, overlay};
use crate::image_input::prepare;
use crate::labels::Labels;
use crate::method_config::check_k;
use crate::progress_report::ProgressReport;
use crate::window_spec::SizeSpec;

/// Whether `row` already is a probability distribution.
fn is_distribution(row: &[f32]) -> bool {
    row.iter().all(|p| (0.0..=1.0).contains(p)) && (row.iter().sum::<f32>() - 1.0).abs() < 1e-3
}

/// A method with its label and file name part.
struct NamedMethod {
    method: Box<dyn Attribution<Ndarray<f32>>>,
    title: &'static str,
    detail: String,
    file: &'static str,
}

/// `18` for a short form, `3,18,18` otherwise.
fn describe(spec: &SizeSpec) -> String {
    match spec {
        SizeSpec::Spatial(n) => n.to_string(),
        SizeSpec::Full(v) => v.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
    }
}

fn methods(args: &ExplainArgs, geometry: InputGeometry, per_eval: usize) -> Result<Vec<NamedMethod>, CliError> {
    let example = geometry.example_shape();
    let window_spec = SizeSpec::parse("--window", &args.window)?;
    let k_spec = SizeSpec::parse("--k", &args.k)?;
    let window = window_spec.resolve("--window", &example, geometry.layout, geometry.channels)?;
    let k = k_spec.resolve("--k", &example, geometry.layout, 1)?;
    let mode = match args.mode {
        ModeChoice::Shifted => TilingMode::Shifted,
        ModeChoice::Reference => TilingMode::Reference,
    };
    if args.method != MethodChoice::Occlusion {
        check_k(&format!("--k {}:", args.k), &k, &example, mode)?;
    }
    if let Some(r) = (0..window.len()).find(|&r| window[r] % k[r] != 0) {
        return usage(format!(
            "--window {} is not divisible by --k {} in dimension {r} ({} / {}); pick a window that is a multiple of k",
            args.window, args.k, window[r], k[r]
        ));
    }
    let (strides, strides_text) = match &args.strides {
        Some(text) => {
            let spec = SizeSpec::parse("--strides", text)?;
            let channel = window[geometry.channel_axis()];
            (spec.resolve("--strides", &example, geometry.layout, channel)?, describe(&spec))
        }
        None => {
            let s: Vec<usize> = window.iter().zip(&k).map(|(w, k)| w / k).collect();
            let text = match (&window_spec, &k_spec) {
                (SizeSpec::Spatial(w), SizeSpec::Spatial(k)) => (w / k).to_string(),
                _ => s.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            };
            (s, text)
        }
    };
    let mut out = Vec::new();
    if args.method != MethodChoice::Tiled {
        out.push(NamedMethod {
            method: Box::new(
                Occlusion::new(window.clone()).with_strides(strides).with_perturbations_per_eval(per_eval),
            ),
            title: "Occlusion",
            detail: format!("w{} s{}", describe(&window_spec), strides_text),
            file: "occlusion",
        });
    }
    if args.method != MethodChoice::Occlusion {
        out.push(NamedMethod {
            method: Box::new(TiledOcclusion::new(window, k).with_mode(mode).with_perturbations_per_eval(per_eval)),
            title: "TiledOcclusion",
            detail: format!(
                "w{} k{}{}",
                describe(&window_spec),
                describe(&k_spec),
                if args.mode == ModeChoice::Reference { " ref" } else { "" }
            ),
            file: "tiled",
        });
    }
    Ok(out)
}

/// Checks `--target` before any work: `top1`, a class id that fits, or a non-empty name.
fn check_target_text(text: &str) -> Result<(), CliError> {
    if text.trim().is_empty() {
        return usage("--target is empty: give top1, a class id or a class name");
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && text.parse::<usize>().is_err() {
        return usage(format!("--target {text}: no model has that many classes"));
    }
    Ok(())
}

/// An error when two photos would write the same output files (same file stem; compared
/// without case, as some file systems do).
pub(crate) fn check_distinct_stems(images: &[PathBuf]) -> Result<(), CliError> {
    let mut seen: Vec<(String, &PathBuf)> = Vec::new();
    for path in images {
        let stem = output_stem(path).to_lowercase();
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == stem) {
            return usage(format!(
                "{} and {} would write the same output files ({stem}.*); rename one or explain them into different folders",
                first.display(),
                path.display()
            ));
        }
        seen.push((stem, path));
    }
    Ok(())
}

/// The class to explain.
fn target_class(text: &str, prediction: usize, classes: usize, labels: &Labels) -> Result<usize, CliError> {
    let class = match text {
        "top1" => prediction,
        t => match t.parse::<usize>() {
            Ok(id) => id,
            Err(_) => labels.id_of(t)?,
        },
    };
    if class >= classes {
        return usage(format!(
            "--target {text}: class {class} does not exist, the model has {classes} classes (0..{})",
            classes - 1
        ));
    }
    Ok(class)
}

fn output_stem(image: &Path) -> String {
    image.file_stem().map_or_else(|| "image".to_string(), |s| s.to_string_lossy().to_string())
}

fn save_png(image: &RgbImage, path: &Path) -> Result<(), CliError> {
    image.save(path).or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))
}

/// Runs the command.
pub fn explain(args: &ExplainArgs) -> Result<(), CliError> {
    // Everything that needs no model is checked first, then everything that needs the model
    // but no model call, then every photo is decoded: a mistake anywhere stops the run
    // before any output is written.
    args.classifier.check()?;
    check_target_text(&args.target)?;
    check_distinct_stems(&args.images)?;
    let labels = match &args.labels {
        Some(path) => Labels::read(path)?,
        None => Labels::default(),
    };
    if !(0.0..100.0).contains(&args.outlier_percent) {
        return usage(format!("--outlier-percent {}: use a value in [0, 100)", args.outlier_percent));
    }
    let (mut model, geometry) = args.classifier.load(args.softmax)?;
    let per_eval = model.plan().perturbations_per_eval;
    // The same methods one perturbation per call, to count the model evaluations.
    let single = methods(args, geometry, 1)?;
    let methods = methods(args, geometry, per_eval)?;
    labels.check_classes(model.classes(), args.labels.as_deref())?;
    if args.target != "top1" {
        // A class id or name, checked against the model and the labels now.
        target_class(&args.target, 0, model.classes(), &labels)?;
    }
    // Every method's settings against the model's input (a window larger than the input, …).
    let input_shape: Vec<usize> = [&[1][..], &geometry.example_shape()].concat();
    for named in &methods {
        named.method.model_calls(&input_shape)?;
    }
    let resize = args.classifier.resize_for(geometry);
    for path in &args.images {
        prepare(path, geometry, args.classifier.normalize, resize)?;
    }
    let mut written: Vec<PathBuf> = Vec::new();
    let mut flagged = Vec::new();
    for path in &args.images {
        let prepared = prepare(path, geometry, args.classifier.normalize, resize)?;
        let scores = model.classify(&prepared.input).map_err(|e| CliError::Run(e.to_string()))?;
        let row: Vec<f32> = scores.iter().copied().collect();
        if row.iter().any(|v| !v.is_finite()) {
            return run_error(format!(
                "the model's scores for {} are not all finite (NaN or infinite): nothing to explain",
                path.display()
            ));
        }
        let probabilities: Vec<f32> =
            if is_distribution(&row) { row.clone() } else { softmax_rows(&scores).iter().copied().collect() };
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
        let prediction = order.first().copied().ok_or_else(|| CliError::Run("the model returned no scores".into()))?;
        let class = target_class(&args.target, prediction, row.len(), &labels)?;
        println!("{}:", path.display());
        for &c in order.iter().take(5) {
            println!("  {:>6.2}%  {} ({c})", 100.0 * probabilities[c], labels.name(c));
        }
        // Created once the first photo's scores are known to be usable.
        std::fs::create_dir_all(&args.output)
            .or_else(|e| run_error(format!("cannot create the output folder {}: {e}", args.output.display())))?;
        let stem = output_stem(path);
        let input_npy = args.output.join(format!("{stem}.input.npy"));
        ndarray_npy::write_npy(&input_npy, &prepared.input)
            .or_else(|e| run_error(format!("cannot write {}: {e}", input_npy.display())))?;
        written.push(input_npy);
        let mut panels = vec![Panel {
            picture: prepared.shown.clone(),
            title: labels.name(prediction),
            detail: format!("p={:.3} class {prediction}", probabilities[prediction]),
        }];
        let inputs = Inputs::new(&prepared.input)
            .with_baseline(Baseline::Scalar(args.baseline))
            .with_target(Target::Class(class));
        for (named, one) in methods.iter().zip(&single) {
            let evaluations = one.method.model_calls(prepared.input.shape())?;
            let calls = named.method.model_calls(prepared.input.shape())?;
            let label = format!("{} {}", named.title, named.detail);
            let mut report = ProgressReport::new(&label, args.quiet);
            let start = Instant::now();
            let map = named.method.attribute_with_progress(&mut model, &inputs, &mut report)?;
            let seconds = start.elapsed().as_secs_f64();
            report.finish();
            let batches =
                if calls == evaluations { String::new() } else { format!(" ({calls} batches of up to {per_eval})") };
            println!(
                "  {label}: {evaluations} model calls{batches} in {seconds:.2} s, explaining {} ({class})",
                labels.name(class)
            );
            let npy = args.output.join(format!("{stem}.{}.npy", named.file));
            ndarray_npy::write_npy(&npy, &map)
                .or_else(|e| run_error(format!("cannot write {}: {e}", npy.display())))?;
            let non_finite = crate::non_finite::count(&map);
            if non_finite > 0 {
                flagged.push((npy.display().to_string(), non_finite));
            }
            let (h, w, values) = channel_sum(&map, geometry.layout);
            let heat = overlay(&prepared.shown, h, w, &values, args.outlier_percent, 0.5);
            let png = args.output.join(format!("{stem}.{}.png", named.file));
            save_png(&heat, &png)?;
            written.extend([npy, png]);
            panels.push(Panel { picture: heat, title: named.title.to_string(), detail: named.detail.clone() });
        }
        let comparison = args.output.join(format!("{stem}.comparison.png"));
        save_png(&compose(&panels), &comparison)?;
        written.push(comparison);
    }
    write_gallery(&args.output)?;
    println!("wrote {} files and index.html to {}", written.len(), args.output.display());
    crate::non_finite::refuse(&flagged)
}
