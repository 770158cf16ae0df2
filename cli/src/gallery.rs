//! `index.html`: every picture in the output folder, grouped by photo.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli_error::{run_error, CliError};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The lines of an `explain-tensor` summary (`STEM.METHOD.json`) the gallery shows: prediction, target,
/// method and parameters, model calls and time; `None` without one.
fn summary_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let keys =
        ["prediction", "target", "method", "window", "strides", "k", "mask", "baseline", "model_calls", "seconds"];
    let cells: Vec<String> = keys
        .iter()
        .filter(|k| !v[**k].is_null())
        .map(|k| {
            let value = match &v[*k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) if *k == "seconds" => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                other => other.to_string(),
            };
            format!("<b>{}</b> {}", escape(k), escape(&value))
        })
        .collect();
    Some(format!(
        "<p>{}</p>\n<p>green: hiding it lowers the target score (evidence for it); red: hiding it raises the score</p>\n",
        cells.join(" · ")
    ))
}

/// Writes `folder/index.html` listing every `.png` in `folder`: for each stem its comparison
/// first, then its method pictures, each with its run's summary when there is one (`explain-tensor`), and
/// links to the `.npy` maps.
pub fn write_gallery(folder: &Path) -> Result<(), CliError> {
    let entries = std::fs::read_dir(folder).or_else(|e| run_error(format!("cannot list {}: {e}", folder.display())))?;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut arrays: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let stem = name.split('.').next().unwrap_or_default().to_string();
        if name.ends_with(".png") {
            groups.entry(stem).or_default().push(name);
        } else if name.ends_with(".npy") {
            arrays.entry(stem).or_default().push(name);
        }
    }
    let mut html = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tiled-occlusion</title>\n<style>body{font-family:sans-serif;margin:1em}img{max-width:100%;margin:4px}h2{margin-top:1.5em}</style></head><body>\n<h1>tiled-occlusion</h1>\n",
    );
    for (stem, mut pictures) in groups {
        pictures.sort_by_key(|p| (!p.contains(".comparison."), p.clone()));
        html += &format!("<h2>{}</h2>\n", escape(&stem));
        for p in pictures {
            html += &format!("<a href=\"{0}\"><img src=\"{0}\" alt=\"{0}\"></a>\n", escape(&p));
            // An `explain-tensor` picture `STEM.METHOD.png` has its run's summary beside it.
            let summary = p.strip_suffix(".png").and_then(|base| summary_of(&folder.join(format!("{base}.json"))));
            if let Some(summary) = summary {
                html += &summary;
            }
        }
        if let Some(list) = arrays.get(&stem) {
            let links: Vec<String> = list.iter().map(|a| format!("<a href=\"{0}\">{0}</a>", escape(a))).collect();
            html += &format!("<p>raw attributions: {}</p>\n", links.join(", "));
        }
    }
    html += "</body></html>\n";
    let path = folder.join("index.html");
    std::fs::write(&path, html).or_else(|e| run_error(format!("cannot write {}: {e}", path.display())))
}
