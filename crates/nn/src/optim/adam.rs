//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam(W)`.
//!
//! Adam: `g ← g + λp`; AdamW instead decays the weight directly, `p ← p·(1 − ηλ)`. Then
//! `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`, and with `t` the step number
//! `p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.

use gantry_tensor::tensor::square;
use gantry_tensor::Element;

use super::{Rule, Update};

/// Adam's hyperparameters.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    /// β₁ (default 0.9).
    pub beta1: f64,
    /// β₂ (default 0.999).
    pub beta2: f64,
    /// ε (default 1e-8).
    pub eps: f64,
    /// λ (default 0).
    pub weight_decay: f64,
    /// AdamW's decoupled weight decay instead of an L2 term in the gradient.
    pub decoupled: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl Adam {
    /// Adam with betas `(β₁, β₂)` and the other defaults.
    pub fn betas(beta1: f64, beta2: f64) -> Self {
        Adam {
            beta1,
            beta2,
            ..Self::default()
        }
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01).
    pub fn adamw() -> Self {
        Adam {
            weight_decay: 0.01,
            decoupled: true,
            ..Self::default()
        }
    }
}

impl Rule for Adam {
    fn slots(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }

    fn update<E: Element>(
        &self,
        p: &mut [E],
        g: &[E],
        state: &mut [&mut [E]],
        lr: f64,
        step: u64,
    ) -> Update {
        let e = E::from_f64_lossy;
        let (b1, b2, eps, wd) = (
            e(self.beta1),
            e(self.beta2),
            e(self.eps),
            e(self.weight_decay),
        );
        let t = step as i32;
        let step_size = e(lr / (1.0 - self.beta1.powi(t)));
        let bc2_sqrt = e((1.0 - self.beta2.powi(t)).sqrt());
        let decay = e(1.0 - lr * self.weight_decay);
        let [m, v] = state else {
            unreachable!("Adam has two slots")
        };
        if self.decoupled {
            p.iter_mut().for_each(|x| *x = *x * decay);
        }
        let l2 = if self.decoupled { E::zero() } else { wd };
        let k = Step {
            b1,
            b2,
            eps,
            l2,
            step_size,
            bc2_sqrt,
        };
        #[cfg(target_arch = "x86_64")]
        {
            if gantry_tensor::simd::has_avx512() {
                // SAFETY: the CPU has AVX-512F.
                return unsafe { adam_avx512(p, g, m, v, k) };
            }
            if gantry_tensor::simd::has_avx2() {
                // SAFETY: the CPU has AVX2 and FMA.
                return unsafe { adam_avx2(p, g, m, v, k) };
            }
        }
        adam(p, g, m, v, k)
    }
}

/// One step's scalars: betas, ε, the L2 coefficient and the two bias corrections.
#[derive(Clone, Copy)]
struct Step<E> {
    b1: E,
    b2: E,
    eps: E,
    l2: E,
    step_size: E,
    bc2_sqrt: E,
}

/// Lanes of the loop in [`adam`]: one AVX-512 vector of `f32`, and 16 partial sums of `g²`.
const LANES: usize = 16;

/// The update of every element (see the module documentation), inlined into each caller
/// so that each compiles it for its own vector width. Checks in the same loop, as the
/// values are written, whether every `p`, `m` and `v` is finite, and sums `g²` in `f64`
/// (16 interleaved partial sums, then the tail), so the gradient is read once.
#[inline(always)]
fn adam<E: Element>(p: &mut [E], g: &[E], m: &mut [E], v: &mut [E], k: Step<E>) -> Update {
    let mut finite = true;
    let mut squares = [0f64; LANES];
    let mut element = |p: &mut E, g: E, m: &mut E, v: &mut E| {
        let g = g + k.l2 * *p;
        *m = *m + (E::one() - k.b1) * (g - *m);
        *v = *v * k.b2 + (E::one() - k.b2) * g * g;
        *p = *p - k.step_size * *m / (v.sqrt() / k.bc2_sqrt + k.eps);
        finite &= p.is_finite() & m.is_finite() & v.is_finite();
    };
    let body = p.len() / LANES * LANES;
    let (pb, pt) = p.split_at_mut(body);
    let (mb, mt) = m.split_at_mut(body);
    let (vb, vt) = v.split_at_mut(body);
    let (gb, gt) = g.split_at(body);
    let lanes = pb
        .chunks_exact_mut(LANES)
        .zip(gb.chunks_exact(LANES))
        .zip(mb.chunks_exact_mut(LANES).zip(vb.chunks_exact_mut(LANES)));
    for ((p, g), (m, v)) in lanes {
        for j in 0..LANES {
            element(&mut p[j], g[j], &mut m[j], &mut v[j]);
            squares[j] += square(&g[j]);
        }
    }
    let mut tail = 0.0;
    for (((p, &g), m), v) in pt.iter_mut().zip(gt).zip(mt).zip(vt) {
        element(p, g, m, v);
        tail += square(&g);
    }
    Update {
        finite,
        grad_squares: squares.iter().sum::<f64>() + tail,
    }
}

/// [`adam`] compiled for AVX-512F: 16 lanes, the same operations, the same bits.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn adam_avx512<E: Element>(
    p: &mut [E],
    g: &[E],
    m: &mut [E],
    v: &mut [E],
    k: Step<E>,
) -> Update {
    adam(p, g, m, v, k)
}

/// [`adam`] compiled for AVX2: 8 lanes, the same operations, the same bits.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn adam_avx2<E: Element>(
    p: &mut [E],
    g: &[E],
    m: &mut [E],
    v: &mut [E],
    k: Step<E>,
) -> Update {
    adam(p, g, m, v, k)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use gantry_tensor::simd::Path;

    use super::*;

    type Build = unsafe fn(&mut [f32], &[f32], &mut [f32], &mut [f32], Step<f32>) -> Update;

    /// Each wider build of the loop this CPU can run (AVX2, AVX-512) gives the bits of the
    /// baseline one, over a length that is not a multiple of 16, with an L2 term, values of
    /// every magnitude.
    #[test]
    fn every_width_gives_the_same_bits() {
        let builds: [(Path, Build); 2] = [
            (Path::Avx2, adam_avx2::<f32>),
            (Path::Avx512, adam_avx512::<f32>),
        ];
        let n = 1000 + 7;
        let wave = |scale: f32, phase: f32| -> Vec<f32> {
            (0..n)
                .map(|i| scale * ((i as f32 * 0.37 + phase).sin() * (1.0 + i as f32 / 50.0)))
                .collect()
        };
        let (g, m0, v0, p0) = (
            wave(3.0, 0.1),
            wave(0.2, 1.0),
            wave(1.0, 2.0),
            wave(1.0, 3.0),
        );
        let v0: Vec<f32> = v0.iter().map(|x| x * x).collect();
        let k = Step {
            b1: 0.5,
            b2: 0.999,
            eps: 1e-8,
            l2: 0.01,
            step_size: 2e-4 / (1.0 - 0.5f32.powi(3)),
            bc2_sqrt: (1.0 - 0.999f32.powi(3)).sqrt(),
        };
        let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
        let u1 = adam(&mut p1, &g, &mut m1, &mut v1, k);
        assert!(u1.finite);
        let squares: f64 = g.iter().map(|&x| f64::from(x).powi(2)).sum();
        assert!((u1.grad_squares - squares).abs() <= 1e-12 * squares);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_ne!(bits(&p1), bits(&p0), "the step changed nothing");
        for (path, build) in builds.into_iter().filter(|(path, _)| path.is_supported()) {
            let (mut p2, mut m2, mut v2) = (p0.clone(), m0.clone(), v0.clone());
            // SAFETY: the CPU supports the build's path.
            let u2 = unsafe { build(&mut p2, &g, &mut m2, &mut v2, k) };
            assert!(u2.finite, "{path:?}");
            assert_eq!(
                u1.grad_squares.to_bits(),
                u2.grad_squares.to_bits(),
                "{path:?}"
            );
            assert_eq!(bits(&p1), bits(&p2), "{path:?}");
            assert_eq!(bits(&m1), bits(&m2), "{path:?}");
            assert_eq!(bits(&v1), bits(&v2), "{path:?}");
            // The in-loop check: a gradient whose square overflows makes `v` infinite (and
            // `p` stay finite), a NaN gradient makes everything NaN; one element is enough.
            for bad in [1e22f32, f32::NAN] {
                let mut g = g.clone();
                g[n - 3] = bad;
                let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
                let (mut p2, mut m2, mut v2) = (p0.clone(), m0.clone(), v0.clone());
                assert!(!adam(&mut p1, &g, &mut m1, &mut v1, k).finite, "{bad}");
                // SAFETY: as above.
                let u = unsafe { build(&mut p2, &g, &mut m2, &mut v2, k) };
                assert!(!u.finite, "{path:?} {bad}");
            }
        }
    }
}
