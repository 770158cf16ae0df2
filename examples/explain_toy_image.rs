//! Explains a toy two-class "image classifier" with Occlusion and TiledOcclusion and prints
//! the maps as text.
//!
//! The model scores class 0 by a smooth detector centred at row 4, column 5 and class 1 by
//! one centred at row 11, column 10; the image holds a bright square near each centre.
//! Explaining class 0 should light up only the first square.
//!
//! Run with `cargo run --example explain_toy_image`.

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use tiled_occlusion::ndarray::parallel_model;
use tiled_occlusion::{Attribution, Inputs, Occlusion, Target, TiledOcclusion};

const SIDE: usize = 16;

/// A Gaussian detector of width 2.5 pixels centred at `(row, col)`.
fn detector(row: f64, col: f64) -> Array2<f64> {
    Array2::from_shape_fn((SIDE, SIDE), |(r, c)| {
        let d2 = (r as f64 - row).powi(2) + (c as f64 - col).powi(2);
        (-d2 / (2.0 * 2.5 * 2.5)).exp()
    })
}

/// Prints a map with one character per position, darkest for the largest value.
fn print_map(title: &str, map: &ArrayD<f64>) {
    let shades = [' ', '.', ':', '-', '=', '+', '*', '#', '%', '@'];
    let max = map.iter().cloned().fold(f64::MIN_POSITIVE, f64::max);
    println!("{title} (max {max:.3})");
    for row in map.rows() {
        let line: String = row
            .iter()
            .map(|v| shades[((v.max(0.0) / max) * (shades.len() - 1) as f64).round() as usize])
            .flat_map(|c| [c, c])
            .collect();
        println!("  |{line}|");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let detectors = [detector(4.0, 5.0), detector(11.0, 10.0)];
    // Input (N, 1, 16, 16) -> scores (N, 2): the logistic of each detector's response.
    let mut classifier = parallel_model(move |x: &ArrayD<f64>| {
        let n = x.len_of(Axis(0));
        let mut scores = Array2::<f64>::zeros((n, 2));
        for (i, example) in x.outer_iter().enumerate() {
            let pixels = example.index_axis(Axis(0), 0);
            for (class, d) in detectors.iter().enumerate() {
                let response: f64 = pixels.iter().zip(d.iter()).map(|(p, w)| p * w).sum();
                scores[[i, class]] = 1.0 / (1.0 + (-(response - 8.0)).exp());
            }
        }
        Ok::<_, String>(scores.into_dyn())
    });

    let mut image = ArrayD::<f64>::zeros(IxDyn(&[1, 1, SIDE, SIDE]));
    for (r0, c0) in [(3, 4), (10, 9)] {
        for r in r0..r0 + 3 {
            for c in c0..c0 + 3 {
                image[[0, 0, r, c]] = 1.0;
            }
        }
    }
    let inputs = Inputs::new(&image).with_target(Target::Class(0));

    let coarse = Occlusion::new([1, 4, 4]).with_strides([1, 4, 4]);
    let fine = Occlusion::new([1, 4, 4]).with_strides([1, 2, 2]);
    let tiled = TiledOcclusion::new([1, 4, 4], [1, 2, 2]);
    for (title, method) in [
        ("Occlusion window 4, strides 4", &coarse as &dyn Attribution<_>),
        ("Occlusion window 4, strides 2", &fine),
        ("TiledOcclusion window 4, k 2", &tiled),
    ] {
        let calls = method.model_calls(image.shape())?;
        let map = method.attribute(&mut classifier, &inputs)?;
        print_map(
            &format!("{title}, {calls} model calls"),
            &map.index_axis(Axis(0), 0).index_axis(Axis(0), 0).to_owned().into_dyn(),
        );
    }
    Ok(())
}
