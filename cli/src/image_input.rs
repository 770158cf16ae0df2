//! Turning a photo into the model's input: decode, resize the shorter side, centre-crop,
//! normalise, lay out as NCHW or NHWC.

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use ndarray::{ArrayD, IxDyn};

use tiled_occlusion_onnx::{InputGeometry, Layout};

use crate::bounded_read::{read_bounded, MAX_IMAGE_FILE_BYTES};
use crate::cli_error::{run_error, usage, CliError};

/// How pixel values `x ∈ [0, 255]` become model inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Normalization {
    /// `(x − 127) / 128` (EfficientNet-Lite, TensorFlow Lite models).
    Minus127,
    /// `(x / 255 − mean) / std` with ImageNet's mean (0.485, 0.456, 0.406) and std
    /// (0.229, 0.224, 0.225) (torchvision models).
    Imagenet,
    /// `x / 255`.
    Unit,
    /// `x` unchanged.
    Raw,
}

const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

impl Normalization {
    fn apply(self, value: u8, channel: usize) -> f32 {
        let x = f32::from(value);
        match self {
            Normalization::Minus127 => (x - 127.0) / 128.0,
            Normalization::Imagenet => (x / 255.0 - IMAGENET_MEAN[channel % 3]) / IMAGENET_STD[channel % 3],
            Normalization::Unit => x / 255.0,
            Normalization::Raw => x,
        }
    }
}

/// Whether JPEG data ends with its end-of-image marker `FF D9` (after any padding of zero
/// bytes or whitespace some writers append). A file cut short lacks it, and decoders fill the
/// missing rows with grey instead of failing.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| !matches!(b, 0 | b' ' | b'\n' | b'\r' | b'\t')).map_or(0, |i| i + 1);
    bytes[..end].ends_with(&[0xFF, 0xD9])
}

/// Reads and decodes the photo at `path`, refusing damaged files.
pub fn decode(path: &Path) -> Result<DynamicImage, CliError> {
    let bytes = read_bounded(path, MAX_IMAGE_FILE_BYTES)
        .or_else(|e| run_error(format!("cannot open image {}: {e}", path.display())))?;
    let reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .or_else(|e| run_error(format!("cannot open image {}: {e}", path.display())))?;
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(&bytes) {
        return run_error(format!(
            "cannot decode image {}: the JPEG data has no end marker (the file is cut short or damaged)",
            path.display()
        ));
    }
    reader.decode().or_else(|e| run_error(format!("cannot decode image {}: {e}", path.display())))
}

/// One photo prepared for the model.
pub struct PreparedImage {
    /// The resized and cropped photo, as shown under the heat map.
    pub shown: RgbImage,
    /// The model input `(1, …)` in the model's layout.
    pub input: ArrayD<f32>,
}

/// The most pixels a photo is resized to with `--resize` (2²⁷, e.g. 16384×8192, about 0.4 GB
/// as RGB): the shorter side is scaled to `--resize`, so a very elongated photo (65535×1 with
/// `--resize 8192`) would otherwise ask for terabytes.
pub const MAX_RESIZED_PIXELS: u64 = 1 << 27;

/// Loads `path` and prepares it: the shorter side resized to `resize` (then centre-cropped to
/// the model's size), or, with `resize = None`, resized straight to the model's size.
pub fn prepare(
    path: &Path,
    geometry: InputGeometry,
    normalization: Normalization,
    resize: Option<usize>,
) -> Result<PreparedImage, CliError> {
    let decoded = decode(path)?;
    let (h, w) = (geometry.height as u32, geometry.width as u32);
    let fitted: DynamicImage = match resize {
        Some(shorter) => {
            if shorter < geometry.height.max(geometry.width) {
                return usage(format!(
                    "--resize {shorter} is smaller than the model's input {}x{}; use at least {}",
                    geometry.height,
                    geometry.width,
                    geometry.height.max(geometry.width)
                ));
            }
            let (iw, ih) = (decoded.width().max(1), decoded.height().max(1));
            let scale = shorter as f64 / f64::from(iw.min(ih));
            let (nw, nh) =
                (((f64::from(iw) * scale).round() as u32).max(w), ((f64::from(ih) * scale).round() as u32).max(h));
            if u64::from(nw) * u64::from(nh) > MAX_RESIZED_PIXELS {
                return usage(format!(
                    "--resize {shorter}: the photo {} ({iw}x{ih}) would be resized to {nw}x{nh}, more than {MAX_RESIZED_PIXELS} pixels; use a smaller --resize, or crop a photo this elongated first",
                    path.display()
                ));
            }
            let resized = decoded.resize_exact(nw, nh, FilterType::Triangle);
            resized.crop_imm((nw - w) / 2, (nh - h) / 2, w, h)
        }
        None => decoded.resize_exact(w, h, FilterType::Triangle),
    };
    let rgb = fitted.to_rgb8();
    let grey = fitted.to_luma8();
    let shape: Vec<usize> = [vec![1], geometry.example_shape()].concat();
    let input = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let (c, y, x) = match geometry.layout {
            Layout::Nchw => (i[1], i[2], i[3]),
            Layout::Nhwc => (i[3], i[1], i[2]),
        };
        let value = if geometry.channels == 1 {
            grey.get_pixel(x as u32, y as u32)[0]
        } else {
            rgb.get_pixel(x as u32, y as u32)[c]
        };
        normalization.apply(value, c)
    });
    Ok(PreparedImage { shown: rgb, input })
}
