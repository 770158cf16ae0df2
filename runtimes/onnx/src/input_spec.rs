//! How the per-example input shape is decided: as declared, given explicitly, or read as an
//! image (layout, channels, size).

use ndarray::{ArrayD, IxDyn};

use crate::input_geometry::{InputGeometry, Layout};
use crate::model_signature::BatchDimension;
use crate::onnx_error::OnnxError;

/// How to decide the model's per-example input shape `(d_1, …, d_m)`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum InputSpec {
    /// As the model declares it; every per-example dimension must be fixed.
    #[default]
    Declared,
    /// This shape; it must agree with every fixed dimension the model declares.
    Example(Vec<usize>),
    /// An image input `(N, C, H, W)` or `(N, H, W, C)`: see [`InputGeometry::detect`].
    Image {
        /// The layout, when the shape does not tell.
        layout: Option<Layout>,
        /// Height and width for inputs whose size is symbolic.
        size: Option<usize>,
    },
}

impl InputSpec {
    /// The per-example shape for the declared input dimensions `declared` (batch first), and
    /// the image geometry for [`InputSpec::Image`].
    pub fn resolve(&self, declared: &[Option<usize>]) -> Result<(Vec<usize>, Option<InputGeometry>), OnnxError> {
        if declared.len() < 2 {
            return Err(OnnxError::InputRank { declared: declared.to_vec() });
        }
        let (example, geometry) = match self {
            InputSpec::Declared => match declared[1..].iter().copied().collect::<Option<Vec<usize>>>() {
                Some(shape) => (shape, None),
                None => return Err(OnnxError::UnknownInputSize { declared: declared.to_vec() }),
            },
            InputSpec::Example(shape) => {
                let fits = shape.len() + 1 == declared.len()
                    && shape.iter().zip(&declared[1..]).all(|(s, d)| d.is_none_or(|d| d == *s));
                if !fits {
                    return Err(OnnxError::ExampleShape { example: shape.clone(), declared: declared.to_vec() });
                }
                (shape.clone(), None)
            }
            InputSpec::Image { layout, size } => {
                let g = InputGeometry::detect(declared, *layout, *size)?;
                (g.example_shape(), Some(g))
            }
        };
        if example.contains(&0) {
            return Err(OnnxError::ExampleShape { example, declared: declared.to_vec() });
        }
        if example.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
            return Err(OnnxError::SizeOverflow { shape: example });
        }
        Ok((example, geometry))
    }
}

/// The most input values one model call may hold, `2^31` (8 GiB of `f32`): a model that
/// declares a larger input, or a fixed batch of `n` rows with `n × (d_1 ⋯ d_m)` above it, is an
/// [`OnnxError::CallTooLarge`] when it loads, before anything of that size is allocated.
pub const MAX_VALUES_PER_CALL: usize = 1 << 31;

/// Checks that one call of a model whose batch is `batch` (its fixed rows, or 1) on the
/// per-example shape `example` holds at most [`MAX_VALUES_PER_CALL`] values:
/// `rows × (d_1 ⋯ d_m) ≤ MAX_VALUES_PER_CALL`, products checked.
pub(crate) fn check_call_size(batch: BatchDimension, example: &[usize]) -> Result<(), OnnxError> {
    let rows = batch.fixed_rows().unwrap_or(1);
    match example.iter().try_fold(rows, |n, &d| n.checked_mul(d)) {
        Some(v) if v <= MAX_VALUES_PER_CALL => Ok(()),
        _ => Err(OnnxError::CallTooLarge { rows, example: example.to_vec(), limit: MAX_VALUES_PER_CALL }),
    }
}

/// An empty `Vec` with room for `len` values of `T`, or [`OnnxError::OutOfMemory`] naming
/// `what` and `shape` when the system refuses the memory (never an abort).
pub(crate) fn try_buffer<T>(len: usize, what: &'static str, shape: &[usize]) -> Result<Vec<T>, OnnxError> {
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len).map_err(|_| OnnxError::OutOfMemory {
        what,
        shape: shape.to_vec(),
        bytes: len.checked_mul(std::mem::size_of::<T>()),
    })?;
    Ok(buffer)
}

/// Zeros of `shape`, allocated fallibly: [`OnnxError::OutOfMemory`] naming `what` when the
/// system refuses the memory, [`OnnxError::SizeOverflow`] when the element count overflows.
pub(crate) fn try_zeros(shape: &[usize], what: &'static str) -> Result<ArrayD<f32>, OnnxError> {
    let len = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| OnnxError::SizeOverflow { shape: shape.to_vec() })?;
    let mut values = try_buffer(len, what, shape)?;
    values.resize(len, 0.0f32);
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| OnnxError::SizeOverflow { shape: shape.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::{check_call_size, try_zeros, InputSpec, MAX_VALUES_PER_CALL};
    use crate::model_signature::BatchDimension::{Fixed, Symbolic};
    use crate::onnx_error::OnnxError;

    #[test]
    fn shapes_are_declared_given_or_read_as_images() {
        let declared = [None, Some(3), Some(16), Some(16)];
        assert_eq!(InputSpec::Declared.resolve(&declared).ok().map(|r| r.0), Some(vec![3, 16, 16]));
        let image = InputSpec::Image { layout: None, size: None }.resolve(&declared).ok();
        assert_eq!(image.and_then(|r| r.1).map(|g| g.height), Some(16));
        let free = [None, Some(3), None, None];
        assert!(matches!(InputSpec::Declared.resolve(&free), Err(OnnxError::UnknownInputSize { .. })));
        assert_eq!(InputSpec::Example(vec![3, 8, 9]).resolve(&free).ok().map(|r| r.0), Some(vec![3, 8, 9]));
    }

    #[test]
    fn contradictions_zeros_and_overflows_are_errors() {
        let declared = [None, Some(3), None];
        for shape in [vec![4, 8], vec![3], vec![3, 0]] {
            assert!(matches!(InputSpec::Example(shape).resolve(&declared), Err(OnnxError::ExampleShape { .. })));
        }
        let huge = InputSpec::Example(vec![3, usize::MAX]);
        assert!(matches!(huge.resolve(&declared), Err(OnnxError::SizeOverflow { .. })));
        assert!(matches!(InputSpec::Declared.resolve(&[None]), Err(OnnxError::InputRank { .. })));
    }

    #[test]
    fn calls_above_the_limit_are_refused_before_any_allocation() {
        let image = [3, 224, 224];
        assert!(check_call_size(Symbolic, &image).is_ok());
        assert!(check_call_size(Fixed(64), &image).is_ok());
        // The limit itself passes, one value more does not.
        assert!(check_call_size(Fixed(2), &[MAX_VALUES_PER_CALL / 2]).is_ok());
        assert!(check_call_size(Symbolic, &[MAX_VALUES_PER_CALL + 1]).is_err());
        for (rows, example) in [
            (1usize << 40, vec![3]),        // a huge fixed batch
            (1, vec![3, 200_000, 200_000]), // a huge declared image
            (1, vec![3, 1 << 31, 1 << 31]), // between isize::MAX and usize::MAX
            (1 << 62, vec![1 << 62]),       // overflows usize
        ] {
            match check_call_size(Fixed(rows), &example) {
                Err(OnnxError::CallTooLarge { rows: r, example: e, limit }) => {
                    assert_eq!((r, e, limit), (rows, example, MAX_VALUES_PER_CALL));
                }
                other => panic!("{rows} × {example:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn buffers_the_system_cannot_give_are_errors_not_aborts() {
        assert_eq!(try_zeros(&[2, 3], "the probe example").map(|z| z.sum()).ok(), Some(0.0));
        // 2^60 f32 values (2^62 bytes: below isize::MAX, beyond any address space): the
        // allocator refuses; 2^61 (2^63 bytes): the capacity overflows isize. Both named, no abort.
        for (shape, bytes) in
            [(vec![1usize << 30, 1 << 30], Some(1usize << 62)), (vec![1 << 31, 1 << 30], Some(1 << 63))]
        {
            match try_zeros(&shape, "the probe example") {
                Err(e @ OnnxError::OutOfMemory { .. }) => {
                    let OnnxError::OutOfMemory { what, shape: s, bytes: b } = &e else { unreachable!() };
                    assert_eq!((*what, s, *b), ("the probe example", &shape, bytes));
                    let text = e.to_string();
                    assert!(text.contains("cannot allocate the probe example") && text.contains("--size"), "{text}");
                }
                other => panic!("{shape:?}: {:?}", other.map(|z| z.len())),
            }
        }
        assert!(matches!(try_zeros(&[usize::MAX, 2], "x"), Err(OnnxError::SizeOverflow { .. })));
    }
}
