//! Running means and variances of attribution samples, in `f64`.

use crate::error::{Error, Result};

/// Per-element running mean, mean of squares and second central moment of a sequence of
/// equally long samples (Welford's update: `μ_k = μ_{k−1} + (a − μ_{k−1})/k`,
/// `M2_k = M2_{k−1} + (a − μ_{k−1})(a − μ_k)`).
///
/// Identical samples give back exactly that sample as the mean, and the variance
/// `M2/k = E[a²] − E[a]²` is never negative.
#[derive(Clone, Debug)]
pub(crate) struct SampleMoments {
    /// Samples per element: a `u64`, so that no run can make it wrap (a `u32` did after 2³²
    /// samples, `S` and `N·S` being `usize`).
    count: Vec<u64>,
    mean: Vec<f64>,
    mean_sq: Vec<f64>,
    m2: Vec<f64>,
}

impl SampleMoments {
    /// Moments of `len` elements, before any sample.
    pub(crate) fn new(len: usize) -> Self {
        SampleMoments { count: vec![0; len], mean: vec![0.0; len], mean_sq: vec![0.0; len], m2: vec![0.0; len] }
    }

    /// Adds one sample of elements `[offset, offset + values.len())`; an
    /// [`Error::SizeOverflow`] (and nothing added) when an element already has `u64::MAX`
    /// samples.
    pub(crate) fn add(&mut self, offset: usize, values: &[f64]) -> Result<()> {
        let counts = &self.count[offset..offset + values.len()];
        if counts.contains(&u64::MAX) {
            return Err(Error::SizeOverflow {
                what: "the number of samples of a running mean".into(),
                detail: format!("more than {} samples", u64::MAX),
            });
        }
        for (i, &a) in (offset..).zip(values) {
            self.count[i] += 1;
            // Exact up to 2⁵³ samples, then within a relative 2⁻⁵³.
            let k = self.count[i] as f64;
            // A sample equal to the running value leaves it as it is; so infinite samples
            // (a² of 1e160 is inf) keep an infinite mean rather than becoming inf − inf = NaN.
            if a != self.mean[i] {
                let delta = a - self.mean[i];
                self.mean[i] += delta / k;
                self.m2[i] += delta * (a - self.mean[i]);
            }
            let square = a * a;
            if square != self.mean_sq[i] {
                self.mean_sq[i] += (square - self.mean_sq[i]) / k;
            }
        }
        Ok(())
    }

    /// `E[a]`.
    pub(crate) fn mean(self) -> Vec<f64> {
        self.mean
    }

    /// `E[a²]`.
    pub(crate) fn mean_of_squares(self) -> Vec<f64> {
        self.mean_sq
    }

    /// `E[a²] − E[a]²`, computed as `M2 / k`.
    pub(crate) fn variance(self) -> Vec<f64> {
        self.m2.iter().zip(&self.count).map(|(m2, &k)| if k == 0 { 0.0 } else { m2 / k as f64 }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SampleMoments;

    #[test]
    fn moments_match_their_definitions() {
        let samples = [[1.0, -2.0], [4.0, 0.5], [-3.0, 0.25]];
        let mut m = SampleMoments::new(2);
        samples.iter().for_each(|s| m.add(0, s).unwrap());
        let mean = m.clone().mean();
        let sq = m.clone().mean_of_squares();
        let var = m.variance();
        for i in 0..2 {
            let e: f64 = samples.iter().map(|s| s[i]).sum::<f64>() / 3.0;
            let e2: f64 = samples.iter().map(|s| s[i] * s[i]).sum::<f64>() / 3.0;
            assert!((mean[i] - e).abs() < 1e-15);
            assert!((sq[i] - e2).abs() < 1e-14);
            assert!((var[i] - (e2 - e * e)).abs() < 1e-14);
        }
    }

    #[test]
    fn identical_samples_give_exactly_the_sample() {
        let a = [0.1, 1.0 / 3.0, 7e-9];
        let mut m = SampleMoments::new(3);
        (0..7).for_each(|_| m.add(0, &a).unwrap());
        assert_eq!(m.clone().mean(), a);
        assert_eq!(m.variance(), [0.0; 3]);
    }

    #[test]
    fn huge_identical_samples_give_inf_squares_not_nan() {
        let a = [1e160, -1e160, f64::INFINITY];
        let mut m = SampleMoments::new(3);
        (0..4).for_each(|_| m.add(0, &a).unwrap());
        assert_eq!(m.clone().mean(), a);
        assert_eq!(m.clone().mean_of_squares(), [f64::INFINITY; 3]);
        let variance = m.variance();
        assert_eq!(&variance[..2], [0.0, 0.0]);
    }

    #[test]
    fn counts_go_beyond_u32() {
        // After 2³² samples a u32 count overflowed (a panic in debug, k = 0 and an infinite
        // step in release).
        let mut m = SampleMoments::new(1);
        m.add(0, &[2.0]).unwrap();
        m.count[0] = u32::MAX.into();
        m.add(0, &[2.0]).unwrap();
        m.add(0, &[2.0 + 2f64.powi(33)]).unwrap();
        assert_eq!(m.count[0], (1 << 32) + 1);
        // μ moved by (2³³)/(2³² + 1), just under 2.
        let mean = m.clone().mean()[0];
        assert!((mean - (2.0 + 2f64.powi(33) / (2f64.powi(32) + 1.0))).abs() < 1e-9, "{mean}");
        m.count[0] = u64::MAX;
        assert!(matches!(m.add(0, &[1.0]), Err(crate::Error::SizeOverflow { .. })));
    }
}
