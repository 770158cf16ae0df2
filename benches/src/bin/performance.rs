//! The performance tables of docs/performance.md: what our code costs around the model, how parallel
//! evaluation scales on this machine, and whether memory stays flat as windows multiply.
//!
//! `cargo run --release -p tiled-occlusion-benches --bin performance -- [--runs N] [--assets DIR]`
//! (`--smoke`: one run, no EfficientNet, small memory probes; the test suite runs it so that
//! the binary cannot rot).
//!
//! - **overhead**: an attribution's wall time (sequential model) divided by the time of the
//!   very same model calls on the very same batches (recorded once, replayed in a bare loop).
//! - **parallel scaling**: the attribution with a sequential model over the same with
//!   `Parallel` on every core; next to it, the machine's own limit: the bare loop over the
//!   same calls split evenly over as many plain threads.
//! - **memory**: peak resident memory (`VmHWM`) of a fresh process running Occlusion with a
//!   cheap model on a 1×3×224×224 input, for windows 4, 8 and 32 at the same
//!   `perturbations_per_eval` (16).
//!
//! Workloads: EfficientNet-Lite0 through tract on chelsea (224×224; Occlusion window 18
//! strides 9, TiledOcclusion window 18 k 2), when `--assets` (or `TILED_OCCLUSION_DEMO_ASSETS`)
//! names the folder `python3 scripts/assets/assets.py demo` prints; and an MLP 784-256-10 on a
//! 1×28×28 digit (Occlusion window 4 strides 2, TiledOcclusion window 4 k 2), always.
//! Times are medians of `--runs` (default 3) alternating runs.

use std::path::PathBuf;
use std::sync::Mutex;

use ndarray::{Array2, ArrayD, Axis, Ix2, IxDyn};
use tiled_occlusion_benches::{median, seconds};
use tiled_occlusion_cli::image_input::{prepare, Normalization};
use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Parallel, Target, TiledOcclusion};
use tiled_occlusion_ndarray::{model, Ndarray};
use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, RuntimeChoice};

type Failure = Box<dyn std::error::Error>;

/// A model as a shared function of a batch.
type ModelFn<'a> = dyn Fn(&ArrayD<f32>) -> Result<ArrayD<f32>, String> + Sync + 'a;

/// A method and its label.
type LabelledMethod = (&'static str, Box<dyn Attribution<Ndarray<f32>>>);

/// One workload: a model function, an input, a target and the methods to run.
struct Workload<'a> {
    name: &'a str,
    f: &'a ModelFn<'a>,
    input: ArrayD<f32>,
    target: Target,
    methods: Vec<LabelledMethod>,
}

fn attribute_sequential(w: &Workload<'_>, method: &dyn Attribution<Ndarray<f32>>) -> Result<(), Failure> {
    let mut m = model(|x: &ArrayD<f32>| (w.f)(x));
    method.attribute(&mut m, &Inputs::new(&w.input).with_target(w.target.clone()))?;
    Ok(())
}

fn run_workload(w: &Workload<'_>, runs: usize, threads: usize) -> Result<Vec<String>, Failure> {
    let mut rows = Vec::new();
    for (label, method) in &w.methods {
        // Record the batches the attribution hands to the model.
        let recorded = Mutex::new(Vec::new());
        let mut recorder = model(|x: &ArrayD<f32>| {
            if let Ok(mut r) = recorded.lock() {
                r.push(x.clone());
            }
            (w.f)(x)
        });
        method.attribute(&mut recorder, &Inputs::new(&w.input).with_target(w.target.clone()))?;
        let batches = recorded.into_inner().map_err(|_| "poisoned")?;
        let calls = batches.len();
        let mut parallel = Parallel::<Ndarray<f32>, _>::with_threads(|x: &ArrayD<f32>| (w.f)(x), threads)?;
        let (mut attr, mut bare, mut par, mut bare_par) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut failure: Option<String> = None;
        for _ in 0..runs {
            attr.push(seconds(|| {
                if let Err(e) = attribute_sequential(w, method.as_ref()) {
                    failure = Some(e.to_string());
                }
            }));
            bare.push(seconds(|| {
                for b in &batches {
                    if let Err(e) = (w.f)(b) {
                        failure = Some(e);
                    }
                }
            }));
            par.push(seconds(|| {
                let inputs = Inputs::new(&w.input).with_target(w.target.clone());
                if let Err(e) = method.attribute(&mut parallel, &inputs) {
                    failure = Some(e.to_string());
                }
            }));
            // The machine's own limit: the same calls split evenly over plain threads.
            bare_par.push(seconds(|| {
                let (chunk, f) = (calls.div_ceil(threads).max(1), w.f);
                let failed = std::thread::scope(|scope| {
                    let handles: Vec<_> = batches
                        .chunks(chunk)
                        .map(|part| scope.spawn(move || part.iter().map(f).find_map(Result::err)))
                        .collect();
                    handles.into_iter().find_map(|h| h.join().ok().flatten())
                });
                if let Some(e) = failed {
                    failure = Some(e);
                }
            }));
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        let (a, b, p, bp) = (median(&attr), median(&bare), median(&par), median(&bare_par));
        rows.push(format!(
            "| {} | {label} | {calls} | {:.3} s | {:.3} s | **{:.3}** | {:.3} s | **{:.2}×** | {:.2}× |",
            w.name,
            a,
            b,
            a / b,
            p,
            a / p,
            b / bp
        ));
    }
    Ok(rows)
}

/// An MLP 784-256-10 with fixed weights.
fn mlp() -> impl Fn(&ArrayD<f32>) -> Result<ArrayD<f32>, String> + Sync {
    let w1 = Array2::from_shape_fn((784, 256), |(i, j)| (((i * 31 + j * 17) % 97) as f32 - 48.0) / 970.0);
    let w2 = Array2::from_shape_fn((256, 10), |(i, j)| (((i * 13 + j * 7) % 89) as f32 - 44.0) / 890.0);
    move |x: &ArrayD<f32>| {
        let n = x.len_of(Axis(0));
        let flat =
            x.to_shape((n, 784)).map_err(|e| e.to_string())?.into_dimensionality::<Ix2>().map_err(|e| e.to_string())?;
        Ok(flat.dot(&w1).mapv(|v| v.max(0.0)).dot(&w2).into_dyn())
    }
}

/// Peak resident memory of this process in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The memory probe run in a child process: Occlusion with window `w`, strides `w/2`, P = 16,
/// on a 1×3×side×side input.
fn memory_probe(window: usize, side: usize) -> Result<(), Failure> {
    let input = ArrayD::from_shape_fn(IxDyn(&[1, 3, side, side]), |i| ((i[2] * 7 + i[3] * 3) % 255) as f32 / 255.0);
    let mut cheap = model(|x: &ArrayD<f32>| Ok::<_, String>(x.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(1))));
    let method =
        Occlusion::new([3, window, window]).with_strides([3, window / 2, window / 2]).with_perturbations_per_eval(16);
    let windows = method.model_calls(&[1, 3, side, side])?;
    method.attribute(&mut cheap, &Inputs::new(&input))?;
    println!("{windows} {}", peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?);
    Ok(())
}

fn memory_rows(side: usize) -> Result<Vec<String>, Failure> {
    let me = std::env::current_exe()?;
    let mut rows = Vec::new();
    for window in [4, 8, 32] {
        let out = std::process::Command::new(&me)
            .args(["--memory-probe", &window.to_string(), &side.to_string()])
            .output()?;
        if !out.status.success() {
            return Err(format!("memory probe failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let (calls, kib) = (parts.next().unwrap_or("?").to_string(), parts.next().unwrap_or("?").to_string());
        rows.push(format!("| window {window}, strides {} | {calls} | {kib} KiB |", window / 2));
    }
    Ok(rows)
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, w, side] = args.as_slice() {
        if flag == "--memory-probe" {
            return memory_probe(w.parse()?, side.parse()?);
        }
    }
    let mut runs = 3;
    let mut assets = std::env::var_os("TILED_OCCLUSION_DEMO_ASSETS").map(PathBuf::from);
    let mut probe_side = 224;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().ok_or("--runs needs a number")?.parse()?,
            "--assets" => assets = Some(PathBuf::from(it.next().ok_or("--assets needs a folder")?)),
            "--smoke" => (runs, assets, probe_side) = (1, None, 64),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{runs} runs, medians; parallel on {threads} threads\n");
    println!("| workload | method | model calls | attribution (sequential) | same calls, bare loop | overhead | attribution (parallel) | parallel scaling | bare calls split over the threads |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let tiny = mlp();
    let digit = ArrayD::from_shape_fn(IxDyn(&[1, 28, 28]), |i| if (i[1] as i64 - 14).abs() < 3 { 1.0 } else { 0.0 });
    let tiny_workload = Workload {
        name: "MLP 784-256-10, 28×28",
        f: &tiny,
        input: digit,
        target: Target::Class(3),
        methods: vec![
            ("Occlusion w4 s2", Box::new(Occlusion::new([4, 4]).with_strides([2, 2]))),
            ("TiledOcclusion w4 k2", Box::new(TiledOcclusion::new([4, 4], [2, 2]))),
        ],
    };
    for row in run_workload(&tiny_workload, runs, threads)? {
        println!("{row}");
    }
    match assets {
        Some(folder) => {
            let options = OnnxOptions::default().runtime(RuntimeChoice::Tract).image(None, None);
            let classifier = OnnxModel::load(folder.join("efficientnet-lite0.onnx"), &options)?;
            let geometry = classifier.geometry().ok_or("not read as an image")?;
            let photo = prepare(&folder.join("chelsea.png"), geometry, Normalization::Minus127, Some(256))?;
            let f = |x: &ArrayD<f32>| classifier.classify(x).map_err(|e| e.to_string());
            let effnet = Workload {
                name: "EfficientNet-Lite0 (tract), 224×224",
                f: &f,
                input: photo.input,
                target: Target::Class(282),
                methods: vec![
                    ("Occlusion w18 s9", Box::new(Occlusion::new([3, 18, 18]).with_strides([3, 9, 9]))),
                    ("TiledOcclusion w18 k2", Box::new(TiledOcclusion::new([3, 18, 18], [1, 2, 2]))),
                ],
            };
            for row in run_workload(&effnet, runs, threads)? {
                println!("{row}");
            }
        }
        None => {
            println!("(EfficientNet-Lite0 skipped: give --assets DIR from `python3 scripts/assets/assets.py demo`)")
        }
    }
    println!("\n| memory probe (1×3×{probe_side}×{probe_side}, P = 16) | model calls | peak RSS |\n|---|---|---|");
    for row in memory_rows(probe_side)? {
        println!("{row}");
    }
    Ok(())
}
