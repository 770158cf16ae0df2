//! Target selection: turning a model output into one score per example.

use std::fmt;

use crate::error::{Error, Result};

/// Which scalar of the model output is explained, per example.
///
/// For a model output `out` of shape `(rows, o_1, …)`, row `r` holding example `n`:
/// - `None`: the output has one value per example, shape `(rows,)` or `(rows, 1)`: `out[r]`;
/// - `Class(c)`: `out[r, c]` of an `(rows, C)` output;
/// - `Index(t)`: `out[r, t_1, …, t_q]` of an output of rank `1 + q`;
/// - `PerExample([c_0, …, c_{N−1}])`: `out[r, c_n]`;
/// - `PerExampleIndex([t_0, …, t_{N−1}])`: `out[r, t_n,1, …, t_n,q]` (Captum's list of index
///   tuples, `target=[(1, 0, 0), (0, 1, 1)]`), every `t_n` of length `q`;
/// - `Contrastive { class: c, against: Contrast::Class(c') }`: `out[r, c] − out[r, c']`;
/// - `Contrastive { class: c, against: Contrast::MeanOfOthers }`:
///   `out[r, c] − mean_{j≠c} out[r, j]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Target {
    /// The model already gives one value per example.
    #[default]
    None,
    /// One class for every example.
    Class(usize),
    /// A full index into a higher-rank output (after the batch dimension).
    Index(Vec<usize>),
    /// One class per example.
    PerExample(Vec<usize>),
    /// One full index into a higher-rank output per example (Captum's list of tuples).
    PerExampleIndex(Vec<Vec<usize>>),
    /// One class against another class, or against the mean of all the others.
    Contrastive {
        /// The class explained.
        class: usize,
        /// What it is contrasted with.
        against: Contrast,
    },
}

/// What a contrastive target subtracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contrast {
    /// One other class.
    Class(usize),
    /// The mean of every other class.
    MeanOfOthers,
}

/// The most entries of a list a target's text shows (errors quote targets: one of 2·10⁵
/// indices made a message of 600 KB).
const SHOWN_ENTRIES: usize = 8;

/// `[a, b, …]`, with the first [`SHOWN_ENTRIES`] entries and the count of all when longer.
fn abbreviated<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let shown: Vec<String> = items.iter().take(SHOWN_ENTRIES).map(show).collect();
    if items.len() > SHOWN_ENTRIES {
        format!("[{}, … ({} entries)]", shown.join(", "), items.len())
    } else {
        format!("[{}]", shown.join(", "))
    }
}

/// The target as text, lists abbreviated to their first entries and their length.
///
/// ```
/// use tiled_occlusion_core::Target;
/// assert_eq!(Target::PerExample(vec![3, 1]).to_string(), "PerExample([3, 1])");
/// assert_eq!(Target::PerExample(vec![0; 100]).to_string(), "PerExample([0, 0, 0, 0, 0, 0, 0, 0, … (100 entries)])");
/// ```
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = |t: &Vec<usize>| abbreviated(t, |i| i.to_string());
        match self {
            Target::None => write!(f, "None"),
            Target::Class(c) => write!(f, "Class({c})"),
            Target::Index(t) => write!(f, "Index({})", index(t)),
            Target::PerExample(t) => write!(f, "PerExample({})", abbreviated(t, |c| c.to_string())),
            Target::PerExampleIndex(t) => write!(f, "PerExampleIndex({})", abbreviated(t, index)),
            Target::Contrastive { class, against: Contrast::Class(o) } => write!(f, "Contrastive({class} vs {o})"),
            Target::Contrastive { class, against: Contrast::MeanOfOthers } => {
                write!(f, "Contrastive({class} vs mean of others)")
            }
        }
    }
}

impl Target {
    /// The same target for an input whose every example is repeated `times` times in place
    /// (rows `[n·times, (n+1)·times)` hold copies of example `n`), as wrappers that batch
    /// noisy copies need it; the `N · times` entries of a per-example target are checked
    /// ([`Error::SizeOverflow`]) and allocated fallibly ([`Error::TooLargeToAllocate`]).
    ///
    /// ```
    /// use tiled_occlusion_core::{Error, Target};
    /// let target = Target::PerExample(vec![1, 2]);
    /// assert_eq!(target.repeat_interleave(2)?, Target::PerExample(vec![1, 1, 2, 2]));
    /// assert!(matches!(target.repeat_interleave(usize::MAX), Err(Error::SizeOverflow { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn repeat_interleave(&self, times: usize) -> Result<Target> {
        fn repeated<T: Clone>(entries: &[T], times: usize) -> Result<Vec<T>> {
            let values = Error::checked_product("the entries of a repeated target", &[entries.len(), times])?;
            let mut out = crate::error::try_with_capacity(
                "the entries of a repeated target",
                values,
                "lower the copies per call (NoiseTunnel::with_samples_batch_size)",
            )?;
            for entry in entries {
                out.extend(std::iter::repeat_n(entry, times).cloned());
            }
            Ok(out)
        }
        Ok(match self {
            Target::PerExample(c) => Target::PerExample(repeated(c, times)?),
            Target::PerExampleIndex(t) => Target::PerExampleIndex(repeated(t, times)?),
            other => other.clone(),
        })
    }

    /// Checks the target against the number of examples, before any model call.
    pub(crate) fn check_examples(&self, examples: usize) -> Result<()> {
        match self {
            Target::PerExample(c) if c.len() != examples => {
                Err(Error::TargetCount { got: c.len(), expected: examples })
            }
            Target::PerExampleIndex(t) if t.len() != examples => {
                Err(Error::TargetCount { got: t.len(), expected: examples })
            }
            _ => Ok(()),
        }
    }
}

/// A target checked against the shape of the unperturbed model output.
#[derive(Clone, Debug)]
pub(crate) struct TargetSelector {
    target: Target,
    /// Output shape beyond the batch dimension.
    trailing: Vec<usize>,
    /// Offset within a row for targets that do not depend on the example.
    offset: usize,
    /// Offset within a row per example, for [`Target::PerExample`] and
    /// [`Target::PerExampleIndex`] (empty otherwise).
    offsets: Vec<usize>,
    examples: usize,
}

impl TargetSelector {
    /// Validates `target` for an output of shape `output_shape` given `rows` input rows of
    /// `examples` examples.
    pub(crate) fn new(target: &Target, output_shape: &[usize], rows: usize, examples: usize) -> Result<Self> {
        if output_shape.first() != Some(&rows) {
            return Err(Error::OutputBatch { output_shape: output_shape.to_vec(), rows });
        }
        target.check_examples(examples)?;
        let trailing = output_shape[1..].to_vec();
        let rank_error = |needed: usize| Error::TargetRank {
            target: target.to_string(),
            needed,
            output_shape: output_shape.to_vec(),
        };
        let check = |index: usize, dim: usize| -> Result<()> {
            let size = trailing[dim - 1];
            if index >= size {
                return Err(Error::TargetOutOfRange { index, dim, size, output_shape: output_shape.to_vec() });
            }
            Ok(())
        };
        // `out[r, t_1, …, t_q]` of a `1 + q`-rank output, as an offset within a row.
        let index_offset = |t: &[usize]| -> Result<usize> {
            if trailing.len() != t.len() || t.is_empty() {
                return Err(rank_error(t.len().max(1)));
            }
            let strides = crate::backend::row_major_strides(&trailing);
            let mut offset = 0;
            for (dim, (&i, s)) in t.iter().zip(&strides).enumerate() {
                check(i, dim + 1)?;
                offset += i * s;
            }
            Ok(offset)
        };
        let mut offsets = Vec::new();
        let offset = match target {
            Target::None => {
                if trailing.iter().product::<usize>() != 1 {
                    return Err(rank_error(1));
                }
                0
            }
            Target::Class(c) => {
                if trailing.len() != 1 {
                    return Err(rank_error(1));
                }
                check(*c, 1)?;
                *c
            }
            Target::PerExample(cs) => {
                if trailing.len() != 1 {
                    return Err(rank_error(1));
                }
                for c in cs {
                    check(*c, 1)?;
                }
                offsets.clone_from(cs);
                0
            }
            Target::Index(t) => index_offset(t)?,
            Target::PerExampleIndex(ts) => {
                offsets = ts.iter().map(|t| index_offset(t)).collect::<Result<_>>()?;
                0
            }
            Target::Contrastive { class, against } => {
                if trailing.len() != 1 {
                    return Err(rank_error(1));
                }
                check(*class, 1)?;
                match against {
                    Contrast::Class(o) => {
                        check(*o, 1)?;
                        if o == class {
                            return Err(Error::ContrastiveTarget {
                                reason: format!("class {class} is contrasted with itself"),
                            });
                        }
                    }
                    Contrast::MeanOfOthers => {
                        if trailing[0] < 2 {
                            return Err(Error::ContrastiveTarget {
                                reason: format!(
                                    "the output has {} class(es); the mean of the others needs at least 2",
                                    trailing[0]
                                ),
                            });
                        }
                    }
                }
                *class
            }
        };
        Ok(TargetSelector { target: target.clone(), trailing, offset, offsets, examples })
    }

    /// One score per row of an output of shape `output_shape` (row-major `data`), for a
    /// batch of `rows` rows, region-major over the examples.
    pub(crate) fn select(&self, data: &[f64], output_shape: &[usize], rows: usize) -> Result<Vec<f64>> {
        if output_shape.first() != Some(&rows) || data.len() != output_shape.iter().product::<usize>() {
            return Err(Error::OutputBatch { output_shape: output_shape.to_vec(), rows });
        }
        if output_shape[1..] != self.trailing[..] {
            return Err(Error::OutputShapeChanged { got: output_shape[1..].to_vec(), expected: self.trailing.clone() });
        }
        let width: usize = self.trailing.iter().product();
        let scores = (0..rows).map(|r| {
            let row = &data[r * width..(r + 1) * width];
            match &self.target {
                Target::PerExample(_) | Target::PerExampleIndex(_) => row[self.offsets[r % self.examples]],
                Target::Contrastive { class, against: Contrast::Class(o) } => row[*class] - row[*o],
                Target::Contrastive { class, against: Contrast::MeanOfOthers } => {
                    let others: f64 = row.iter().enumerate().filter(|(j, _)| j != class).map(|(_, v)| v).sum();
                    row[*class] - others / (width - 1) as f64
                }
                _ => row[self.offset],
            }
        });
        Ok(scores.collect())
    }
}

impl TargetSelector {
    /// The weights `c` that make every row's score a linear function of the output,
    /// `score_r = Σ_j c[r, j] · out[r, j]` (every target is one), row-major over an output of
    /// `rows` rows: what gradient methods differentiate.
    pub(crate) fn cotangent(&self, rows: usize) -> Vec<f64> {
        let width: usize = self.trailing.iter().product();
        let mut weights = vec![0.0; rows * width];
        for (r, row) in weights.chunks_mut(width.max(1)).enumerate() {
            match &self.target {
                Target::PerExample(_) | Target::PerExampleIndex(_) => row[self.offsets[r % self.examples]] = 1.0,
                Target::Contrastive { class, against: Contrast::Class(o) } => {
                    row[*class] = 1.0;
                    row[*o] = -1.0;
                }
                Target::Contrastive { class, against: Contrast::MeanOfOthers } => {
                    let other = -1.0 / (width - 1) as f64;
                    row.iter_mut().for_each(|c| *c = other);
                    row[*class] = 1.0;
                }
                _ => row[self.offset] = 1.0,
            }
        }
        weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_each_kind_of_target() {
        let out = [1.0, 2.0, 6.0, 10.0, 20.0, 60.0];
        let shape = [2, 3];
        let pick = |t: Target| TargetSelector::new(&t, &shape, 2, 2).unwrap().select(&out, &shape, 2).unwrap();
        assert_eq!(pick(Target::Class(1)), [2.0, 20.0]);
        assert_eq!(pick(Target::Index(vec![2])), [6.0, 60.0]);
        assert_eq!(pick(Target::PerExample(vec![2, 0])), [6.0, 10.0]);
        assert_eq!(pick(Target::Contrastive { class: 2, against: Contrast::Class(0) }), [5.0, 50.0]);
        assert_eq!(pick(Target::Contrastive { class: 2, against: Contrast::MeanOfOthers }), [4.5, 45.0]);
    }

    #[test]
    fn cotangent_weights_reproduce_every_selected_score() {
        let out = [1.0, 2.0, 6.0, 10.0, 20.0, 70.0];
        let shape = [2, 3];
        for target in [
            Target::Class(1),
            Target::Index(vec![2]),
            Target::PerExample(vec![2, 0]),
            Target::Contrastive { class: 2, against: Contrast::Class(0) },
            Target::Contrastive { class: 0, against: Contrast::MeanOfOthers },
        ] {
            let selector = TargetSelector::new(&target, &shape, 2, 2).unwrap();
            let scores = selector.select(&out, &shape, 2).unwrap();
            let weights = selector.cotangent(2);
            let linear: Vec<f64> = (0..2).map(|r| (0..3).map(|j| weights[r * 3 + j] * out[r * 3 + j]).sum()).collect();
            for (a, b) in linear.iter().zip(&scores) {
                assert!((a - b).abs() < 1e-12, "{target}: {linear:?} vs {scores:?}");
            }
        }
        let none = TargetSelector::new(&Target::None, &[2], 2, 2).unwrap();
        assert_eq!(none.cotangent(2), [1.0, 1.0]);
    }

    #[test]
    fn rejects_bad_targets_with_named_values() {
        let shape = [2, 3];
        let err = |t: Target| TargetSelector::new(&t, &shape, 2, 2).unwrap_err().to_string();
        assert!(err(Target::Class(3)).contains("target index 3"));
        assert!(err(Target::None).contains("None"));
        assert!(err(Target::PerExample(vec![0])).contains("1 per-example targets given for 2"));
        assert!(err(Target::Index(vec![0, 0])).contains("Index([0, 0])"));
        assert!(err(Target::Contrastive { class: 1, against: Contrast::Class(1) }).contains("itself"));
        let scalar = TargetSelector::new(&Target::Class(0), &[2], 2, 2).unwrap_err().to_string();
        assert!(scalar.contains("[2]"), "{scalar}");
        let batch = TargetSelector::new(&Target::Class(0), &[3, 3], 2, 2).unwrap_err().to_string();
        assert!(batch.contains("2 rows"), "{batch}");
    }

    #[test]
    fn selects_one_index_tuple_per_example() {
        // out[r, i, j] = 100·r + 10·i + j on a (2, 2, 3) output: the value names its index.
        let out: Vec<f64> =
            (0..2).flat_map(|r| (0..2).flat_map(move |i| (0..3).map(move |j| (100 * r + 10 * i + j) as f64))).collect();
        let shape = [2, 2, 3];
        let target = Target::PerExampleIndex(vec![vec![1, 2], vec![0, 1]]);
        let selector = TargetSelector::new(&target, &shape, 2, 2).unwrap();
        assert_eq!(selector.select(&out, &shape, 2).unwrap(), [12.0, 101.0]);
        // Two regions of two examples: rows region-major, each row its example's tuple.
        let twice: Vec<f64> = out.iter().chain(&out).copied().collect();
        assert_eq!(selector.select(&twice, &[4, 2, 3], 4).unwrap(), [12.0, 101.0, 12.0, 101.0]);
        let weights = selector.cotangent(2);
        assert_eq!(weights.iter().enumerate().filter(|(_, w)| **w == 1.0).map(|(i, _)| i).collect::<Vec<_>>(), [5, 7]);
        let err = |t: Target| TargetSelector::new(&t, &shape, 2, 2).unwrap_err().to_string();
        assert!(err(Target::PerExampleIndex(vec![vec![1, 2]])).contains("1 per-example targets given for 2"));
        assert!(err(Target::PerExampleIndex(vec![vec![1, 2], vec![0]])).contains("PerExampleIndex"));
        assert!(err(Target::PerExampleIndex(vec![vec![1, 2], vec![2, 0]])).contains("target index 2"));
    }

    #[test]
    fn repeats_per_example_targets() {
        assert_eq!(
            Target::PerExampleIndex(vec![vec![1, 0], vec![0, 2]]).repeat_interleave(2).ok(),
            Some(Target::PerExampleIndex(vec![vec![1, 0], vec![1, 0], vec![0, 2], vec![0, 2]]))
        );
        assert_eq!(
            Target::PerExample(vec![1, 2]).repeat_interleave(2).ok(),
            Some(Target::PerExample(vec![1, 1, 2, 2]))
        );
        assert_eq!(Target::Class(4).repeat_interleave(usize::MAX).ok(), Some(Target::Class(4)));
        // N · times entries that do not fit: an error (it was a capacity-overflow panic).
        for target in [Target::PerExample(vec![0, 1]), Target::PerExampleIndex(vec![vec![0], vec![1]])] {
            assert!(matches!(target.repeat_interleave(usize::MAX), Err(Error::SizeOverflow { .. })), "{target}");
        }
    }
}
