//! The element types attributions can be computed for.

use std::fmt::{Debug, Display};

use num_traits::{Float, FromPrimitive, ToPrimitive};

/// A floating-point element type of input tensors (`f32`, `f64`, and any other
/// [`num_traits::Float`], such as `half::f16` or `half::bf16`).
///
/// The core accumulates every attribution in `f64` and converts back to the input's
/// element type once, at the end; `to_f64` and `from_f64` are those two conversions.
pub trait Element: Float + FromPrimitive + ToPrimitive + Debug + Display + Send + Sync + 'static {
    /// The value as `f64` (exact for `f32`, `f16` and `bf16`).
    fn to_f64_lossless(self) -> f64 {
        self.to_f64().unwrap_or(f64::NAN)
    }

    /// The nearest value of this type to `value` (`NaN` stays `NaN`, out-of-range values
    /// become infinite).
    fn from_f64_nearest(value: f64) -> Self {
        <Self as FromPrimitive>::from_f64(value).unwrap_or_else(|| {
            if value.is_nan() {
                Self::nan()
            } else if value > 0.0 {
                Self::infinity()
            } else {
                Self::neg_infinity()
            }
        })
    }
}

impl<E> Element for E where E: Float + FromPrimitive + ToPrimitive + Debug + Display + Send + Sync + 'static {}

#[cfg(test)]
mod tests {
    use super::Element;

    #[test]
    fn round_trips_through_f64() {
        let x = 0.1_f32;
        assert_eq!(f32::from_f64_nearest(x.to_f64_lossless()), x);
        assert_eq!(f64::from_f64_nearest(1e300).to_f64_lossless(), 1e300);
        assert!(f32::from_f64_nearest(f64::NAN).is_nan());
        assert_eq!(f32::from_f64_nearest(1e300), f32::INFINITY);
    }
}
