//! The reference tiled mode: parity with the Python TiledOcclusion reference.

use crate::attribution::{Inputs, ProgressCounter, ResolvedBaseline};
use crate::backend::{row_major_strides, Backend, BaselineValue};
use crate::error::{Error, Result};
use crate::model::Forward;
use crate::perturbation::engine::{run_model_calls, OcclusionRun};
use crate::perturbation::occlusion::{coverage, divide_by_coverage};
use crate::perturbation::{AxisWindows, RegionSchedule, WindowSchedule};

/// The most phases `Π k` the reference mode runs (each is an Occlusion of its own); the
/// Python reference it reproduces is used with small `k`.
pub const MAX_REFERENCE_PHASES: usize = 1 << 16;

/// The phases of the reference mode for one input shape.
///
/// Per dimension `p_r = s_r` if `k_r > 1` else 0; `P` is the input zero-padded by `p_r` at the
/// start. Phase `φ` gives the model `Y_φ = P[φ_r·s_r : min(d_r + φ_r·s_r, d_r + p_r)]` and runs
/// Occlusion with window `w`, strides `w` on it against `Y_φ`'s own unperturbed output; the
/// phase maps are summed into the padded frame at offset `φ·s` and the first `p_r` entries
/// per dimension are dropped.
pub(crate) struct ReferenceTiling {
    window: Vec<usize>,
    input_shape: Vec<usize>,
    /// Per dimension, per phase: `(start in the padded frame, length)` of `Y_φ`.
    slices: Vec<Vec<(usize, usize)>>,
    /// Padding `p_r` per dimension.
    padding: Vec<usize>,
}

impl ReferenceTiling {
    pub(crate) fn new(window: &[usize], k: &[usize], steps: &[usize], input_shape: &[usize]) -> Result<Self> {
        let padding: Vec<usize> = k.iter().zip(steps).map(|(&k, &s)| if k > 1 { s } else { 0 }).collect();
        // The padded frame `d_r + p_r` (padding before the input) holds every position of every
        // phase: it must fit, so the phases' bounds below cannot overflow (`d + lo` overflowed
        // for d near usize::MAX).
        for (r, &p) in padding.iter().enumerate() {
            let d = input_shape[r + 1];
            if d.checked_add(p).is_none() {
                return Err(Error::SizeOverflow {
                    what: "the reference mode's padded input".into(),
                    detail: format!("dimension {r} of {d} positions padded by {p} is larger than {}", usize::MAX),
                });
            }
        }
        // Phase lengths shrink with φ beyond phase 0: check the last phase first, so a `k`
        // far too large is an error before anything proportional to it is made. Once every
        // phase holds a window, `k_r ≤ d_r`, and the phases are bounded by the input's size.
        for r in 0..k.len() {
            let d = input_shape[r + 1] as u128;
            let phase = k[r] - 1;
            let lo = phase as u128 * steps[r] as u128;
            let length = (d + lo).min(d + padding[r] as u128).saturating_sub(lo);
            if length < window[r] as u128 {
                return Err(Error::ReferencePhaseTooShort {
                    dim: r,
                    phase,
                    length: length as usize,
                    window: window[r],
                });
            }
        }
        // Each phase is an Occlusion of its own (a model call at least), counted one by one.
        let phases = Error::checked_product("the number of reference-mode phases", k)?;
        Error::check_at_most("the reference mode's phases Π k (TiledOcclusion::new)", phases, MAX_REFERENCE_PHASES)?;
        let slices = (0..k.len())
            .map(|r| {
                let d = input_shape[r + 1];
                (0..k[r])
                    .map(|phase| {
                        let lo = phase * steps[r];
                        // min(d + lo, d + p) without the sum d + lo (which overflowed).
                        let hi = d + lo.min(padding[r]);
                        let length = hi.saturating_sub(lo);
                        if length < window[r] {
                            return Err(Error::ReferencePhaseTooShort { dim: r, phase, length, window: window[r] });
                        }
                        Ok((lo, length))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ReferenceTiling { window: window.to_vec(), input_shape: input_shape.to_vec(), slices, padding })
    }

    /// All phase tuples, row-major, one at a time.
    fn phases(&self) -> impl Iterator<Item = Vec<usize>> + '_ {
        let counts: Vec<usize> = self.slices.iter().map(Vec::len).collect();
        // Checked in `new`.
        let total: usize = counts.iter().product();
        (0..total).map(move |mut index| {
            let mut phase = vec![0; counts.len()];
            for r in (0..counts.len()).rev() {
                phase[r] = index % counts[r];
                index /= counts[r];
            }
            phase
        })
    }

    /// The Occlusion windows (window `w`, strides `w`) on `Y_φ`.
    fn schedule(&self, phase: &[usize]) -> Result<WindowSchedule> {
        let axes = phase
            .iter()
            .enumerate()
            .map(|(r, &f)| AxisWindows::new(self.slices[r][f].1, self.window[r], self.window[r], 0, 1))
            .collect::<Result<Vec<_>>>()?;
        WindowSchedule::new("the number of windows of a reference-mode phase", axes)
    }

    /// `Σ_φ (1 + ceil(W_φ / P))`, checked.
    pub(crate) fn model_calls(&self, per_eval: usize) -> Result<usize> {
        self.phases().try_fold(0usize, |sum, phase| {
            let calls = run_model_calls(self.schedule(&phase)?.len(), per_eval)?;
            sum.checked_add(calls).ok_or_else(|| Error::SizeOverflow {
                what: "the number of reference-mode model calls".into(),
                detail: format!("more than {}", usize::MAX),
            })
        })
    }

    /// The summed phase maps, row-major over the input's shape.
    pub(crate) fn attribute<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        per_eval: usize,
        progress: &mut ProgressCounter<'_>,
    ) -> Result<Vec<f64>> {
        let baseline = match ResolvedBaseline::resolve(&inputs.baseline, inputs.input, &self.input_shape)? {
            ResolvedBaseline::Scalar(v) => v,
            _ => {
                let shape = match inputs.baseline {
                    crate::Baseline::Tensor(t) => B::shape(t),
                    crate::Baseline::Scalar(_) => Vec::new(),
                };
                return Err(Error::ReferenceBaselineNotScalar { shape });
            }
        };
        let host = B::to_f64_vec(inputs.input)?;
        let examples = self.input_shape[0];
        let example_shape = &self.input_shape[1..];
        let size: usize = example_shape.iter().product();
        let strides = row_major_strides(example_shape);
        let mut total = vec![0.0; examples * size];
        for phase in self.phases() {
            // Per dimension, the input position of each Y position (None in the padding).
            let sources: Vec<Vec<Option<usize>>> = phase
                .iter()
                .enumerate()
                .map(|(r, &f)| {
                    let (lo, length) = self.slices[r][f];
                    (0..length).map(|q| (lo + q).checked_sub(self.padding[r])).collect()
                })
                .collect();
            let y_shape: Vec<usize> = sources.iter().map(Vec::len).collect();
            let y_size: usize = y_shape.iter().product();
            let offsets = source_offsets(&sources, &strides);
            let mut y = Vec::with_capacity(examples * y_size);
            for n in 0..examples {
                y.extend(offsets.iter().map(|o| o.map_or(0.0, |o| host[n * size + o])));
            }
            let mut y_input_shape = vec![examples];
            y_input_shape.extend_from_slice(&y_shape);
            let y_tensor = B::from_f64_slice(inputs.input, &y_input_shape, &y)?;
            let schedule = self.schedule(&phase)?;
            let weights = coverage(&schedule)?;
            let run = OcclusionRun {
                input: &y_tensor,
                input_shape: &y_input_shape,
                baseline: BaselineValue::Scalar(baseline),
                target: &inputs.target,
                schedule: &schedule,
                per_eval,
                refuses_batch_level: Some("TiledOcclusion's reference mode"),
            };
            let mut map = run.output_drop_sums(model, progress)?.sums;
            divide_by_coverage(&mut map, &weights);
            for n in 0..examples {
                for (q, o) in offsets.iter().enumerate() {
                    if let Some(o) = o {
                        total[n * size + o] += map[n * y_size + q];
                    }
                }
            }
        }
        Ok(total)
    }
}

/// For every position of the grid `sources` spans (row-major), the input offset it reads,
/// or `None` if any of its coordinates lies in the padding.
fn source_offsets(sources: &[Vec<Option<usize>>], strides: &[usize]) -> Vec<Option<usize>> {
    let mut out = vec![Some(0)];
    for (per_dim, stride) in sources.iter().zip(strides) {
        out = out
            .iter()
            .flat_map(|base| per_dim.iter().map(move |s| base.zip(*s).map(|(b, s)| b + s * stride)))
            .collect();
    }
    out
}
