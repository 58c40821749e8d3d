//! The epilogue of [`super::sgemm_bias`]: `C[i][j] ← C[i][j] + bias[j]`, then the tile's
//! rectifier if any, on one tile of C whose product is finished, while the kernel's stores
//! are still in L1.
//!
//! Added after the whole of k is summed, each element rounds exactly as the product stored
//! first and the bias added in a pass of its own: `(Σₚ A·B) + bias`, one IEEE addition. The
//! rectifier is the same comparison and select as [`Rectifier::apply`], lane by lane.

use super::kernel_avx2::Avx2;
use super::kernel_avx512::Avx512;
use super::lanes::Lanes;
use super::operands::CTile;
use crate::{Element, Rectifier};

/// Adds the tile's bias row (`t.bias`, not null) to each of its rows, 16 lanes at a time,
/// and applies its rectifier.
///
/// # Safety
/// The tile addresses valid memory with unit column stride, `t.bias` holds `t.cols`
/// floats, and the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn add_avx512(t: &CTile) {
    rows::<Avx512>(t)
}

/// [`add_avx512`] 8 lanes at a time, on a CPU with AVX2.
///
/// # Safety
/// As for [`add_avx512`], on a CPU with AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn add_avx2(t: &CTile) {
    rows::<Avx2>(t)
}

/// Row by row, one (masked) vector of columns at a time: the bias, then the rectifier.
#[inline(always)]
unsafe fn rows<L: Lanes>(t: &CTile) {
    debug_assert_eq!(t.csc, 1, "the bias epilogue needs unit column stride");
    match t.rectifier {
        None => each_vector::<L>(t, |x| x),
        Some(Rectifier::Relu) => each_vector::<L>(t, |x| L::relu(x)),
        Some(Rectifier::LeakyRelu(slope)) => {
            let slope = L::splat(f32::from_f64_lossy(slope));
            each_vector::<L>(t, |x| L::leaky_relu(x, slope))
        }
    }
}

/// `C[i][j] ← f(C[i][j] + bias[j])` over the tile, a vector at a time.
#[inline(always)]
unsafe fn each_vector<L: Lanes>(t: &CTile, f: impl Fn(L::V) -> L::V) {
    for i in 0..t.rows {
        let row = t.c.offset(i as isize * t.rsc);
        for j in (0..t.cols).step_by(L::N) {
            let mask = L::mask(L::N.min(t.cols - j));
            let sum = L::add(L::load(mask, row.add(j)), L::load(mask, t.bias.add(j)));
            L::store_masked(mask, row.add(j), f(sum));
        }
    }
}
