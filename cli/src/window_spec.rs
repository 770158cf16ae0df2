//! Window, `k` and strides as the command takes them: one number for the spatial dimensions
//! (covering every channel), or one number per input dimension.

use crate::cli_error::{usage, CliError};
use tiled_occlusion_onnx::Layout;

/// A per-dimension size as written on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeSpec {
    /// One number for both spatial dimensions.
    Spatial(usize),
    /// One number per per-example dimension, in the model's layout.
    Full(Vec<usize>),
}

impl SizeSpec {
    /// Parses `18` or `3,18,18` (also `3x18x18`) for option `option`.
    pub fn parse(option: &str, text: &str) -> Result<SizeSpec, CliError> {
        let parts: Vec<&str> = text.split([',', 'x']).map(str::trim).collect();
        let mut numbers = Vec::with_capacity(parts.len());
        for p in &parts {
            match p.parse::<usize>() {
                Ok(n) if n > 0 => numbers.push(n),
                _ => {
                    return usage(format!(
                        "{option} {text:?}: expected a positive whole number (e.g. 18) or one per input dimension (e.g. 3,18,18)"
                    ))
                }
            }
        }
        Ok(if numbers.len() == 1 { SizeSpec::Spatial(numbers[0]) } else { SizeSpec::Full(numbers) })
    }

    /// The per-dimension sizes for an example of shape `example` in `layout`; `channel_value`
    /// is what the short form puts in the channel dimension (the channel count for a window,
    /// 1 for `k`).
    pub fn resolve(
        &self,
        option: &str,
        example: &[usize],
        layout: Layout,
        channel_value: usize,
    ) -> Result<Vec<usize>, CliError> {
        match self {
            SizeSpec::Spatial(n) => Ok(match layout {
                Layout::Nchw => vec![channel_value, *n, *n],
                Layout::Nhwc => vec![*n, *n, channel_value],
            }),
            SizeSpec::Full(v) if v.len() == example.len() => Ok(v.clone()),
            SizeSpec::Full(v) => usage(format!(
                "{option} has {} numbers but the model's input has {} dimensions per example ({example:?}); give {} numbers or one",
                v.len(),
                example.len(),
                example.len()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SizeSpec;
    use tiled_occlusion_onnx::Layout;

    #[test]
    fn short_and_full_forms() {
        assert_eq!(SizeSpec::parse("--window", "18").ok(), Some(SizeSpec::Spatial(18)));
        assert_eq!(SizeSpec::parse("--window", "3,18,18").ok(), Some(SizeSpec::Full(vec![3, 18, 18])));
        assert_eq!(SizeSpec::parse("--k", "1x2x2").ok(), Some(SizeSpec::Full(vec![1, 2, 2])));
        for bad in ["", "0", "-3", "3,,4", "eighteen"] {
            assert!(SizeSpec::parse("--window", bad).is_err(), "{bad}");
        }
        let s = SizeSpec::Spatial(18);
        assert_eq!(s.resolve("--window", &[3, 224, 224], Layout::Nchw, 3).ok(), Some(vec![3, 18, 18]));
        assert_eq!(s.resolve("--window", &[28, 28, 1], Layout::Nhwc, 1).ok(), Some(vec![18, 18, 1]));
        assert!(SizeSpec::Full(vec![1, 2]).resolve("--k", &[3, 224, 224], Layout::Nchw, 1).is_err());
    }
}
