//! Pictures of the maps of `explain-tensor`, chosen by the shape of an example: a bar chart of
//! the features for tabular data `(d)`, the signal with its attribution underneath for series
//! `(C, T)` or `(T, C)` with few channels, a heat map for 2-D data and for images `(C, H, W)` or
//! `(H, W, C)` with up to 4 channels, a montage of slices for volumes; a colour legend under each.
//! Colours: green where hiding the input lowers the target score, red where it raises it, with
//! Captum's outlier clipping (the largest 2% of the mass saturates).

use image::{Rgb, RgbImage};
use ndarray::{Array2, ArrayD, ArrayViewD, Axis, IxDyn};

use crate::heatmap::{outlier_threshold, signed_colour};
use crate::text::draw_text;

/// How an example of a given shape is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureKind {
    /// One bar per feature (rank 0 or 1).
    Bars,
    /// Each channel's signal as a line, its attribution as a strip under it; `channels_first`:
    /// `(C, T)`, else `(T, C)`.
    Signal {
        /// Whether the channels are the first axis.
        channels_first: bool,
    },
    /// A heat map of the map summed over the channel axis `channel` (if any).
    HeatMap {
        /// The summed axis of a rank-3 example.
        channel: Option<usize>,
    },
    /// Slices along the first axis (after merging the leading axes into it), each a heat map.
    Montage,
}

/// The largest channel count drawn as separate signals or summed into one heat map.
const FEW: usize = 16;

/// The picture for examples of shape `example`.
pub fn kind_of(example: &[usize]) -> PictureKind {
    match example {
        [] | [_] => PictureKind::Bars,
        [a, b] if a.min(b) <= &FEW && a != b => PictureKind::Signal { channels_first: a < b },
        [_, _] => PictureKind::HeatMap { channel: None },
        [c, _, _] if *c <= 4 => PictureKind::HeatMap { channel: Some(0) },
        [_, _, c] if *c <= 4 => PictureKind::HeatMap { channel: Some(2) },
        _ => PictureKind::Montage,
    }
}

/// The most bars of a bar chart, time steps of a signal, and cells per side of a heat map and
/// of a montage's slice: larger examples are drawn as block means ([`binned`]), so a picture's
/// size never grows with the data (10⁷ features asked for a 23.8 GB bar chart).
const MAX_BARS: usize = 480;
const MAX_STEPS: usize = 1200;
const MAX_HEAT: usize = 512;
const MAX_SLICE: usize = 128;

/// `values` (`h × w`, row-major) as at most `max_h × max_w` block means: output cell `(r, c)`
/// is the mean of rows `[⌊r·h/h'⌋, ⌊(r+1)·h/h'⌋)` and columns `[⌊c·w/w'⌋, ⌊(c+1)·w/w'⌋)`, with
/// `h' = min(h, max_h)`, `w' = min(w, max_w)`; unchanged when it fits.
fn binned(values: &[f32], (h, w): (usize, usize), (max_h, max_w): (usize, usize)) -> (Vec<f32>, (usize, usize)) {
    let (bh, bw) = (h.min(max_h), w.min(max_w));
    if (bh, bw) == (h, w) {
        return (values.to_vec(), (h, w));
    }
    let span = |i: usize, n: usize, m: usize| (i * n / m)..((i + 1) * n / m);
    let mut out = Vec::with_capacity(bh * bw);
    for r in 0..bh {
        for c in 0..bw {
            let (rows, columns) = (span(r, h, bh), span(c, w, bw));
            let count = (rows.len() * columns.len()).max(1) as f64;
            let sum: f64 = rows
                .flat_map(|y| values[y * w + columns.start..y * w + columns.end].iter())
                .map(|&v| f64::from(v))
                .sum();
            out.push((sum / count) as f32);
        }
    }
    (out, (bh, bw))
}

const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([40, 40, 40]);
const LEGEND: u32 = 28;

fn rgb(c: [f32; 3]) -> Rgb<u8> {
    Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8))
}

fn fill(image: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for y in y0..(y0 + h).min(image.height()) {
        for x in x0..(x0 + w).min(image.width()) {
            image.put_pixel(x, y, colour);
        }
    }
}

/// The colour legend along the bottom of `image`: red (against), white, green (for).
fn legend(image: &mut RgbImage) {
    let (w, h) = image.dimensions();
    let y = h - LEGEND + 4;
    let bar = (w / 3).max(60).min(w);
    for x in 0..bar {
        let t = 2.0 * x as f32 / (bar.max(2) - 1) as f32 - 1.0;
        fill(image, x, y, 1, 10, rgb(signed_colour(t)));
    }
    draw_text(image, bar + 6, y, "red: against the target, green: for it", INK, 1);
}

/// Heat-map pixels of `values` (`h × w`), each value a `cell × cell` square, from `(x0, y0)`.
fn draw_heat(
    image: &mut RgbImage,
    (x0, y0): (u32, u32),
    (h, w): (usize, usize),
    values: &[f32],
    threshold: f32,
    cell: u32,
) {
    for r in 0..h {
        for c in 0..w {
            let colour = rgb(signed_colour(values[r * w + c] / threshold));
            fill(image, x0 + c as u32 * cell, y0 + r as u32 * cell, cell, cell, colour);
        }
    }
}

/// The picture of example `n` of `map` (its input `input`, both `(N, d…)`).
pub fn picture(input: &ArrayD<f32>, map: &ArrayD<f32>, n: usize) -> RgbImage {
    let x = input.index_axis(Axis(0), n);
    let a = map.index_axis(Axis(0), n);
    let mut image = match kind_of(&map.shape()[1..]) {
        PictureKind::Bars => bars(&a.iter().copied().collect::<Vec<_>>()),
        PictureKind::Signal { channels_first } => signal(&x, &a, channels_first),
        PictureKind::HeatMap { channel } => {
            let summed = match channel {
                Some(axis) => a.sum_axis(Axis(axis)),
                None => a.to_owned(),
            };
            let values: Vec<f32> = summed.iter().copied().collect();
            let (values, (h, w)) = binned(&values, (summed.shape()[0], summed.shape()[1]), (MAX_HEAT, MAX_HEAT));
            let threshold = outlier_threshold(&values, 2.0);
            let cell = (512 / h.max(w).max(1)).clamp(1, 32) as u32;
            let mut image = RgbImage::from_pixel(w as u32 * cell, h as u32 * cell + LEGEND, BACKGROUND);
            draw_heat(&mut image, (0, 0), (h, w), &values, threshold, cell);
            image
        }
        PictureKind::Montage => montage(&a),
    };
    legend(&mut image);
    image
}

/// Bars of `values` (block means when there are more than [`MAX_BARS`]), coloured against the
/// outlier threshold of the bars drawn.
fn bars(values: &[f32]) -> RgbImage {
    let (values, _) = binned(values, (1, values.len()), (1, MAX_BARS));
    let threshold = outlier_threshold(&values, 2.0);
    let step = (960 / values.len().max(1)).clamp(2, 24) as u32;
    let (w, half) = ((values.len() as u32 * step).max(320), 90u32);
    let mut image = RgbImage::from_pixel(w, 2 * half + 8 + LEGEND, BACKGROUND);
    fill(&mut image, 0, half + 4, w, 1, INK);
    for (i, v) in values.iter().enumerate() {
        let t = if v.is_finite() { (v / threshold).clamp(-1.0, 1.0) } else { 0.0 };
        let height = (t.abs() * half as f32).round() as u32;
        let top = if t >= 0.0 { half + 4 - height } else { half + 5 };
        fill(&mut image, i as u32 * step, top, step.saturating_sub(1).max(1), height, rgb(signed_colour(t)));
    }
    image
}

/// A series `(C, T)` as at most [`MAX_STEPS`] block means per channel.
fn binned_series(series: &ArrayViewD<'_, f32>) -> Array2<f32> {
    let (channels, steps) = (series.shape()[0], series.shape()[1]);
    let values: Vec<f32> = series.iter().copied().collect();
    let (values, (_, steps)) = binned(&values, (channels, steps), (channels, MAX_STEPS));
    Array2::from_shape_vec((channels, steps), values).unwrap_or_else(|_| Array2::zeros((0, 0)))
}

/// Each channel's signal and its attribution (block means of at most [`MAX_STEPS`] steps),
/// coloured against the outlier threshold of the attribution drawn.
fn signal(x: &ArrayViewD<'_, f32>, a: &ArrayViewD<'_, f32>, channels_first: bool) -> RgbImage {
    let (x, a) = if channels_first { (x.view(), a.view()) } else { (x.t(), a.t()) };
    let (x, a) = (binned_series(&x), binned_series(&a));
    let threshold = outlier_threshold(&a.iter().copied().collect::<Vec<_>>(), 2.0);
    let (channels, steps) = (x.nrows(), x.ncols());
    let step = (1200 / steps.max(1)).clamp(1, 24) as u32;
    let (w, line, strip) = ((steps as u32 * step).max(320), 80u32, 18u32);
    let panel = line + strip + 10;
    let mut image = RgbImage::from_pixel(w, channels as u32 * panel + LEGEND, BACKGROUND);
    for c in 0..channels {
        let y0 = c as u32 * panel;
        let row: Vec<f32> = x.index_axis(Axis(0), c).iter().copied().collect();
        let (lo, hi) = row
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut previous: Option<u32> = None;
        for (t, v) in row.iter().enumerate() {
            let y = y0 + 4 + ((1.0 - (v - lo) / span) * (line - 8) as f32).round().clamp(0.0, (line - 8) as f32) as u32;
            let x_mid = t as u32 * step + step / 2;
            let (top, bottom) = previous.map_or((y, y), |p| (p.min(y), p.max(y)));
            fill(&mut image, x_mid.saturating_sub(step / 2), top, step.max(1), bottom - top + 1, INK);
            previous = Some(y);
        }
        for (t, v) in a.index_axis(Axis(0), c).iter().enumerate() {
            fill(&mut image, t as u32 * step, y0 + line, step, strip, rgb(signed_colour(v / threshold)));
        }
    }
    image
}

/// Up to 16 evenly spaced slices (block means of at most [`MAX_SLICE`]² cells each), coloured
/// against the outlier threshold of the slices drawn.
fn montage(a: &ArrayViewD<'_, f32>) -> RgbImage {
    let shape = a.shape();
    let (full_h, full_w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let slices = a.len() / (full_h * full_w).max(1);
    let (h, w) = (full_h.min(MAX_SLICE), full_w.min(MAX_SLICE));
    let volume = a
        .to_owned()
        .into_shape_with_order(IxDyn(&[slices, full_h, full_w]))
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0, full_h, full_w])));
    let shown = slices.min(16);
    // Evenly spaced slices when there are more than 16.
    let drawn: Vec<(usize, Vec<f32>)> = (0..shown)
        .map(|s| {
            let index = s * slices / shown;
            let values: Vec<f32> = volume.index_axis(Axis(0), index).iter().copied().collect();
            (index, binned(&values, (full_h, full_w), (MAX_SLICE, MAX_SLICE)).0)
        })
        .collect();
    let threshold = outlier_threshold(&drawn.iter().flat_map(|(_, v)| v.iter().copied()).collect::<Vec<_>>(), 2.0);
    let columns = shown.clamp(1, 4);
    let rows = shown.div_ceil(columns).max(1);
    let cell = (128 / h.max(w).max(1)).clamp(1, 16) as u32;
    let (tile_w, tile_h) = (w as u32 * cell + 4, h as u32 * cell + 14);
    let mut image = RgbImage::from_pixel((columns as u32 * tile_w).max(320), rows as u32 * tile_h + LEGEND, BACKGROUND);
    for (s, (index, values)) in drawn.iter().enumerate() {
        let (x0, y0) = ((s % columns) as u32 * tile_w, (s / columns) as u32 * tile_h);
        draw_text(&mut image, x0, y0, &format!("slice {index}"), INK, 1);
        draw_heat(&mut image, (x0, y0 + 10), (h, w), values, threshold, cell);
    }
    image
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::{binned, kind_of, picture, PictureKind};

    #[test]
    fn the_picture_follows_the_shape() {
        assert_eq!(kind_of(&[30]), PictureKind::Bars);
        assert_eq!(kind_of(&[28, 1]), PictureKind::Signal { channels_first: false });
        assert_eq!(kind_of(&[2, 500]), PictureKind::Signal { channels_first: true });
        assert_eq!(kind_of(&[64, 64]), PictureKind::HeatMap { channel: None });
        assert_eq!(kind_of(&[3, 16, 16]), PictureKind::HeatMap { channel: Some(0) });
        assert_eq!(kind_of(&[16, 16, 3]), PictureKind::HeatMap { channel: Some(2) });
        assert_eq!(kind_of(&[20, 32, 32]), PictureKind::Montage);
        assert_eq!(kind_of(&[2, 3, 8, 8]), PictureKind::Montage);
    }

    #[test]
    fn bars_are_green_for_and_red_against() {
        let x = ArrayD::zeros(IxDyn(&[1, 3]));
        let a = ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![1.0f32, -1.0, 0.0]).unwrap();
        let image = picture(&x, &a, 0);
        // Bars 24 pixels apart: bar 0 rises above the axis (y = 94) in green, bar 1 falls
        // below it in red, bar 2 is empty.
        let above = image.get_pixel(10, 60);
        let below = image.get_pixel(24 + 10, 130);
        assert_eq!(*image.get_pixel(48 + 10, 60), image::Rgb([255, 255, 255]));
        assert!(above[1] > above[0] && above[1] > above[2], "green: {above:?}");
        assert!(below[0] > below[1] && below[0] > below[2], "red: {below:?}");
    }

    #[test]
    fn signals_montages_and_heat_maps_have_their_panels() {
        let series = ArrayD::from_shape_vec(IxDyn(&[1, 28, 2]), (0..56).map(|v| v as f32).collect()).unwrap();
        let image = picture(&series, &series, 0);
        assert_eq!(image.height(), 2 * (80 + 18 + 10) + 28, "two channel panels and the legend");
        let volume = ArrayD::from_elem(IxDyn(&[1, 20, 8, 8]), 1.0f32);
        let image = picture(&volume, &volume, 0);
        assert_eq!(image.height(), 4 * (8 * 16 + 14) + 28, "16 of 20 slices in 4 rows");
        let map = ArrayD::from_elem(IxDyn(&[1, 3, 16, 16]), -1.0f32);
        let image = picture(&map, &map, 0);
        let p = image.get_pixel(5, 5);
        assert!(p[0] > p[1], "summed negative attribution is red: {p:?}");
    }

    #[test]
    fn block_means_keep_pictures_small_whatever_the_data() {
        // Means of equal spans, exactly: [1..6] in 3 bars, and a 4×4 block grid in 2×2.
        assert_eq!(binned(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], (1, 6), (1, 3)), (vec![1.5, 3.5, 5.5], (1, 3)));
        let grid: Vec<f32> = (0..16).map(|v| v as f32).collect();
        assert_eq!(binned(&grid, (4, 4), (2, 2)), (vec![2.5, 4.5, 10.5, 12.5], (2, 2)));
        assert_eq!(binned(&grid, (4, 4), (8, 8)), (grid.clone(), (4, 4)), "small data is drawn as it is");
        // 10⁷ features asked for a 20-million-pixel-wide bar chart (23.8 GB for the command).
        let features = ArrayD::from_elem(IxDyn(&[1, 10_000_000]), 1.0f32);
        let image = picture(&features, &features, 0);
        assert!(image.width() <= 960 && image.height() < 300, "{:?}", image.dimensions());
        let series = ArrayD::from_elem(IxDyn(&[1, 2, 3_000_000]), 0.5f32);
        let image = picture(&series, &series, 0);
        assert!(image.width() <= 1200 && image.height() == 2 * (80 + 18 + 10) + 28, "{:?}", image.dimensions());
        let plane = ArrayD::from_elem(IxDyn(&[1, 3000, 2000]), -1.0f32);
        let image = picture(&plane, &plane, 0);
        assert!(image.width() <= 512 && image.height() <= 512 + 28, "{:?}", image.dimensions());
        let volume = ArrayD::from_elem(IxDyn(&[1, 20, 1000, 1000]), 1.0f32);
        let image = picture(&volume, &volume, 0);
        assert!(image.width() <= 4 * (128 + 4) && image.height() <= 4 * (128 + 14) + 28, "{:?}", image.dimensions());
        let p = image.get_pixel(10, 40);
        assert!(p[1] > p[0], "binned positive attribution stays green: {p:?}");
    }
}
