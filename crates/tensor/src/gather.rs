//! Indexed reads, the inner loops of `unfold` and `fold`: `dst[p] = src[idx[p]]`
//! ([`gather`]) and `dst[q] = Σₛ src[idx[s][q]]` ([`gather_sum`]), where an index past the
//! end of `src` stands for the zero padding (or for no entry at all) and reads as 0.
//!
//! The scalar loops are generic; for `f32` on a CPU with AVX-512F, [`crate::Element`]
//! routes both to 16-lane masked gathers (the mask drops the padding). fold reads instead
//! of scattering: each pixel sums its own sources (for a k4 s2 window, at most four), so
//! it is written once, and its sum runs in increasing tap order, as the scalar loop's.
//! (A scatter-add from the columns, the direct form, was slower than scalar code here: a
//! 16-lane scatter costs about one store per lane.)

use std::mem::MaybeUninit;

use crate::element::Element;

/// `dst[p] = src[idx[p]]`, or zero where `idx[p] ≥ src.len()`, for `p < dst.len()`
/// (`idx` at least as long as `dst`).
pub fn gather<E: Element>(src: &[E], idx: &[u32], dst: &mut [MaybeUninit<E>]) {
    for (d, &o) in dst.iter_mut().zip(idx) {
        d.write(src.get(o as usize).copied().unwrap_or(E::zero()));
    }
}

/// `dst[q] = Σₛ src[idx[s·P + q]]` over the rows `s` of `idx` (`P = dst.len()` entries
/// each), skipping indices past `src`, summed in row order from zero.
pub fn gather_sum<E: Element>(src: &[E], idx: &[u32], dst: &mut [MaybeUninit<E>]) {
    let pixels = dst.len();
    for (q, d) in dst.iter_mut().enumerate() {
        let mut acc = E::zero();
        for row in idx.chunks_exact(pixels.max(1)) {
            if let Some(&v) = src.get(row[q] as usize) {
                acc = acc + v;
            }
        }
        d.write(acc);
    }
}

/// [`gather`] and [`gather_sum`] for `f32` with AVX-512F, when the CPU has it.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// [`super::gather`] for `f32`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `idx.len() ≥ dst.len()`; `src.len() < 2³¹`.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn gather(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        let len = dst.len();
        let out = dst.as_mut_ptr().cast::<f32>();
        for p in (0..len).step_by(16) {
            // The lanes that exist, and of those the ones inside the image.
            let present = ((1u32 << (len - p).min(16)) - 1) as __mmask16;
            let i = _mm512_maskz_loadu_epi32(present, idx.as_ptr().add(p).cast());
            let limit = _mm512_set1_epi32(src.len() as i32);
            let inside = _mm512_mask_cmplt_epu32_mask(present, i, limit);
            let v = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), inside, i, src.as_ptr());
            _mm512_mask_storeu_ps(out.add(p), present, v);
        }
    }

    /// [`super::gather_sum`] for `f32`: 16 pixels at a time, one masked gather per row
    /// of `idx`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `idx.len()` is a multiple of `dst.len()`; `src.len() < 2³¹`.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn gather_sum(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        let pixels = dst.len();
        let out = dst.as_mut_ptr().cast::<f32>();
        let limit = _mm512_set1_epi32(src.len() as i32);
        for q in (0..pixels).step_by(16) {
            let present = ((1u32 << (pixels - q).min(16)) - 1) as __mmask16;
            let mut acc = _mm512_setzero_ps();
            for row in idx.chunks_exact(pixels) {
                let i = _mm512_maskz_loadu_epi32(present, row.as_ptr().add(q).cast());
                let inside = _mm512_mask_cmplt_epu32_mask(present, i, limit);
                let v = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), inside, i, src.as_ptr());
                acc = _mm512_add_ps(acc, v);
            }
            _mm512_mask_storeu_ps(out.add(q), present, acc);
        }
    }
}
