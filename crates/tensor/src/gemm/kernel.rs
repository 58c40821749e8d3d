//! What a microkernel provides to the loop nest: its tile size, its packing, and the tile.
//!
//! Math (every kernel): `acc[i][j] = Σₚ Ã[p][i]·B̃[p][j]` over one k block's `kc` values of
//! p, in increasing order, one fused multiply-add per p; then `C[i][j] ← α·acc[i][j] +
//! β·C[i][j]`, rounded as `(α·acc) + (β·C)` (`α·acc` alone when `β = 0`, which never reads
//! C). The panel layout is "p-major" (see `pack`): the A panel holds `Ã[p][i]` at
//! `p·MR + i`, the B panel `B̃[p][j]` at `p·NR + j`, 64-byte aligned, B zero-padded to `NR`
//! columns.

use super::operands::{CTile, Strided};

/// A register-blocked microkernel and the packing that feeds it; implemented by a unit
/// type per instruction set (`Avx512`, `Avx2`), whose methods need that instruction set.
pub(super) trait Microkernel: Copy + Send + Sync {
    /// Rows of C per tile (the A panel height).
    const MR: usize;
    /// Columns of C per tile (the B panel width).
    const NR: usize;

    /// `C ← α·Ã·B̃ + β·C` on the tile `t` (at most `MR×NR`).
    ///
    /// # Safety
    /// `a` and `b` are packed panels of at least `kc` steps; the tile addresses valid
    /// memory; the CPU has the kernel's instruction set.
    unsafe fn tile(kc: usize, a: *const f32, b: *const f32, t: &CTile);

    /// Packs rows `0..rows` (≤ MR) and columns `0..kc` of `a` into one A panel at `dst`.
    ///
    /// # Safety
    /// `a` addresses a valid `rows×kc` matrix, `dst` holds `kc·MR` floats, the CPU has the
    /// kernel's instruction set.
    unsafe fn pack_a(kc: usize, rows: usize, a: Strided, dst: *mut f32);

    /// Packs rows `0..kc` and columns `0..cols` (≤ NR) of `b` into one B panel at `dst`,
    /// zero-padded to `NR` columns.
    ///
    /// # Safety
    /// `b` addresses a valid `kc×cols` matrix, `dst` holds `kc·NR` floats (64-byte aligned),
    /// the CPU has the kernel's instruction set.
    unsafe fn pack_b(kc: usize, cols: usize, b: Strided, dst: *mut f32);

    /// `C[i][j] ← C[i][j] + bias[j]` on the finished tile `t` (its `bias` not null).
    ///
    /// # Safety
    /// The tile addresses valid memory with unit column stride, `t.bias` holds `t.cols`
    /// floats, the CPU has the kernel's instruction set.
    unsafe fn add_bias(t: &CTile);
}
