//! fold for the doubling window (kernel 4, stride 2, padding 1, dilation 1, onto a plane of
//! exactly twice its positions' grid): DCGAN's transposed convolutions and its strided
//! convolutions' input gradients, summed from contiguous runs instead of gathers.
//!
//! With positions `(oy, ox)` on an `ih × iw` grid and the plane `2ih × 2iw`, tap `(i, j)` of
//! position `(oy, ox)` lands on pixel `(2·oy − 1 + i, 2·ox − 1 + j)`. So pixel `(y, x)` sums
//! the taps `i ≡ y + 1 (mod 2)` at `oy = (y + 1 − i) / 2`, and along the row
//!
//! ```text
//! out[y][2m]     = Σᵢ col[i, 1][oy][m]     + col[i, 3][oy][m − 1]
//! out[y][2m + 1] = Σᵢ col[i, 0][oy][m + 1] + col[i, 2][oy][m]
//! ```
//!
//! (terms whose `oy` or `ox` falls off the grid left out). Each term is a contiguous run of
//! one tap's column row, so eight positions `m` are four masked loads per tap row `i`, and
//! the even and odd sums interleave into sixteen pixels. The terms are added from zero in
//! increasing tap order `t = 4i + j`, as [`crate::gather::gather_sum`] adds a pixel's
//! sources, so the result has its bits (a missing term is a masked lane's `+0`, which
//! changes no sum that starts from `+0`).
//!
//! Whole 8-lane vectors are stored where they fit in the plane, a row's last run spilling
//! onto the next row's first, which is written after it; the plane's last run goes through
//! the stack (masked stores are microcoded on AMD's cores, slower than that copy).
//!
//! unfold keeps its gathers for this window too: the same contiguous runs, deinterleaved,
//! were slower there on Zen 3 (its cost is the columns it writes).

use crate::unfold::Window2d;

/// The positions' grid `[ih, iw]` if `win` is the doubling window onto `size`, whose
/// positions' grid is `out_size` (`size = 2·out_size`); `None` otherwise.
pub(crate) fn grid(win: &Window2d, size: [usize; 2], out_size: [usize; 2]) -> Option<[usize; 2]> {
    let doubling = *win == Window2d::square(4, 2, 1)
        && size[0] == 2 * out_size[0]
        && size[1] == 2 * out_size[1];
    doubling.then_some(out_size)
}

/// The fold with AVX2, eight positions (sixteen pixels) at a time.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// Stores the first `len ≤ 8` lanes of `v` at `at`: a whole vector if `room ≥ 8`
    /// floats are writable there, else through the stack.
    #[target_feature(enable = "avx2")]
    unsafe fn store(at: *mut f32, v: __m256, len: usize, room: usize) {
        if room >= 8 {
            _mm256_storeu_ps(at, v);
        } else {
            let mut run = [0.0f32; 8];
            _mm256_storeu_ps(run.as_mut_ptr(), v);
            std::ptr::copy_nonoverlapping(run.as_ptr(), at, len);
        }
    }

    /// `dst` (a `2ih × 2iw` plane) = the fold of `src`, whose tap `t` row starts at
    /// `t·tap_stride` and holds the `ih·iw` positions row by row (see the module
    /// documentation).
    ///
    /// # Safety
    /// The CPU has AVX2; `src.len() ≥ 15·tap_stride + ih·iw`; `dst.len() = 4·ih·iw`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn fold_plane(
        src: &[f32],
        tap_stride: usize,
        [ih, iw]: [usize; 2],
        dst: &mut [MaybeUninit<f32>],
    ) {
        let (src, out, len) = (src.as_ptr(), dst.as_mut_ptr().cast::<f32>(), dst.len());
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let below =
            |bound: usize, of: __m256i| _mm256_cmpgt_epi32(_mm256_set1_epi32(bound as i32), of);
        // The last, partial run of each row first: its spill past the row's end lands on the
        // next row's first run, which a later pass writes.
        for m0 in (0..iw).step_by(8).rev() {
            // Lane l holds position m = m0 + l of the row.
            let m = _mm256_add_epi32(lanes, _mm256_set1_epi32(m0 as i32));
            let on_grid = below(iw, m);
            let has_left =
                _mm256_andnot_si256(_mm256_cmpeq_epi32(m, _mm256_setzero_si256()), on_grid);
            let has_right = below(iw - 1, m);
            let pixels = 2 * (iw - m0).min(8);
            for y in 0..2 * ih {
                let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
                // The taps i that reach plane row y, from position row oy, in increasing order.
                for i in [(y + 1) % 2, (y + 1) % 2 + 2] {
                    let Some(oy) = (y + 1).checked_sub(i).map(|v| v / 2).filter(|&oy| oy < ih)
                    else {
                        continue;
                    };
                    // Tap (i, j)'s run from position (oy, m0).
                    let run = |j: usize| src.add((4 * i + j) * tap_stride + oy * iw + m0);
                    even = _mm256_add_ps(even, _mm256_maskload_ps(run(1), on_grid));
                    even =
                        _mm256_add_ps(even, _mm256_maskload_ps(run(3).wrapping_sub(1), has_left));
                    odd = _mm256_add_ps(odd, _mm256_maskload_ps(run(0).wrapping_add(1), has_right));
                    odd = _mm256_add_ps(odd, _mm256_maskload_ps(run(2), on_grid));
                }
                // [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7], put in order.
                let (lo, hi) = (_mm256_unpacklo_ps(even, odd), _mm256_unpackhi_ps(even, odd));
                let at = y * 2 * iw + 2 * m0;
                let first = _mm256_permute2f128_ps::<0x20>(lo, hi);
                store(out.add(at), first, pixels.min(8), len - at);
                if pixels > 8 {
                    let second = _mm256_permute2f128_ps::<0x31>(lo, hi);
                    store(out.add(at + 8), second, pixels - 8, len - at - 8);
                }
            }
        }
    }
}
