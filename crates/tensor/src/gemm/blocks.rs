//! `C = A·B` handed over one block of C at a time, for a consumer that reduces each block
//! as soon as it is computed (fold, which sums a convolution's columns onto its image):
//! C itself is never stored whole, only one block at a time in a thread's scratch buffer,
//! where the consumer finds it still in L2.
//!
//! ```text
//! pack all of A (in parallel): per kc-deep block of k, the MR-row panels of each row block
//! for each unit (a column block × a group of row blocks), in parallel:
//!   pack the unit's columns of B (all of k) into NR-column panels
//!   for each row block of the group:
//!     for each k block (pc), increasing:  β = 0 first, then 1
//!       for each B panel (jr), for each A panel (ir): microkernel into the scratch block
//!     consume(first row, first column, scratch block, its row stride)
//! ```
//!
//! Every element of C is the same sum as in the packed GEMM of `blocking` (the same kc
//! blocks, each one kernel call accumulating in increasing p), so a block holds the same
//! bits as the corresponding part of `gemm_loop`'s C; the blocks depend on the shape and the
//! caller's block sizes only, so the result does not depend on the thread count.

use std::cell::Cell;

use super::blocking::{block, reserve, Line, KC, PACK_PANELS};
use super::kernel::Microkernel;
use super::operands::{CTile, Strided};
use super::threads::run_tasks;
use super::ConsumeBlock;
use crate::parallel::{product_uses_threads, SendPtr};

/// Row blocks a unit may take together: enough units for two threads to share evenly.
const UNITS: usize = 8;

thread_local! {
    /// This thread's packed A (taken for the call) and, per unit, packed B and C block.
    static A_PACK: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
    static UNIT_BUFFERS: Cell<(Vec<Line>, Vec<Line>)> = const { Cell::new((Vec::new(), Vec::new())) };
}

/// `C = A·B` (`m×k · k×n`, `m, n, k ≥ 1`) with kernel `K`, C cut into blocks of `mb` rows
/// and `nb` columns (the last ones shorter): each block is computed into a scratch buffer
/// and passed to `consume(i0, j0, block, ld)` (its first row and column, and its row-major
/// elements `rows×cols` with row stride `ld`), exactly once, on some thread.
///
/// # Safety
/// `a` and `b` address valid `m×k` and `k×n` matrices; the CPU has `K`'s instruction set.
pub(super) unsafe fn gemm_blocks<K: Microkernel>(
    [m, k, n]: [usize; 3],
    a: Strided,
    b: Strided,
    [mb, nb]: [usize; 2],
    consume: &ConsumeBlock<'_, f32>,
) {
    let kc = block(k, KC, 1);
    let (row_blocks, col_blocks) = (m.div_ceil(mb), n.div_ceil(nb));
    // Panels of one row block, and the row blocks a unit takes.
    let block_panels = mb.div_ceil(K::MR);
    let per_unit = row_blocks.div_ceil(UNITS.div_ceil(col_blocks)).max(1);
    let groups = row_blocks.div_ceil(per_unit);
    let panels = row_blocks * block_panels;
    let mut a_buf = A_PACK.take();
    let a_pack = reserve(&mut a_buf, panels * K::MR * k);
    let shape = Shape::<K> {
        a,
        b,
        m,
        k,
        n,
        kc,
        mb,
        nb,
        block_panels,
        panels,
        a_pack,
        kernel: std::marker::PhantomData,
    };
    let k_blocks = k.div_ceil(kc);
    run_tasks(
        product_uses_threads(m, k, n),
        k_blocks * panels.div_ceil(PACK_PANELS),
        col_blocks * groups,
        |task| shape.pack_a_task(task),
        |unit, _| {
            let (cb, group) = (unit % col_blocks, unit / col_blocks);
            let rbs = group * per_unit..row_blocks.min((group + 1) * per_unit);
            shape.unit(cb, rbs, consume)
        },
    );
    A_PACK.set(a_buf);
}

/// The product's shape, block sizes and packed A: what the tasks share.
struct Shape<K> {
    a: Strided,
    b: Strided,
    m: usize,
    k: usize,
    n: usize,
    kc: usize,
    mb: usize,
    nb: usize,
    block_panels: usize,
    /// A panels of all row blocks: `block_panels` per row block.
    panels: usize,
    a_pack: SendPtr<*mut f32>,
    kernel: std::marker::PhantomData<K>,
}

impl<K: Microkernel> Shape<K> {
    /// The rows of A panel `q` of row block `rb`: its first row and count (0 past the block).
    fn panel_rows(&self, rb: usize, q: usize) -> (usize, usize) {
        let end = self.m.min((rb + 1) * self.mb);
        let r0 = rb * self.mb + q * K::MR;
        (r0, K::MR.min(end.saturating_sub(r0)))
    }

    /// The depth of the k block starting at `pc`.
    fn k_block(&self, pc: usize) -> usize {
        self.kc.min(self.k - pc)
    }

    /// Panel `p` (row block `p / block_panels`) of the packed k block at `pc`.
    unsafe fn a_panel(&self, pc: usize, p: usize) -> *mut f32 {
        let offset = pc * self.panels * K::MR + p * K::MR * self.k_block(pc);
        self.a_pack.at(offset as isize)
    }

    /// Packing task `task` of A: PACK_PANELS panels of one k block.
    unsafe fn pack_a_task(&self, task: usize) {
        let chunks = self.panels.div_ceil(PACK_PANELS);
        let pc = task / chunks * self.kc;
        let first = (task % chunks) * PACK_PANELS;
        for p in first..self.panels.min(first + PACK_PANELS) {
            let (r0, rows) = self.panel_rows(p / self.block_panels, p % self.block_panels);
            if rows > 0 {
                let src = Strided {
                    ptr: self.a.at(r0, pc),
                    ..self.a
                };
                K::pack_a(self.k_block(pc), rows, src, self.a_panel(pc, p));
            }
        }
    }

    /// Unit (column block `cb`, row blocks `rbs`): packs its columns of B, then computes
    /// and consumes each of its blocks of C.
    unsafe fn unit(&self, cb: usize, rbs: std::ops::Range<usize>, consume: &ConsumeBlock<'_, f32>) {
        let j0 = cb * self.nb;
        let cols = self.nb.min(self.n - j0);
        let np = cols.div_ceil(K::NR);
        let (mut b_buf, mut c_buf) = UNIT_BUFFERS.take();
        let b_pack = reserve(&mut b_buf, np * K::NR * self.k);
        let ld = self.nb;
        let c_block = reserve(&mut c_buf, self.mb * ld);
        // B panel `jr` of the k block at `pc`, in the unit's packed columns.
        let b_panel = |pc: usize, jr: usize| {
            b_pack.at((pc * np * K::NR + jr * K::NR * self.k_block(pc)) as isize)
        };
        for pc in (0..self.k).step_by(self.kc) {
            for jr in 0..np {
                let c0 = jr * K::NR;
                let src = Strided {
                    ptr: self.b.at(pc, j0 + c0),
                    ..self.b
                };
                K::pack_b(self.k_block(pc), K::NR.min(cols - c0), src, b_panel(pc, jr));
            }
        }
        for rb in rbs {
            let rows = self.mb.min(self.m - rb * self.mb);
            for pc in (0..self.k).step_by(self.kc) {
                let kcb = self.k_block(pc);
                let beta = if pc == 0 { 0.0 } else { 1.0 };
                for jr in 0..np {
                    let c0 = jr * K::NR;
                    for q in 0..rows.div_ceil(K::MR) {
                        let (_, panel_rows) = self.panel_rows(rb, q);
                        let out = CTile {
                            c: c_block.at((q * K::MR * ld + c0) as isize),
                            rsc: ld as isize,
                            csc: 1,
                            rows: panel_rows,
                            cols: K::NR.min(cols - c0),
                            alpha: 1.0,
                            beta,
                            bias: std::ptr::null(),
                            rectifier: None,
                        };
                        let a = self.a_panel(pc, rb * self.block_panels + q);
                        K::tile(kcb, a, b_panel(pc, jr), &out);
                    }
                }
            }
            let block = std::slice::from_raw_parts(c_block.get(), (rows - 1) * ld + cols);
            consume(rb * self.mb, j0, block, ld);
        }
        UNIT_BUFFERS.set((b_buf, c_buf));
    }
}
