//! `tiled-occlusion explain-tensor` on the ONNX crate's small models (made by
//! `scripts/fixtures/make_onnx_fixtures.py`): maps of `.npy` inputs against closed forms, a model
//! of four inputs with three held fixed (f32 and i64, batch on axis 0, on axis 1, none), and
//! bad inputs ending in one line of error with exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{ArrayD, IxDyn};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_tiled-occlusion")
}

fn model(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtimes/onnx/tests/fixtures").join(name);
    path.to_string_lossy().into_owned()
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiled-occlusion-tensor-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn save<T: ndarray_npy::WritableElement>(dir: &Path, name: &str, shape: &[usize], values: Vec<T>) -> String {
    let path = dir.join(name);
    let array = ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape");
    ndarray_npy::write_npy(&path, &array).expect("write .npy");
    path.to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(binary()).arg("explain-tensor").args(args).output().expect("the binary runs")
}

fn succeeded(o: &Output) {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn map(path: &Path) -> ArrayD<f32> {
    ndarray_npy::read_npy(path).expect("the map")
}

/// A `.npy` of `descr` whose header claims `shape` but that holds only four bytes of values.
fn hostile_npy(dir: &Path, name: &str, descr: &str, shape: &str) -> String {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (11 + header.len()) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 4]);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().into_owned()
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the summary")).expect("JSON")
}

/// `linear.onnx`: `y = flatten(x) · W`, `W[i, 0] = (i mod 7 − 3) / 8`.
fn w0(i: usize) -> f32 {
    ((i % 7) as f32 - 3.0) / 8.0
}

/// Dyadic values, so every product and sum is exact in f32.
fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 5) % 9) as f32 / 4.0 - 1.0).collect()
}

#[test]
fn occlusion_of_a_batch_and_of_one_example_match_the_closed_form() {
    let dir = scratch("linear");
    let batch = save(&dir, "batch.npy", &[2, 2, 3, 4], ramp(48));
    // One example (2, 3, 4), as f64: read as f32, explained as a batch of one.
    let one = save(&dir, "one.npy", &[2, 3, 4], ramp(24).into_iter().map(f64::from).collect::<Vec<_>>());
    for runtime in ["tract", "auto"] {
        // A folder per runtime: a folder with finished outputs would be skipped.
        let out = dir.join(runtime);
        let o = run(&[
            &batch,
            &one,
            "--model",
            &model("linear.onnx"),
            "--runtime",
            runtime,
            "--output",
            out.to_str().unwrap_or_default(),
        ]);
        succeeded(&o);
        for (stem, rows) in [("batch", 2), ("one", 1)] {
            let m = map(&out.join(format!("{stem}.occlusion.npy")));
            assert_eq!(m.shape(), [rows, 2, 3, 4], "{runtime}");
            let x = ramp(48);
            for (k, v) in m.iter().enumerate() {
                assert_eq!(*v, w0(k % 24) * x[k], "{runtime} {stem} element {k}");
            }
            let picture = image::open(out.join(format!("{stem}.occlusion.png"))).expect("the picture");
            assert!(picture.width() >= 64 && picture.height() > 28, "a picture of the map and its legend");
            let s = summary(&out.join(format!("{stem}.occlusion.json")));
            let p = s["perturbations_per_eval"].as_u64().unwrap_or(0) as usize;
            assert_eq!(s["model_calls"].as_u64(), Some(1 + 24usize.div_ceil(p.max(1)) as u64), "{s}");
            assert_eq!(s["method"], "occlusion");
        }
    }
}

#[test]
fn feature_ablation_with_a_mask_sums_each_group() {
    let dir = scratch("ablation");
    let x = save(&dir, "x.npy", &[1, 2, 3, 4], ramp(24));
    // One feature per channel (ids 0 and 1), as i32.
    let mask = save(&dir, "mask.npy", &[2, 3, 4], (0..24i32).map(|i| i / 12).collect::<Vec<_>>());
    let out = dir.join("out");
    let o = run(&[
        &x,
        "--model",
        &model("linear.onnx"),
        "--method",
        "ablation",
        "--mask",
        &mask,
        "--baseline",
        "0.5",
        "--output",
        out.to_str().unwrap_or_default(),
    ]);
    succeeded(&o);
    let m = map(&out.join("x.ablation.npy"));
    let values = ramp(24);
    for g in 0..2 {
        let want: f32 = (g * 12..(g + 1) * 12).map(|i| w0(i) * (values[i] - 0.5)).sum();
        for i in g * 12..(g + 1) * 12 {
            assert!(
                (m.as_slice().unwrap_or_default()[i] - want).abs() < 1e-6,
                "group {g}: {} vs {want}",
                m.as_slice().unwrap_or_default()[i]
            );
        }
    }
}

#[test]
fn one_input_of_four_is_explained_with_the_others_fixed() {
    // mixed_inputs.onnx: y = gain · (x·W + extra·V + Σ state), V = [[1, −1], [1/2, 2]].
    let dir = scratch("mixed");
    let extra = save(&dir, "extra.npy", &[2, 2], vec![0.5f32, -1.5, 2.0, 0.25]);
    let x = save(&dir, "x.npy", &[1, 6], vec![0.5f32; 6]);
    let state = save(&dir, "state.npy", &[2, 1, 3], vec![0.25f32; 6]);
    let gain = save(&dir, "gain.npy", &[1], vec![3i64]);
    let out = dir.join("out");
    let o = run(&[
        &extra,
        "--model",
        &model("mixed_inputs.onnx"),
        "--input",
        "extra",
        "--fixed",
        &format!("x={x}"),
        "--fixed",
        &format!("state={state}@1"),
        "--fixed",
        &format!("gain={gain}@none"),
        "--target",
        "1",
        "--output",
        out.to_str().unwrap_or_default(),
    ]);
    succeeded(&o);
    let m = map(&out.join("extra.occlusion.npy"));
    let v1 = [-1.0f32, 2.0];
    let e = [0.5f32, -1.5, 2.0, 0.25];
    assert_eq!(m.as_slice().unwrap_or_default(), (0..4).map(|k| 3.0 * v1[k % 2] * e[k]).collect::<Vec<_>>());
}

#[test]
fn bad_inputs_are_one_line_and_exit_2() {
    let dir = scratch("bad");
    let wrong = save(&dir, "wrong.npy", &[2, 5], vec![0.0f32; 10]);
    let good = save(&dir, "good.npy", &[1, 2, 3, 4], ramp(24));
    let out = dir.join("out");
    let out = out.to_str().unwrap_or_default();
    let linear = model("linear.onnx");
    let mixed = model("mixed_inputs.onnx");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![&wrong, "--model", &linear, "--output", out],
            "has shape [2, 5]; the model takes examples of shape [2, 3, 4]",
        ),
        (vec![&good, "--model", &linear, "--window", "1,2", "--output", out], "--window \"1,2\" has 2 numbers"),
        (vec![&good, "--model", &linear, "--target", "top", "--output", out], "--target \"top\""),
        (
            vec![&good, "--model", &linear, "--baseline", "nan", "--output", out],
            "--baseline: NaN is not a finite f32 value",
        ),
        (vec![&good, "--model", &mixed, "--output", out], "the model has 4 inputs (x, extra, state, gain)"),
        (vec![&good, "--model", &linear, "--fixed", "x", "--output", out], "--fixed \"x\": expected NAME=FILE.npy"),
        (vec!["missing.npy", "--model", &linear, "--output", out], "input missing.npy does not exist"),
        (vec![&good, "--model", &linear, "--device", "gpu", "--output", out], "unknown device `gpu`"),
        (
            vec![&good, "--model", &linear, "--device", "cuda:70000", "--output", out],
            "the GPU index must be a number from 0 to 65535",
        ),
        (
            vec![&good, "--model", &linear, "--runtime", "tract", "--device", "cuda", "--output", out],
            "tract runs on the CPU only; the device cuda:0 needs ONNX Runtime",
        ),
        (vec![&good, "--model", &linear, "--tf32", "--output", out], "--tf32 applies to a GPU only; the device is cpu"),
    ];
    for (args, message) in cases {
        let o = run(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr} should say {message:?}");
    }
}

#[test]
fn a_gpu_that_cannot_be_used_is_a_run_error_not_a_cpu_run() {
    // Where ONNX Runtime is the CPU build (or missing), `--device cuda` must fail, on `auto`
    // too, with one line naming the device and the fix, and write nothing; where a GPU works,
    // the run must say it ran there.
    let dir = scratch("gpu");
    let good = save(&dir, "good.npy", &[1, 2, 3, 4], ramp(24));
    let out = dir.join("out");
    for runtime in ["auto", "ort"] {
        let o = run(&[
            &good,
            "--model",
            &model("linear.onnx"),
            "--runtime",
            runtime,
            "--device",
            "cuda:0",
            "--output",
            out.to_str().unwrap_or_default(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            // Only where a GPU and ONNX Runtime's GPU build are both here: then it must say so.
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(stdout.contains("on cuda:0"), "{runtime}: ran, but not on the GPU: {stdout}");
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{runtime}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{runtime}: one line: {stderr}");
        let no_library = stderr.contains("ONNX Runtime's library was not found");
        if no_library && std::env::var("TILED_OCCLUSION_REQUIRE_ORT").as_deref() == Ok("1") {
            panic!("TILED_OCCLUSION_REQUIRE_ORT=1 but {stderr}");
        }
        assert!(
            no_library || (stderr.contains("cannot run on cuda:0") && stderr.contains("onnxruntime-gpu")),
            "{stderr}"
        );
        assert!(!out.join("good.occlusion.npy").exists(), "{runtime}: a map was written");
    }
}

#[test]
fn parts_run_as_separate_processes_merge_into_the_single_run_bit_for_bit() {
    // small_cnn.onnx: convolutions, ReLU and pooling, so the map is not a sum of weights.
    let dir = scratch("parts");
    let x = save(&dir, "x.npy", &[2, 3, 16, 16], (0..1536).map(|i| ((i * 7) % 23) as f32 / 11.0 - 1.0).collect());
    let other = save(&dir, "other.npy", &[2, 3, 16, 16], vec![0.25f32; 1536]);
    let cnn = model("small_cnn.onnx");
    let single = dir.join("single");
    let parts = dir.join("parts");
    let merged = dir.join("merged");
    let method =
        ["--method", "tiled", "--window", "3,4,4", "--k", "1,2,2", "--target", "2", "--perturbations-per-eval", "3"];
    let with = |extra: &[&str]| -> Vec<String> { method.iter().chain(extra).map(|s| s.to_string()).collect() };
    let call = |input: &str, extra: &[&str]| {
        let mut all = vec![input.to_string(), "--model".into(), cnn.clone()];
        all.extend(with(extra));
        Command::new(binary()).arg("explain-tensor").args(&all).output().expect("the binary runs")
    };
    succeeded(&call(&x, &["--output", single.to_str().unwrap_or_default()]));
    for i in 0..3 {
        let part = format!("{i}/3");
        succeeded(&call(&x, &["--part", &part, "--output", parts.to_str().unwrap_or_default()]));
    }
    let part_files: Vec<String> =
        (0..3).map(|i| parts.join(format!("x.tiled.part-{i}-of-3.json")).to_string_lossy().into_owned()).collect();
    let mut merge = vec!["merge".to_string(), x.clone(), "--model".into(), cnn.clone()];
    merge.extend(with(&["--output", merged.to_str().unwrap_or_default(), "--parts"]));
    merge.extend(part_files.iter().rev().cloned());
    let o = Command::new(binary()).args(&merge).output().expect("merge runs");
    succeeded(&o);
    let a = std::fs::read(single.join("x.tiled.npy")).expect("single map");
    let b = std::fs::read(merged.join("x.tiled.npy")).expect("merged map");
    assert_eq!(a, b, "the merged map is the single run's, byte for byte");
    assert!(map(&single.join("x.tiled.npy")).iter().any(|v| v.abs() > 1e-4), "a map that says something");

    // Two of three parts, and the parts of x offered for another input: named, exit 2.
    let mut missing = merge.clone();
    missing.pop();
    let o = Command::new(binary()).args(&missing).output().expect("merge runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2 parts given for a run split into 3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Part files edited on disk: more drops than regions × rows (a merge indexed out of bounds),
    // and every part's rows doubled consistently (a map of 4 rows for 2 examples).
    let edit = |file: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut part: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("part")).expect("json");
        change(&mut part);
        std::fs::write(file, part.to_string()).expect("write part");
    };
    let originals: Vec<String> = part_files.iter().map(|f| std::fs::read_to_string(f).expect("part")).collect();
    let doubled = |key: &str, v: &mut serde_json::Value| {
        let values = v[key].as_array().cloned().unwrap_or_default();
        v[key] = serde_json::Value::Array(values.iter().chain(values.iter()).cloned().collect());
    };
    edit(&part_files[1], &|v| doubled("drops_bits", v));
    let o = Command::new(binary()).args(&merge).output().expect("merge runs");
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("drops, not"), "{}", String::from_utf8_lossy(&o.stderr));
    for (file, original) in part_files.iter().zip(&originals) {
        std::fs::write(file, original).expect("restore");
        edit(file, &|v| {
            doubled("reference_bits", v);
            // Each region's two rows, twice.
            let drops = v["drops_bits"].as_array().cloned().unwrap_or_default();
            v["drops_bits"] =
                serde_json::Value::Array(drops.chunks(2).flat_map(|d| d.iter().chain(d)).cloned().collect());
        });
    }
    let o = Command::new(binary()).args(&merge).output().expect("merge runs");
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("holds 4 rows of scores for an input of 2 examples: the part file was edited"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (file, original) in part_files.iter().zip(&originals) {
        std::fs::write(file, original).expect("restore");
    }
    // Parts made without --softmax, merged with it: a map of neither run (it exited 0).
    let mut softer = merge.clone();
    softer.insert(4, "--softmax".into());
    let o = Command::new(binary()).args(&softer).output().expect("merge runs");
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("was made with other model options than this merge"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The documented array-job recipe: each task runs `--part $SLURM_ARRAY_TASK_ID/3` with the
    // Slurm variables set. They split inputs too, so two of three tasks found no input and
    // exited 0; a part takes every input, and an explicit --shard with --part is refused.
    let array = dir.join("array");
    for (i, expected) in part_files.iter().enumerate() {
        let task = i.to_string();
        let mut all = vec![x.clone(), "--model".into(), cnn.clone()];
        all.extend(with(&["--part", &format!("{i}/3"), "--output", array.to_str().unwrap_or_default()]));
        let o = Command::new(binary())
            .arg("explain-tensor")
            .args(&all)
            .envs([
                ("SLURM_ARRAY_TASK_ID", task.as_str()),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ])
            .output()
            .expect("runs");
        succeeded(&o);
        let made =
            std::fs::read(array.join(format!("x.tiled.part-{i}-of-3.json"))).expect("every task writes its part");
        assert_eq!(made, std::fs::read(expected).expect("part"), "the same part as without the variables");
    }
    let o = call(&x, &["--part", "0/3", "--shard", "0/2", "--output", array.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shard splits the inputs of a whole run"));
    let mut foreign = merge.clone();
    foreign[1] = other;
    let o = Command::new(binary()).args(&foreign).output().expect("merge runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("belongs to another run"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `count` inputs of the linear model in a folder: `x000.npy` … with distinct values.
fn linear_dataset(dir: &Path, count: usize) -> PathBuf {
    let folder = dir.join("inputs");
    std::fs::create_dir_all(&folder).expect("inputs folder");
    for n in 0..count {
        let values: Vec<f32> = ramp(24).iter().map(|v| v + n as f32 / 8.0).collect();
        save(&folder, &format!("x{n:03}.npy"), &[1, 2, 3, 4], values);
    }
    folder
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).and_then(|m| m.modified()).expect("a written file")
}

#[test]
fn a_killed_dataset_run_restarts_without_recomputing_finished_inputs() {
    use std::io::{BufRead, BufReader};
    let dir = scratch("dataset");
    // 200 inputs of small_cnn (3, 16, 16).
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).expect("folder");
    for n in 0..200 {
        let values = (0..768).map(|i| ((i * 7 + n) % 23) as f32 / 11.0 - 1.0).collect();
        save(&inputs, &format!("x{n:03}.npy"), &[3, 16, 16], values);
    }
    let out = dir.join("out");
    let command = || {
        let mut c = Command::new(binary());
        c.arg("explain-tensor").arg(&inputs).args(["--model", &model("small_cnn.onnx"), "--runtime", "tract"]);
        c.args(["--window", "3,4,4", "--strides", "3,4,4", "--target", "1", "--output"]).arg(&out);
        c
    };
    let mut child = command().stdout(std::process::Stdio::piped()).spawn().expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut written = 0;
    while written < 20 {
        match lines.next() {
            Some(Ok(line)) if line.contains("wrote") => written += 1,
            Some(_) => {}
            None => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let summary = |n: usize| out.join(format!("x{n:03}.occlusion.json"));
    let map_of = |n: usize| out.join(format!("x{n:03}.occlusion.npy"));
    let finished: Vec<usize> = (0..200).filter(|&n| summary(n).is_file()).collect();
    assert!(finished.len() >= 20, "{} inputs finished before the kill", finished.len());
    // A summary is written after its map: none without one.
    assert!(finished.iter().all(|&n| map_of(n).is_file()));
    let stamps: Vec<_> = finished.iter().map(|&n| modified(&map_of(n))).collect();

    let o = command().output().expect("restart");
    succeeded(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let expected = format!("{} inputs explained, {} already done (skipped)", 200 - finished.len(), finished.len());
    assert!(text.contains(&expected), "{text}\nshould say {expected:?}");
    for (&n, stamp) in finished.iter().zip(&stamps) {
        assert_eq!(modified(&map_of(n)), *stamp, "x{n:03} was not recomputed");
    }
    assert!((0..200).all(|n| map_of(n).is_file()), "every input has its map");
    let manifest = std::fs::read_to_string(out.join("manifest.csv")).expect("manifest");
    assert_eq!(manifest.lines().count(), 201, "a header and one row per input");
    let gallery = std::fs::read_to_string(out.join("index.html")).expect("the gallery");
    assert_eq!(gallery.matches("<h2>").count(), 200, "one gallery entry per input");
    assert!(gallery.contains("<b>model_calls</b> 17"), "the page shows the calls: 1 + 16 windows on tract (P = 1)");
    assert!(manifest.lines().next().unwrap_or_default().starts_with("input,prediction,target,method"));
    assert_eq!(std::fs::read_to_string(out.join("manifest.jsonl")).expect("jsonl").lines().count(), 200);
    let leftovers = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .filter(|e| e.path().to_string_lossy().ends_with(".partial"))
        .count();
    assert_eq!(leftovers, 0, "no temporary file is left");
}

/// A list read from a stream (`--list <(find …)`, `/dev/stdin`) names paths relative to the
/// working folder: they were looked for in `/dev/fd` ("does not exist").
#[test]
fn a_list_from_a_stream_is_relative_to_the_working_folder() {
    let dir = scratch("stream_list");
    let inputs = linear_dataset(&dir, 2);
    let mut child = Command::new(binary())
        .current_dir(&dir)
        .args(["explain-tensor", "--list", "/dev/stdin", "--model", &model("linear.onnx"), "--runtime", "tract"])
        .args(["--output", "out"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        b"inputs/x000.npy\n# a comment\ninputs/x001.npy\n",
    )
    .expect("the list");
    let o = child.wait_with_output().expect("runs");
    succeeded(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 inputs explained"));
    assert!(inputs.join("x000.npy").is_file() && dir.join("out/x001.occlusion.npy").is_file());
    // A file redirected to /dev/stdin (a regular file there, in /proc/self/fd): the same.
    std::fs::write(dir.join("list.txt"), "inputs/x001.npy\n").expect("list");
    let o = Command::new(binary())
        .current_dir(&dir)
        .args(["explain-tensor", "--list", "/dev/stdin", "--model", &model("linear.onnx"), "--runtime", "tract"])
        .args(["--output", "redirected"])
        .stdin(std::fs::File::open(dir.join("list.txt")).expect("open"))
        .output()
        .expect("runs");
    succeeded(&o);
    assert!(dir.join("redirected/x001.occlusion.npy").is_file());
}

/// A rerun skips a finished input only when its map was made from the same settings and files:
/// a rerun with another baseline file, an edited input or another window kept the first run's
/// maps and reported them as its own, and the methods' runs shared one summary per input (the
/// last run's, reported for the other method's map).
#[test]
fn a_rerun_keeps_only_maps_made_from_the_same_settings_and_files() {
    let dir = scratch("rerun");
    let inputs = linear_dataset(&dir, 3);
    let baseline = dir.join("baseline.npy");
    let out = dir.join("out");
    let rerun = |extra: &[&str], explained: usize| -> String {
        let o = Command::new(binary())
            .arg("explain-tensor")
            .arg(&inputs)
            .args(["--model", &model("linear.onnx"), "--runtime", "tract", "--output"])
            .arg(&out)
            .args(extra)
            .output()
            .expect("runs");
        succeeded(&o);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let expected = format!("{explained} inputs explained, {} already done (skipped)", 3 - explained);
        assert!(text.contains(&expected), "{extra:?}: {text}\nshould say {expected:?}");
        text
    };
    // Occlusion of single elements on y = x · W: map = w0 · (x − baseline), exact (dyadic).
    let expect_map = |n: usize, x: &[f32], b: f32| {
        let m = map(&out.join(format!("x{n:03}.occlusion.npy")));
        for (k, v) in m.iter().enumerate() {
            assert_eq!(*v, w0(k) * (x[k] - b), "x{n:03} element {k}");
        }
    };
    let x = |n: usize| -> Vec<f32> { ramp(24).iter().map(|v| v + n as f32 / 8.0).collect() };
    save(&dir, "baseline.npy", &[2, 3, 4], vec![0.0f32; 24]);
    let with_file = ["--baseline", baseline.to_str().unwrap_or_default()];
    rerun(&with_file, 3);
    rerun(&with_file, 0);
    // The baseline file's values change, not its name.
    save(&dir, "baseline.npy", &[2, 3, 4], vec![0.5f32; 24]);
    let text = rerun(&with_file, 3);
    assert!(text.contains("was made from other settings or files"), "{text}");
    (0..3).for_each(|n| expect_map(n, &x(n), 0.5));
    // One input's values change.
    let edited: Vec<f32> = x(1).iter().map(|v| v * 2.0).collect();
    save(&inputs, "x001.npy", &[1, 2, 3, 4], edited.clone());
    rerun(&with_file, 1);
    expect_map(1, &edited, 0.5);
    expect_map(0, &x(0), 0.5);
    // Another setting; then another method into the same folder, which leaves the first's
    // summaries (and so its skipping) alone.
    rerun(&["--window", "1,1,2"], 3);
    rerun(&["--method", "ablation"], 3);
    rerun(&["--window", "1,1,2"], 0);
    rerun(&["--method", "ablation"], 0);
    let s = summary(&out.join("x000.occlusion.json"));
    assert_eq!((s["method"].as_str(), s["window"].as_str()), (Some("occlusion"), Some("1,1,2")), "{s}");
    assert_eq!(summary(&out.join("x000.ablation.json"))["method"], "ablation");
    let gallery = std::fs::read_to_string(out.join("index.html")).expect("the gallery");
    assert_eq!(gallery.matches("<b>method</b> ").count(), 6, "each picture with its own summary: {gallery}");
}

#[test]
fn shards_as_separate_processes_equal_one_run_bit_for_bit() {
    let dir = scratch("shards");
    let inputs = linear_dataset(&dir, 30);
    let run_into = |out: &Path, extra: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(binary());
        c.arg("explain-tensor").arg(&inputs).args(["--model", &model("linear.onnx"), "--output"]).arg(out).args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        succeeded(&c.output().expect("runs"));
    };
    let single = dir.join("single");
    run_into(&single, &[], &[]);
    let sharded = dir.join("sharded");
    // Shard 0 by the option, shard 1 as a Slurm array task (ids 1 to 3), shard 2 as a
    // Kubernetes Indexed Job completion.
    run_into(&sharded, &["--shard", "0/3"], &[]);
    run_into(
        &sharded,
        &[],
        &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")],
    );
    run_into(&sharded, &[], &[("JOB_COMPLETION_INDEX", "2"), ("JOB_COMPLETIONS", "3")]);
    for n in 0..30 {
        let name = format!("x{n:03}.occlusion.npy");
        let a = std::fs::read(single.join(&name)).expect("single");
        assert_eq!(a, std::fs::read(sharded.join(&name)).expect("sharded"), "{name}");
        let m = map(&single.join(&name));
        for (k, v) in m.iter().enumerate() {
            assert_eq!(*v, w0(k) * (ramp(24)[k] + n as f32 / 8.0), "{name} element {k}");
        }
    }
    let rows: usize = (0..3)
        .map(|i| {
            let text = std::fs::read_to_string(sharded.join(format!("manifest.shard-{i}-of-3.csv"))).expect("manifest");
            text.lines().count() - 1
        })
        .sum();
    assert_eq!(rows, 30, "the shards' manifests cover every input once");
}

#[test]
fn arrays_of_an_npz_archive_are_inputs() {
    let dir = scratch("npz");
    let path = dir.join("data.npz");
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(&path).expect("create"));
    let a = ArrayD::from_shape_vec(IxDyn(&[1, 2, 3, 4]), ramp(24)).expect("shape");
    let b = ArrayD::from_shape_vec(IxDyn(&[2, 2, 3, 4]), ramp(48).into_iter().map(f64::from).collect()).expect("shape");
    npz.add_array("a", &a).expect("a");
    npz.add_array("b", &b).expect("b");
    npz.finish().expect("npz");
    let out = dir.join("out");
    let member = |name: &str| format!("{}:{name}", path.display());
    let o = run(&[
        &member("a"),
        &member("b"),
        "--model",
        &model("linear.onnx"),
        "--runtime",
        "tract",
        "--output",
        out.to_str().unwrap_or_default(),
    ]);
    succeeded(&o);
    for (stem, rows) in [("data-a", 1), ("data-b", 2)] {
        let m = map(&out.join(format!("{stem}.occlusion.npy")));
        assert_eq!(m.shape(), [rows, 2, 3, 4]);
        let x = ramp(48);
        for (k, v) in m.iter().enumerate() {
            assert_eq!(*v, w0(k % 24) * x[k], "{stem} element {k}");
        }
    }
    let o = run(&[&member("c"), "--model", &model("linear.onnx"), "--output", out.to_str().unwrap_or_default()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the archive has no array \"c\"; it holds a, b"), "{stderr}");

    // In a --list, an archive's array and a folder are inputs as on the command line (they were
    // "does not exist"); a member whose name holds folders writes into the output folder.
    let nested = dir.join("nested.npz");
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(&nested).expect("create"));
    npz.add_array("sub/x", &a).expect("sub/x");
    npz.finish().expect("npz");
    let folder = dir.join("folder");
    std::fs::create_dir_all(&folder).expect("folder");
    save(&folder, "f.npy", &[1, 2, 3, 4], ramp(24));
    let list = dir.join("inputs.txt");
    std::fs::write(&list, "data.npz:a\nfolder\nnested.npz:sub/x\n").expect("list");
    let listed = dir.join("listed");
    let o = run(&[
        "--list",
        list.to_str().unwrap_or_default(),
        "--model",
        &model("linear.onnx"),
        "--runtime",
        "tract",
        "--output",
        listed.to_str().unwrap_or_default(),
    ]);
    succeeded(&o);
    for stem in ["data-a", "f", "nested-sub_x"] {
        assert_eq!(
            map(&listed.join(format!("{stem}.occlusion.npy"))),
            map(&out.join("data-a.occlusion.npy")),
            "{stem}"
        );
    }

    // numpy.savez_compressed: named as such (it was "unsupported Zip archive: Compression method
    // not supported"). The stored archive's method fields patched to deflate (8) stand in.
    let mut bytes = std::fs::read(&nested).expect("bytes");
    let local = 0;
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").expect("central directory");
    bytes[local + 8] = 8;
    bytes[central + 10] = 8;
    let compressed = dir.join("compressed.npz");
    std::fs::write(&compressed, bytes).expect("write");
    let o = run(&[
        &format!("{}:sub/x", compressed.display()),
        "--model",
        &model("linear.onnx"),
        "--output",
        out.to_str().unwrap_or_default(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the archive is compressed (numpy.savez_compressed)"), "{stderr}");
}

#[test]
fn per_example_and_contrastive_targets_reach_the_library() {
    // linear.onnx: class 0 weights (i mod 7 − 3)/8, class 1 weights 1/4.
    let dir = scratch("targets");
    let batch = save(&dir, "batch.npy", &[2, 2, 3, 4], ramp(48));
    let x = ramp(48);
    for (target, weight) in [
        (
            "each:0;1",
            Box::new(|n: usize, i: usize| if n == 0 { w0(i) } else { 0.25 }) as Box<dyn Fn(usize, usize) -> f32>,
        ),
        ("1-0", Box::new(|_: usize, i: usize| 0.25 - w0(i))),
    ] {
        let out = dir.join(target.replace([':', ';'], "_"));
        let o = run(&[
            &batch,
            "--model",
            &model("linear.onnx"),
            "--runtime",
            "tract",
            "--target",
            target,
            "--output",
            out.to_str().unwrap_or_default(),
        ]);
        succeeded(&o);
        let m = map(&out.join("batch.occlusion.npy"));
        for (k, v) in m.iter().enumerate() {
            let want = weight(k / 24, k % 24) * x[k];
            assert!((v - want).abs() < 1e-6, "{target} element {k}: {v} vs {want}");
        }
    }
}

#[test]
fn hostile_files_and_sizes_are_one_line_and_exit_2() {
    let dir = scratch("hostile");
    let good = save(&dir, "good.npy", &[1, 2, 3, 4], ramp(24));
    let empty = save(&dir, "empty.npy", &[0, 2, 3, 4], Vec::<f32>::new());
    let damaged = dir.join("damaged.npy");
    std::fs::write(&damaged, b"\x93NUMPY\x01\x00garbage that is not a header").expect("write");
    let damaged_npz = dir.join("damaged.npz");
    std::fs::write(&damaged_npz, b"PK\x03\x04 not a zip").expect("write");
    let part = dir.join("part.json");
    std::fs::write(&part, b"{\"format\": \"tiled-occlusion-part/1\", \"part\": 0}").expect("write");
    // A sparse part file of 16 GiB: refused by its size, before a byte of it is read.
    let huge_part = dir.join("huge_part.json");
    std::fs::File::create(&huge_part).and_then(|f| f.set_len(16 << 30)).expect("sparse file");
    let huge_part = huge_part.to_string_lossy().into_owned();
    // 128-byte files whose headers claim 2⁴⁰ values aborted the process ("memory allocation
    // of 4398046511104 bytes failed") as inputs, baselines, masks and fixed inputs.
    let huge = hostile_npy(&dir, "huge.npy", "<f4", "(1099511627776,)");
    let huge_ids = hostile_npy(&dir, "huge_ids.npy", "<i8", "(1099511627776,)");
    let huge_state = hostile_npy(&dir, "huge_state.npy", "<f4", "(1099511627776,)");
    let fixed_huge = format!("state={huge_state}");
    let claims = |what: &str, file: &str| format!("{what} {file}: the header claims shape [1099511627776]");
    let (baseline_claims, mask_claims, fixed_claims) =
        (claims("--baseline", &huge), claims("--mask", &huge_ids), claims("--fixed state:", &huge_state));
    let huge_npz = {
        let path = dir.join("huge.npz");
        let mut archive = zip::ZipWriter::new(std::fs::File::create(&path).expect("npz"));
        archive.start_file("x.npy", zip::write::SimpleFileOptions::default()).expect("member");
        std::io::Write::write_all(&mut archive, &std::fs::read(&huge).expect("bytes")).expect("write member");
        archive.finish().expect("finish");
        format!("{}:x", path.display())
    };
    let wrong_shape = save(&dir, "wrong_shape.npy", &[5], vec![0.0f32; 5]);
    let wrong_ids = save(&dir, "wrong_ids.npy", &[7], vec![0i64; 7]);
    // 1e39 is finite in f64 and infinite in f32.
    let wide = save(&dir, "wide.npy", &[1, 2, 3, 4], (0..24).map(|i| if i == 3 { 1e39 } else { 0.5f64 }).collect());
    let mixed = model("mixed_inputs.onnx");
    let out = dir.join("out");
    let out = out.to_str().unwrap_or_default();
    let linear = model("linear.onnx");
    let (damaged, damaged_npz, part) = (
        damaged.to_string_lossy().into_owned(),
        format!("{}:x", damaged_npz.display()),
        part.to_string_lossy().into_owned(),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&damaged, "--model", &linear, "--output", out], "is not a .npy file"),
        (vec![&huge, "--model", &linear, "--output", out], "the header claims shape [1099511627776]"),
        (vec![&huge_npz, "--model", &linear, "--output", out], "the header claims shape [1099511627776]"),
        (vec![&good, "--model", &linear, "--baseline", &huge, "--output", out], &baseline_claims),
        (vec![&good, "--model", &linear, "--method", "ablation", "--mask", &huge_ids, "--output", out], &mask_claims),
        (vec![&good, "--model", &mixed, "--fixed", &fixed_huge, "--output", out], &fixed_claims),
        (vec![&wide, "--model", &linear, "--output", out], "beyond the range of f32"),
        // Files of the wrong shape are bad option values too (they exited 1).
        (vec![&good, "--model", &linear, "--baseline", &wrong_shape, "--output", out], "cannot be broadcast"),
        (
            vec![&good, "--model", &linear, "--method", "ablation", "--mask", &wrong_ids, "--output", out],
            "fits neither the per-example shape",
        ),
        (vec![&good, "--model", &linear, "--baseline", "1e39", "--output", out], "not a finite f32 value"),
        (
            vec![&good, "--model", &linear, "--mask", &good, "--method", "ablation", "--output", out],
            "holds float32 values",
        ),
        // 10⁹ tilings of a 4-value dimension asked for 10⁹ model calls (82 minutes).
        (
            vec![
                &good,
                "--model",
                &linear,
                "--method",
                "tiled",
                "--window",
                "1000000000",
                "--k",
                "1000000000",
                "--output",
                out,
            ],
            "at most one tiling per position",
        ),
        (vec![&damaged_npz, "--model", &linear, "--output", out], "is not a .npz"),
        (vec![&empty, "--model", &linear, "--output", out], "has shape [0, 2, 3, 4]"),
        (vec![&good, "--model", &linear, "--window", "0", "--output", out], "--window \"0\""),
        (vec![&good, "--model", &linear, "--window", "99999999999999999999", "--output", out], "--window"),
        (vec![&good, "--model", &linear, "--window", "1,1,1000", "--output", out], "window"),
        (vec![&good, "--model", &linear, "--part", "3/3", "--output", out], "part 3 of 3 does not exist"),
        (vec![&good, "--model", &linear, "--part", "1/0", "--output", out], "--part 1/0"),
        (vec![&good, "--model", &linear, "--shard", "2/2", "--output", out], "--shard 2/2"),
        (vec!["merge", &good, "--model", &linear, "--output", out, "--parts", &part], "is not a part file"),
        // Endless files were read until memory ran out ("--list /dev/zero: out of memory"
        // after gigabytes; a pipe as a part file hung).
        (
            vec![&good, "--model", &linear, "--list", "/dev/zero", "--output", out],
            "--list /dev/zero: it holds more than",
        ),
        (
            vec!["merge", &good, "--model", &linear, "--output", out, "--parts", "/dev/zero"],
            "it is larger than a part of this input and method may be",
        ),
        (
            vec!["merge", &good, "--model", &linear, "--output", out, "--parts", &huge_part],
            "it is larger than a part of this input and method may be",
        ),
    ];
    for (args, message) in cases {
        let o =
            if args[0] == "merge" { Command::new(binary()).args(&args).output().expect("runs") } else { run(&args) };
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr} should say {message:?}");
    }
    // The scheduler's variables are checked like the option.
    let o = Command::new(binary())
        .args(["explain-tensor", &good, "--model", &linear, "--output", out])
        .env("JOB_COMPLETION_INDEX", "x")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("JOB_COMPLETION_INDEX=\"x\" is not a whole number"));
    // A NaN in the input stays where the model lets it reach (the one class-0 output of this
    // linear model), so the map is NaN there and nowhere is a number made up. The map is
    // written, the summary counts its NaN values, and the run fails (it exited 0): also when
    // run again, with the input skipped as done.
    let mut values = ramp(24);
    values[5] = f32::NAN;
    let nan = save(&dir, "nan.npy", &[1, 2, 3, 4], values);
    for attempt in ["first", "rerun"] {
        let o = run(&[&nan, &good, "--model", &linear, "--runtime", "tract", "--output", out]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{attempt}: {stderr}");
        assert!(
            stderr.contains("1 map(s) hold NaN or infinite values") && stderr.contains("nan.occlusion.npy (24 values)"),
            "{attempt}: {stderr}"
        );
        let m = map(&Path::new(out).join("nan.occlusion.npy"));
        assert!(m.iter().all(|v| v.is_nan()), "class 0 reads the NaN: every drop is NaN");
        assert_eq!(summary(&Path::new(out).join("nan.occlusion.json"))["non_finite_values"], 24);
        assert_eq!(
            summary(&Path::new(out).join("good.occlusion.json"))["non_finite_values"],
            0,
            "the other input is explained"
        );
    }
}
