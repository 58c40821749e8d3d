//! Indexed reads, the inner loops of `unfold` and `fold`: `dst[p] = src[idx[p]]`
//! ([`gather`]) and `dst[q] = Σₛ src[idx[s][q]]` ([`gather_sum`]), where an index past the
//! end of `src` stands for the zero padding (or for no entry at all) and reads as 0.
//!
//! The scalar loops are generic; for `f32`, [`crate::Element`] routes both to 16-lane
//! masked gathers on the AVX-512 path and 8-lane ones on the AVX2 path (the mask drops the
//! padding). fold reads instead of scattering: each pixel sums its own sources (for a k4
//! s2 window, at most four), so it is written once, and its sum runs in increasing tap
//! order, as the scalar loop's.
//! (A scatter-add from the columns, the direct form, was slower than scalar code here: a
//! 16-lane scatter costs about one store per lane.)

use std::mem::MaybeUninit;

use crate::element::Element;

/// Asks the cache for every line of `data`, which the caller reads next: unfold and fold
/// read one image plane (or one plane's column rows) after another, a batch's planes a
/// whole image (or a whole row of the columns) apart, too far apart for the hardware
/// prefetcher. A hint only: it changes no value (a no-op off x86-64).
pub fn prefetch<E>(data: &[E]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(data);
        let start = data.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: the address is inside `data`; a prefetch reads nothing observable.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

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
        d.write(pixel_sum(src, idx, pixels, q));
    }
}

/// `Σₛ src[idx[s·pixels + q]]`, pixel `q`'s term of [`gather_sum`].
fn pixel_sum<E: Element>(src: &[E], idx: &[u32], pixels: usize, q: usize) -> E {
    let mut acc = E::zero();
    for row in idx.chunks_exact(pixels.max(1)) {
        if let Some(&v) = src.get(row[q] as usize) {
            acc = acc + v;
        }
    }
    acc
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

/// [`gather`] and [`gather_sum`] for `f32` with AVX2, 8 lanes at a time; the lanes whose
/// index is past `src` are masked off (read as 0), and the pixels past the last multiple
/// of 8 take the scalar loop. Sums run in the same row order as the scalar loop's, so the
/// results are the same bits (adding a masked lane's 0 changes no sum).
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// The lanes of `i` that index into a source of `len < 2³¹` values (an unsigned
    /// `i < len`, as a signed compare of both with the sign bit flipped), as a lane mask.
    #[target_feature(enable = "avx2")]
    unsafe fn inside(i: __m256i, len: usize) -> __m256 {
        let sign = _mm256_set1_epi32(i32::MIN);
        let limit = _mm256_xor_si256(_mm256_set1_epi32(len as i32), sign);
        _mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, _mm256_xor_si256(i, sign)))
    }

    /// `src[i]` on the lanes inside `src`, 0 elsewhere.
    #[target_feature(enable = "avx2")]
    unsafe fn lanes(src: &[f32], at: *const u32) -> __m256 {
        let i = _mm256_loadu_si256(at.cast());
        let mask = inside(i, src.len());
        _mm256_mask_i32gather_ps::<4>(_mm256_setzero_ps(), src.as_ptr(), i, mask)
    }

    /// [`super::gather`] for `f32`.
    ///
    /// # Safety
    /// The CPU has AVX2; `idx.len() ≥ dst.len()`; `src.len() < 2³¹`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn gather(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        let full = dst.len() / 8 * 8;
        let out = dst.as_mut_ptr().cast::<f32>();
        for p in (0..full).step_by(8) {
            _mm256_storeu_ps(out.add(p), lanes(src, idx.as_ptr().add(p)));
        }
        super::gather(src, &idx[full..], &mut dst[full..]);
    }

    /// [`super::gather_sum`] for `f32`: 8 pixels at a time, one masked gather per row of
    /// `idx`.
    ///
    /// # Safety
    /// The CPU has AVX2; `idx.len()` is a multiple of `dst.len()`; `src.len() < 2³¹`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn gather_sum(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        let pixels = dst.len();
        let full = pixels / 8 * 8;
        for q in (0..full).step_by(8) {
            let mut acc = _mm256_setzero_ps();
            for row in idx.chunks_exact(pixels) {
                acc = _mm256_add_ps(acc, lanes(src, row.as_ptr().add(q)));
            }
            _mm256_storeu_ps(dst.as_mut_ptr().add(q).cast(), acc);
        }
        for (q, d) in dst.iter_mut().enumerate().skip(full) {
            d.write(super::pixel_sum(src, idx, pixels, q));
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::mem::MaybeUninit;

    /// Indices inside and past a source of 100 values (the padding, and `u32::MAX`),
    /// over lengths that are and are not multiples of 8 and 16.
    fn indices(n: usize) -> Vec<u32> {
        (0..n as u32)
            .map(|p| match p % 7 {
                0 => 100 + p,
                3 => u32::MAX - p,
                _ => (p * 37) % 100,
            })
            .collect()
    }

    fn run(f: impl Fn(&[f32], &[u32], &mut [MaybeUninit<f32>]), idx: &[u32], n: usize) -> Vec<u32> {
        let src: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut dst = vec![MaybeUninit::new(f32::NAN); n];
        f(&src, idx, &mut dst);
        // SAFETY: every element was written (NaN at first, then by `f`).
        dst.iter()
            .map(|d| unsafe { d.assume_init() }.to_bits())
            .collect()
    }

    /// A gather and a gather-sum of one SIMD width.
    type Kernels = (
        unsafe fn(&[f32], &[u32], &mut [MaybeUninit<f32>]),
        unsafe fn(&[f32], &[u32], &mut [MaybeUninit<f32>]),
    );

    #[test]
    fn the_simd_gathers_give_the_scalar_bits() {
        let widths: [(&str, bool, Kernels); 2] = [
            (
                "avx2",
                std::is_x86_feature_detected!("avx2"),
                (super::avx2::gather, super::avx2::gather_sum),
            ),
            (
                "avx512",
                std::is_x86_feature_detected!("avx512f"),
                (super::avx512::gather, super::avx512::gather_sum),
            ),
        ];
        for n in [1, 7, 8, 9, 16, 17, 100, 257] {
            let idx = indices(n * 4);
            let scalar = run(super::gather, &idx, n);
            let scalar_sum = run(super::gather_sum, &idx, n);
            for (name, _, (gather, gather_sum)) in widths.iter().filter(|w| w.1) {
                // SAFETY: the CPU has this width; idx holds 4·n indices; the source is short.
                let one = run(|s, i, d| unsafe { gather(s, i, d) }, &idx, n);
                assert_eq!(one, scalar, "{name} gather, {n} pixels");
                // SAFETY: as above.
                let sum = run(|s, i, d| unsafe { gather_sum(s, i, d) }, &idx, n);
                assert_eq!(sum, scalar_sum, "{name} gather_sum, {n} pixels");
            }
        }
    }
}
