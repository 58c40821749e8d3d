//! `tanh` for `f32` as branch-free arithmetic that the compiler vectorizes: the kernel of
//! `Tensor::<f32>::tanh` (libm's `tanhf` is one scalar call per element; glibc's goes through
//! `expm1f`).
//!
//! With `a = |x|`, both forms below are computed for every lane and a compare picks one;
//! the sign goes back last, `tanh x = sign(x)·tanh a`, so the result is exactly odd and
//! `tanh(−0) = −0`.
//!
//! - `a < 0.55` (just past `½·ln 3`, where `tanh a = ½`): the odd polynomial
//!   `tanh a ≈ a + a·s·P(s)`, `s = a²`, with `P` of degree 4 the minimax fit of relative
//!   error on `[0, 0.55]` (Remez): relative error ≤ 4.7·10⁻⁹ (2⁻²⁷·⁷) with its `f32`
//!   coefficients. Adding the correction `a·s·P` (at most 9% of `a`) to the exact `a`
//!   keeps its rounding errors small in ulps. A subnormal `a` gives `s = 0` and returns `a`.
//! - `a ≥ 0.55`: `tanh a = 1 − 2/(e²ᵃ + 1)`, where `2/(e²ᵃ + 1) < ½`, so the result lies in
//!   `[½, 1]` and an error of a few ulps in that term is under one ulp of the result.
//!   `e²ᵃ = 2ⁿ·eʳ`: `n = round(2a·log₂e)` by adding `1.5·2²³` (which leaves `n` in the low
//!   mantissa bits, shifted into an exponent for the exact `2ⁿ`), `r = 2a − n·ln 2` in
//!   Cody–Waite form (`ln 2 = 0.693359375 − 2.1219444·10⁻⁴`, the first part 9 bits long, so
//!   `2a − n·0.693359375` is exact), `|r| ≤ 0.3466`; `eʳ ≈ 1 + r + r²·Q(r)`, `Q` of degree 4
//!   the minimax fit of relative error on `|r| ≤ 0.3475`: relative error ≤ 4.0·10⁻⁹ (2⁻²⁷·⁹).
//! - `a` enters the exponential clamped to 10: `tanh a` rounds to 1 from `a ≈ 9.01` on
//!   (`1 − tanh a < 2⁻²⁵`, half an ulp below 1), and `2/(e²⁰ + 1) ≈ 4·10⁻⁹` gives exactly 1,
//!   so large `a` and `±∞` give exactly `±1` and `e²ᵃ ≤ e²⁰` cannot overflow. The clamp
//!   (`a > 10`) is false for NaN, which therefore propagates through the exponential: NaN
//!   gives NaN.
//!
//! Error: at most 1 ulp from the correctly rounded `tanh`, checked on all 2³² inputs
//! (`tests/tanh.rs`); 0.16% of the inputs are 1 ulp off. Multiplies and adds round
//! separately (baseline x86-64 has no FMA), so the SSE2, AVX2 and AVX-512F builds of the loop
//! (see [`crate::simd`]) give the same bits.

use std::mem::MaybeUninit;

/// `P(s)`, lowest degree first: `tanh a ≈ a + a·s·P(a²)` on `[0, 0.55]`.
const P: [f32; 5] = [
    -0.3333332,
    0.13332625,
    -0.05385165,
    0.021055805,
    -0.0062388456,
];
/// `Q(r)`, lowest degree first: `eʳ ≈ 1 + r + r²·Q(r)` on `|r| ≤ 0.3475`.
const Q: [f32; 5] = [
    0.49999994,
    0.1666652,
    0.041668404,
    0.008368899,
    0.0013814222,
];
/// Below this the polynomial, above it the exponential form.
const SWITCH: f32 = 0.55;
/// `a` is clamped to this before the exponential (past it `tanh a` rounds to 1).
const CLAMP: f32 = 10.0;
/// `ln 2 = LN2_HI + LN2_LO`, `LN2_HI = 355/512` exact in 9 bits.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.1219444e-4;
/// `1.5·2²³`: adding it rounds to an integer and leaves that integer in the low bits.
const ROUND: f32 = 12_582_912.0;

/// `tanh x` as in the module documentation, inlined into each loop that calls it.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let a = x.abs();

    // The odd polynomial, for a < SWITCH.
    let s = a * a;
    let p = P[0] + s * (P[1] + s * (P[2] + s * (P[3] + s * P[4])));
    let small = a + a * (s * p);

    // 1 − 2/(e²ᵃ + 1), for a ≥ SWITCH.
    let y = 2.0 * if a > CLAMP { CLAMP } else { a };
    let shifted = y * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let q = Q[0] + r * (Q[1] + r * (Q[2] + r * (Q[3] + r * Q[4])));
    let exp_r = 1.0 + (r + r * r * q);
    // 2ⁿ: n sits in the low mantissa bits of `shifted`; move it to the exponent field.
    let two_n = f32::from_bits((shifted.to_bits() << 23).wrapping_add(1.0f32.to_bits()));
    let large = 1.0 - 2.0 / (exp_r * two_n + 1.0);

    let t = if a < SWITCH { small } else { large };
    t.copysign(x)
}

/// The loop `dst[i] = tanh(src[i])`, inlined into each caller so that each compiles it for
/// its own vector width: called directly, it is the baseline (SSE2) build.
///
/// # Panics
/// If the slices differ in length.
#[inline(always)]
pub fn tanh_loop(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    assert_eq!(src.len(), dst.len(), "tanh: source and destination lengths");
    for (d, &x) in dst.iter_mut().zip(src) {
        d.write(tanh(x));
    }
}

/// [`tanh_loop`] compiled for AVX-512F: 16 lanes, the same operations, the same bits.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub unsafe fn tanh_loop_avx512(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    tanh_loop(src, dst)
}

/// [`tanh_loop`] compiled for AVX2: 8 lanes, the same operations, the same bits (FMA is
/// not enabled: Rust never contracts `a·b + c`, but the build says so by leaving it out).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn tanh_loop_avx2(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    tanh_loop(src, dst)
}

/// `dst[i] = tanh(src[i])` on the build of the loop for the kernels' path
/// ([`crate::simd::path`]).
pub fn tanh_slice(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() {
        // SAFETY: the path is AVX-512 only when the CPU has AVX-512F.
        return unsafe { tanh_loop_avx512(src, dst) };
    } else if crate::simd::has_avx2() {
        // SAFETY: the path is AVX2 only when the CPU has AVX2.
        return unsafe { tanh_loop_avx2(src, dst) };
    }
    tanh_loop(src, dst)
}
