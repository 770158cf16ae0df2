//! Image inputs: where the channels are, how many, and the height and width, read from the
//! model's declared input `(N, ·, ·, ·)` with optional overrides.

use std::fmt;
use std::str::FromStr;

use crate::onnx_error::OnnxError;

/// Where the channel dimension of an image input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `(N, C, H, W)` (PyTorch).
    Nchw,
    /// `(N, H, W, C)` (TensorFlow).
    Nhwc,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        })
    }
}

impl FromStr for Layout {
    type Err = String;

    /// `nchw` or `nhwc`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "nchw" => Ok(Layout::Nchw),
            "nhwc" => Ok(Layout::Nhwc),
            _ => Err(format!("unknown layout `{s}`: use nchw or nhwc")),
        }
    }
}

/// An image model's input per example: layout, channels (1 or 3), height and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputGeometry {
    /// Channel position.
    pub layout: Layout,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl InputGeometry {
    /// Reads the geometry from the declared input dimensions (`None` where symbolic).
    ///
    /// The layout is `layout` when given; otherwise NCHW when dimension 1 is 1 or 3 and
    /// dimension 3 is not, NHWC the other way round, and an error when both or neither are.
    /// Symbolic height and width take `size` (whichever the model leaves symbolic: a square
    /// input when both are, `size × w` or `h × size` when one is declared). A `size` other than
    /// a height and width both declared is an [`OnnxError::InputSizeFixed`] (nothing would take
    /// it), and a declared height or width of 0 an [`OnnxError::EmptyImage`].
    ///
    /// ```
    /// use tiled_occlusion_onnx::{InputGeometry, Layout};
    ///
    /// let g = InputGeometry::detect(&[None, Some(3), Some(224), Some(224)], None, None).unwrap();
    /// assert_eq!((g.layout, g.channels, g.height), (Layout::Nchw, 3, 224));
    /// let g = InputGeometry::detect(&[None, None, None, Some(1)], None, Some(28)).unwrap();
    /// assert_eq!((g.layout, g.channels, g.width), (Layout::Nhwc, 1, 28));
    /// assert!(InputGeometry::detect(&[None, Some(3), Some(3), Some(3)], None, None).is_err());
    /// ```
    pub fn detect(
        declared: &[Option<usize>],
        layout: Option<Layout>,
        size: Option<usize>,
    ) -> Result<InputGeometry, OnnxError> {
        if declared.len() != 4 {
            return Err(OnnxError::ImageRank { declared: declared.to_vec() });
        }
        let is_channels = |d: Option<usize>| matches!(d, Some(1) | Some(3));
        let layout = match layout {
            Some(l) => l,
            None if is_channels(declared[1]) && !is_channels(declared[3]) => Layout::Nchw,
            None if is_channels(declared[3]) && !is_channels(declared[1]) => Layout::Nhwc,
            None => return Err(OnnxError::AmbiguousLayout { declared: declared.to_vec() }),
        };
        let (c, h, w) = match layout {
            Layout::Nchw => (declared[1], declared[2], declared[3]),
            Layout::Nhwc => (declared[3], declared[1], declared[2]),
        };
        let channels = match c {
            Some(c @ (1 | 3)) => c,
            other => return Err(OnnxError::Channels { declared: declared.to_vec(), layout, channels: other }),
        };
        if h == Some(0) || w == Some(0) {
            return Err(OnnxError::EmptyImage { declared: declared.to_vec() });
        }
        let (height, width) = match (h, w, size) {
            // Both declared: a size no axis takes would be ignored.
            (Some(h), Some(w), Some(s)) if s != h || s != w => {
                return Err(OnnxError::InputSizeFixed { declared: declared.to_vec(), size: s })
            }
            (Some(h), Some(w), _) => (h, w),
            (_, _, Some(s)) if s > 0 => (h.unwrap_or(s), w.unwrap_or(s)),
            _ => return Err(OnnxError::UnknownInputSize { declared: declared.to_vec() }),
        };
        Ok(InputGeometry { layout, channels, height, width })
    }

    /// The channel axis of the per-example shape (0 for NCHW, 2 for NHWC).
    pub fn channel_axis(&self) -> usize {
        match self.layout {
            Layout::Nchw => 0,
            Layout::Nhwc => 2,
        }
    }

    /// The per-example shape in the layout: `[C, H, W]` or `[H, W, C]`.
    pub fn example_shape(&self) -> Vec<usize> {
        match self.layout {
            Layout::Nchw => vec![self.channels, self.height, self.width],
            Layout::Nhwc => vec![self.height, self.width, self.channels],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{InputGeometry, Layout};
    use crate::onnx_error::OnnxError;

    #[test]
    fn layouts_channels_and_sizes_are_recognised() {
        let g = InputGeometry::detect(&[None, Some(3), Some(224), Some(224)], None, None).ok();
        assert_eq!(g.map(|g| (g.layout, g.channels, g.height)), Some((Layout::Nchw, 3, 224)));
        let g = InputGeometry::detect(&[None, Some(28), Some(28), Some(1)], None, None).ok();
        assert_eq!(g.map(|g| (g.layout, g.channels, g.width)), Some((Layout::Nhwc, 1, 28)));
        let g = InputGeometry::detect(&[None, Some(3), None, None], None, Some(64)).ok();
        assert_eq!(g.map(|g| (g.height, g.width)), Some((64, 64)));
        assert_eq!(g.map(|g| g.example_shape()), Some(vec![3, 64, 64]));
        // A size that the declared height and width leave no room for is an error (it was
        // ignored silently); the declared size itself is accepted.
        let fixed = [None, Some(3), Some(16), Some(16)];
        assert!(matches!(
            InputGeometry::detect(&fixed, None, Some(64)),
            Err(OnnxError::InputSizeFixed { size: 64, .. })
        ));
        assert_eq!(InputGeometry::detect(&fixed, None, Some(16)).ok().map(|g| g.height), Some(16));
    }

    #[test]
    fn a_size_sets_the_one_symbolic_side() {
        // Width declared 5, height symbolic: the size is the height (docs/command.md, --size).
        let g = InputGeometry::detect(&[None, Some(3), None, Some(5)], None, Some(7)).ok();
        assert_eq!(g.map(|g| (g.height, g.width)), Some((7, 5)));
        let g = InputGeometry::detect(&[None, Some(3), Some(5), None], None, Some(7)).ok();
        assert_eq!(g.map(|g| (g.height, g.width)), Some((5, 7)));
        let nhwc = [None, None, Some(5), Some(1)];
        assert_eq!(InputGeometry::detect(&nhwc, None, Some(7)).ok().map(|g| (g.height, g.width)), Some((7, 5)));
    }

    #[test]
    fn a_declared_height_or_width_of_zero_is_refused() {
        for declared in
            [[None, Some(3), Some(0), Some(0)], [None, Some(3), Some(0), None], [None, Some(4), Some(0), Some(1)]]
        {
            match InputGeometry::detect(&declared, None, Some(4)) {
                Err(e @ OnnxError::EmptyImage { .. }) => assert!(e.to_string().contains("of 0"), "{e}"),
                other => panic!("{declared:?}: {other:?}"),
            }
        }
        let e = InputGeometry::detect(&[None, Some(3), Some(0), Some(0)], None, None).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("the model's input [?, 3, 0, 0] declares a height or width of 0: an image needs at least one pixel each way")
        );
    }

    #[test]
    fn messages_print_declared_shapes_without_rust_debug_forms() {
        let channels = InputGeometry::detect(&[None, None, None, None], Some(Layout::Nchw), Some(4)).err();
        assert_eq!(
            channels.map(|e| e.to_string()).as_deref(),
            Some("the model's input [?, ?, ?, ?] read as NCHW has a symbolic number of channels; images have 1 or 3 (check the layout)")
        );
        let sixteen = InputGeometry::detect(&[None, Some(16), Some(8), Some(8)], Some(Layout::Nchw), None).err();
        assert_eq!(
            sixteen.map(|e| e.to_string()).as_deref(),
            Some("the model's input [?, 16, 8, 8] read as NCHW has 16 channels; images have 1 or 3 (check the layout)")
        );
    }

    #[test]
    fn unusable_inputs_are_named() {
        type Case<'a> = (&'a [Option<usize>], Option<Layout>, Option<usize>);
        let cases: [Case; 6] = [
            (&[None, Some(3), Some(3), Some(3)], None, None),
            (&[None, Some(3), None, None], None, None),
            (&[None, Some(3), None, None], None, Some(0)),
            (&[None, Some(5), Some(9), Some(9)], Some(Layout::Nchw), None),
            (&[None, Some(10)], None, None),
            (&[None, Some(9), Some(9), None], Some(Layout::Nhwc), Some(9)),
        ];
        for (declared, layout, size) in cases {
            match InputGeometry::detect(declared, layout, size) {
                Err(
                    OnnxError::AmbiguousLayout { .. }
                    | OnnxError::UnknownInputSize { .. }
                    | OnnxError::Channels { .. }
                    | OnnxError::ImageRank { .. },
                ) => {}
                other => panic!("{declared:?} {layout:?} {size:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn layout_parses_in_any_case() {
        assert_eq!("NHWC".parse::<Layout>(), Ok(Layout::Nhwc));
        assert_eq!("nchw".parse::<Layout>(), Ok(Layout::Nchw));
        assert!("chw".parse::<Layout>().is_err());
    }
}
