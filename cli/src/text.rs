//! Captions drawn with an 8×8 bitmap font (the `font8x8` crate), scaled by whole pixels.

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * 8 * scale
}

/// Draws `text` with its top-left corner at `(x, y)`; characters without a glyph are drawn as `?`.
pub fn draw_text(image: &mut RgbImage, x: u32, y: u32, text: &str, colour: Rgb<u8>, scale: u32) {
    for (i, c) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS.get(c).or_else(|| font8x8::BASIC_FONTS.get('?')).unwrap_or([0; 8]);
        let left = x + i as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits & (1 << col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (left + col * scale + dx, y + row as u32 * scale + dy);
                        if px < image.width() && py < image.height() {
                            image.put_pixel(px, py, colour);
                        }
                    }
                }
            }
        }
    }
}

/// The largest scale (2 or 1) at which `text` fits in `width` pixels, and the text, shortened
/// with `…`-like `..` if it does not fit even at scale 1.
pub fn fit(text: &str, width: u32) -> (String, u32) {
    if text_width(text, 2) <= width {
        return (text.to_string(), 2);
    }
    let max_chars = (width / 8) as usize;
    if text.chars().count() <= max_chars {
        return (text.to_string(), 1);
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(2)).collect();
    (format!("{kept}.."), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_drawn_and_fitted() {
        let mut img = RgbImage::new(40, 10);
        draw_text(&mut img, 0, 0, "A", Rgb([255, 255, 255]), 1);
        assert!(img.pixels().any(|p| p[0] == 255), "the glyph left pixels");
        assert_eq!(fit("cat", 224), ("cat".to_string(), 2));
        assert_eq!(fit("a rather long class name", 224).1, 1);
        let (short, scale) = fit(&"x".repeat(40), 224);
        assert_eq!((short.chars().count(), scale), (28, 1));
    }
}
