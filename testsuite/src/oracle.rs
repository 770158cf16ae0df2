//! An independent, deliberately naive reading of SEMANTICS.md: windows enumerated straight
//! from the formulas, membership tested position by position, and the exact attribution of
//! a linear model computed without calling any model.

use tiled_occlusion_core::{Contrast, Target};

/// A box `[start_r, end_r)` per dimension.
pub type Window = (Vec<usize>, Vec<usize>);

/// The multi-index of row-major offset `p` in `shape`.
pub fn unravel(mut p: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for r in (0..shape.len()).rev() {
        index[r] = p % shape[r];
        p /= shape[r];
    }
    index
}

/// Whether position `index` lies in `window`.
pub fn contains(window: &Window, index: &[usize]) -> bool {
    index.iter().enumerate().all(|(r, &i)| window.0[r] <= i && i < window.1[r])
}

fn product(per_dim: &[Vec<(usize, usize)>]) -> Vec<Window> {
    let mut out: Vec<Window> = vec![(vec![], vec![])];
    for ranges in per_dim {
        out = out
            .iter()
            .flat_map(|(s, e)| {
                ranges.iter().map(move |&(a, b)| {
                    let (mut s, mut e) = (s.clone(), e.clone());
                    s.push(a);
                    e.push(b);
                    (s, e)
                })
            })
            .collect();
    }
    out
}

/// Occlusion's windows: starts `j·s_r`, `j < ceil((d_r − w_r)/s_r) + 1`, cropped.
pub fn occlusion_windows(shape: &[usize], window: &[usize], strides: &[usize]) -> Vec<Window> {
    let per_dim: Vec<Vec<(usize, usize)>> = (0..shape.len())
        .map(|r| {
            let count = (shape[r] - window[r]).div_ceil(strides[r]) + 1;
            (0..count).map(|j| (j * strides[r], (j * strides[r] + window[r]).min(shape[r]))).collect()
        })
        .collect();
    product(&per_dim)
}

/// The shifted-mode windows, phase by phase: starts `m·w_r − φ_r·s_r` while `< d_r`, cropped.
pub fn shifted_windows(shape: &[usize], window: &[usize], k: &[usize]) -> Vec<Vec<Window>> {
    let phases = product(&k.iter().map(|&k| (0..k).map(|f| (f, f + 1)).collect()).collect::<Vec<_>>());
    phases
        .iter()
        .map(|(phase, _)| {
            let per_dim: Vec<Vec<(usize, usize)>> = (0..shape.len())
                .map(|r| {
                    let (w, s, d) = (window[r] as i64, (window[r] / k[r]) as i64, shape[r] as i64);
                    let mut ranges = Vec::new();
                    let mut m = 0;
                    while m * w - phase[r] as i64 * s < d {
                        let a = m * w - phase[r] as i64 * s;
                        ranges.push((a.max(0) as usize, (a + w).min(d) as usize));
                        m += 1;
                    }
                    ranges
                })
                .collect();
            product(&per_dim)
        })
        .collect()
}

/// The per-position weights `g_n` with `τ(F(X))[n] = g_n · flat(X_n) + const` for a linear
/// model `W (C, D)` and a target.
pub fn linear_gain(w: &[f64], classes: usize, target: &Target, example: usize) -> Vec<f64> {
    let d = w.len() / classes;
    let row = |c: usize| w[c * d..(c + 1) * d].to_vec();
    match target {
        Target::Class(c) => row(*c),
        Target::Index(t) => row(t[0]),
        Target::PerExample(cs) => row(cs[example]),
        Target::PerExampleIndex(ts) => row(ts[example][0]),
        Target::Contrastive { class, against: Contrast::Class(o) } => {
            row(*class).iter().zip(row(*o)).map(|(a, b)| a - b).collect()
        }
        Target::Contrastive { class, against: Contrast::MeanOfOthers } => {
            let others: Vec<usize> = (0..classes).filter(|j| j != class).collect();
            (0..d)
                .map(|p| w[class * d + p] - others.iter().map(|j| w[j * d + p]).sum::<f64>() / others.len() as f64)
                .collect()
        }
        Target::None => vec![0.0; d],
    }
}

/// The output drop of occluding `window` in a linear model: `Σ_{q ∈ window} c[q]` where
/// `c = g ⊙ (x − b)` for one example.
pub fn linear_drop(contribution: &[f64], shape: &[usize], window: &Window) -> f64 {
    (0..contribution.len()).filter(|&q| contains(window, &unravel(q, shape))).map(|q| contribution[q]).sum()
}

/// Occlusion of a linear model, for one example with contributions `c`: the mean drop over
/// the windows covering each position.
pub fn linear_occlusion(c: &[f64], shape: &[usize], windows: &[Window]) -> Vec<f64> {
    let drops: Vec<f64> = windows.iter().map(|win| linear_drop(c, shape, win)).collect();
    (0..c.len())
        .map(|p| {
            let index = unravel(p, shape);
            let covering: Vec<f64> =
                windows.iter().zip(&drops).filter(|(win, _)| contains(win, &index)).map(|(_, d)| *d).collect();
            covering.iter().sum::<f64>() / covering.len() as f64
        })
        .collect()
}

/// Shifted tiled occlusion of a linear model, for one example: per phase the drop of the
/// window holding each position, summed, then divided by `Π k` if `mean`.
pub fn linear_shifted(c: &[f64], shape: &[usize], window: &[usize], k: &[usize], mean: bool) -> Vec<f64> {
    let phases = shifted_windows(shape, window, k);
    let mut out = vec![0.0; c.len()];
    for windows in &phases {
        for win in windows {
            let drop = linear_drop(c, shape, win);
            for (p, o) in out.iter_mut().enumerate() {
                if contains(win, &unravel(p, shape)) {
                    *o += drop;
                }
            }
        }
    }
    if mean {
        out.iter_mut().for_each(|v| *v /= phases.len() as f64);
    }
    out
}

/// The reference mode on a linear model with gains `g`, for one example `x` and scalar
/// baseline `beta`, when every phase gives the model an input of the original shape
/// (`k_r ≤ 2`): per phase `Y_φ[q] = X[φ·s + q − p]` (0 in the padding), Occlusion with
/// window `w`, strides `w` on `Y_φ`, each `Y` position credited to input position
/// `φ·s + q − p` when that is not in the padding, and the phases summed.
pub fn linear_reference(g: &[f64], x: &[f64], beta: f64, shape: &[usize], window: &[usize], k: &[usize]) -> Vec<f64> {
    let steps: Vec<usize> = window.iter().zip(k).map(|(w, k)| w / k).collect();
    let pad: Vec<usize> = k.iter().zip(&steps).map(|(&k, &s)| if k > 1 { s } else { 0 }).collect();
    let phases = product(&k.iter().map(|&k| (0..k).map(|f| (f, f + 1)).collect()).collect::<Vec<_>>());
    let windows = occlusion_windows(shape, window, window);
    let mut out = vec![0.0; x.len()];
    let strides = {
        let mut s = vec![1; shape.len()];
        for r in (0..shape.len().saturating_sub(1)).rev() {
            s[r] = s[r + 1] * shape[r + 1];
        }
        s
    };
    for (phase, _) in &phases {
        // Where each Y position reads from (None: padding).
        let source = |q: &[usize]| -> Option<usize> {
            let mut o = 0;
            for r in 0..shape.len() {
                let c = phase[r] * steps[r] + q[r];
                if c < pad[r] {
                    return None;
                }
                o += (c - pad[r]) * strides[r];
            }
            Some(o)
        };
        let contribution: Vec<f64> = (0..x.len())
            .map(|q| {
                let y = source(&unravel(q, shape)).map_or(0.0, |o| x[o]);
                g[q] * (y - beta)
            })
            .collect();
        let map = linear_occlusion(&contribution, shape, &windows);
        for (q, v) in map.iter().enumerate() {
            if let Some(o) = source(&unravel(q, shape)) {
                out[o] += v;
            }
        }
    }
    out
}
