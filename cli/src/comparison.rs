//! One picture per photo: the photo with its prediction, then each method's map, each under a
//! two-line caption.

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

use crate::text::{draw_text, fit};

/// A panel: a picture and its two caption lines.
pub struct Panel {
    /// The picture (scaled to the panel size).
    pub picture: RgbImage,
    /// First caption line.
    pub title: String,
    /// Second caption line.
    pub detail: String,
}

const CAPTION: u32 = 40;
const GAP: u32 = 8;

/// The side of a panel for pictures of `w × h`: at least 224 pixels, by whole-number zoom.
pub fn panel_side(w: u32, h: u32) -> (u32, u32) {
    let zoom = 224u32.div_ceil(w.max(h).max(1)).max(1);
    (w * zoom, h * zoom)
}

/// The panels side by side on a white background, captions above.
pub fn compose(panels: &[Panel]) -> RgbImage {
    let (pw, ph) = panels.first().map_or((224, 224), |p| panel_side(p.picture.width(), p.picture.height()));
    let width = GAP + panels.len() as u32 * (pw + GAP);
    let mut canvas = RgbImage::from_pixel(width, CAPTION + ph + GAP, Rgb([255, 255, 255]));
    for (i, panel) in panels.iter().enumerate() {
        let left = GAP + i as u32 * (pw + GAP);
        let picture = imageops::resize(&panel.picture, pw, ph, FilterType::Nearest);
        imageops::replace(&mut canvas, &picture, i64::from(left), i64::from(CAPTION));
        let black = Rgb([0, 0, 0]);
        let (title, scale) = fit(&panel.title, pw);
        draw_text(&mut canvas, left, 4, &title, black, scale);
        let (detail, scale) = fit(&panel.detail, pw);
        draw_text(&mut canvas, left, 22, &detail, Rgb([60, 60, 60]), scale);
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_are_laid_out_side_by_side() {
        let p =
            |c| Panel { picture: RgbImage::from_pixel(28, 28, Rgb([c, c, c])), title: "t".into(), detail: "d".into() };
        let out = compose(&[p(0), p(100)]);
        assert_eq!(panel_side(28, 28), (224, 224));
        assert_eq!(out.dimensions(), (8 + 2 * 232, 40 + 224 + 8));
        assert_eq!(out.get_pixel(8 + 232 + 5, 40 + 5), &Rgb([100, 100, 100]));
    }
}
