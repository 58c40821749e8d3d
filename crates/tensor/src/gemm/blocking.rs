//! The loop nest around the microkernel and its block sizes, for any [`Microkernel`].
//!
//! ```text
//! gemm_loop:
//! LOOP 5: split n into nc-column blocks                             (jc)
//!   LOOP 3: split m into mc-row blocks                              (ic)
//!     pack, in parallel: A[ic.., ..] (mc×k) and, for the first ic, B[.., jc..] (k×nc),
//!       each cut along k into kc-deep blocks of MR-row / NR-column panels
//!       (when one row of tiles covers m, each tile packs its own B panels instead, in LOOP 2)
//!     for each tile of about 96×64 elements of the mc×nc block of C (in one row of tiles,
//!     all m × one NR-column panel, or a few past ROW_TILES panels), in parallel, each thread
//!     prefetching its next tile's first B panel:
//!       LOOP 4: the kc-deep blocks of k, in increasing order         (pc)  β first, then 1
//!         tiles:
//!         LOOP 2: the tile's NR-column panels                       (jr)  B̃ panel in L1
//!           LOOP 1: the tile's MR-row panels                        (ir)  Ã panels in L2
//!             microkernel: C[ir, jr] ← α·Ã[pc, ir]·B̃[pc, jr] + β·C[ir, jr]
//!             after the last pc, with a bias row (`sgemm_bias`): C[ir, jr] += bias[jr]
//! ```
//!
//! Loop 4 sits inside the parallel tile, not around loop 3 as in matrixmultiply: all of k
//! is packed at once, so each block of C takes one parallel packing pass and one parallel
//! compute pass, and a tile keeps its part of C in cache over all of k.
//!
//! Block sizes: `kc ≤ 256` keeps a B̃ panel (32 KiB for the AVX-512 kernel's 32 columns, 16
//! KiB for the AVX2 kernel's 16) within an L1 of 32 KiB (Zen 4) or 48 KiB (recent Intel),
//! and a tile's share of one k block (96×256 of A, 256×64 of B) in L2. `mc` and `nc` only
//! bound the packing buffers (4 and 8 MiB). Each split is into equal parts
//! (rounded up to whole panels) and all sizes depend on the shape and the kernel only (and
//! C's offset in a cache line, see [`skew`]), never on the thread count: that, and each tile
//! summing k in order, is what makes the result bit-identical on any number of threads; the
//! scheduler (`threads`) only decides which thread runs a given packing task or tile.
//!
//! Products under [`PARALLEL_FLOPS`](crate::parallel::PARALLEL_FLOPS), or on a one-thread
//! rayon pool ([`product_uses_threads`]), run on the calling thread with no synchronisation.
//! Packing buffers are thread-local and reused, so after warm-up a call allocates nothing.

use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
use std::cell::Cell;

use super::kernel::Microkernel;
use super::operands::{CTile, Strided};
use super::threads::run_tasks;
use crate::parallel::{product_uses_threads, SendPtr};

/// Deepest k block.
pub(super) const KC: usize = 256;
/// Largest packed A block (all of k), in floats (4 MiB).
const A_BLOCK: usize = 1 << 20;
/// Largest packed B block (all of k), in floats (8 MiB).
const B_BLOCK: usize = 1 << 21;
/// Parallel tile size, in rows × columns of C (whole panels: 8×2 panels of the AVX-512
/// kernel, 16×4 of the AVX2 one): small enough that the two cores get near-equal shares of
/// the GAN shapes.
pub(super) const TILE_M: usize = 96;
pub(super) const TILE_N: usize = 64;
/// Most rows (576 KiB of A per k block) one row of tiles may cover.
const FUSED_M: usize = 576;
/// Fewest tiles in one row of tiles: enough to share evenly between the cores.
const TILE_COLUMNS: usize = 8;
/// Most tiles in one row of tiles: each tile taken costs an atomic update of a line both
/// threads write, which for a tile of one short panel and short k costs as much as the tile.
const ROW_TILES: usize = 64;
/// Panels packed per parallel packing task.
pub(super) const PACK_PANELS: usize = 4;

/// One cache line of floats: the packing buffers are vectors of these, so 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Line(pub [f32; 16]);

thread_local! {
    /// This thread's packing buffers (A block, B block), taken for the length of a call so
    /// a nested call (rayon may run another task while this one waits) gets its own.
    static BUFFERS: Cell<(Vec<Line>, Vec<Line>)> = const { Cell::new((Vec::new(), Vec::new())) };
    /// This thread's single B panel, for tiles that pack their own (see `fuse_b`).
    static B_PANEL: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// `n` split into equal parts of at most `max` (≥ `unit`), each rounded up to a multiple of
/// `unit`.
pub(super) fn block(n: usize, max: usize, unit: usize) -> usize {
    let parts = n.div_ceil(max.max(unit));
    n.div_ceil(parts).div_ceil(unit) * unit
}

/// A pointer to at least `floats` floats of `buf`, grown with zeros when short.
pub(super) fn reserve(buf: &mut Vec<Line>, floats: usize) -> SendPtr<*mut f32> {
    let lines = floats.div_ceil(16);
    if buf.len() < lines {
        buf.resize(lines, Line([0.0; 16]));
    }
    SendPtr(buf.as_mut_ptr().cast::<f32>())
}

/// `C ← α·A·B + β·C` (`c` is m×n, with its α and β) with `m, n, k ≥ 1` and `α ≠ 0`, with
/// kernel `K`: on rayon's threads when the product is large enough.
///
/// # Safety
/// As for [`super::sgemm`], on a CPU with `K`'s instruction set.
pub(super) unsafe fn gemm<K: Microkernel>(k: usize, a: Strided, b: Strided, c: CTile) {
    let parallel = product_uses_threads(c.rows, k, c.cols);
    gemm_loop::<K>(k, a, b, c, parallel);
}

/// How many columns C is shifted right so that column panels start on cache lines: when
/// C's rows are contiguous and all start at the same offset in a line, its first column
/// is placed at that offset (`skew`, in floats) in a virtual line-aligned C.
///
/// A column panel that straddles lines costs an extra line write per row, and on two
/// threads lines shared by their tiles; for short k (a convolution's GEMM) storing C is most
/// of the work. Any skew gives the same result: the panel boundaries only decide which
/// kernel call computes a column, not how.
fn skew(c: &CTile) -> usize {
    let line = 16;
    if c.csc == 1 && c.rsc % line as isize == 0 {
        (c.c as usize / std::mem::size_of::<f32>()) % line
    } else {
        0
    }
}

/// Loops 5 and 3: the blocks of C (`c.rows×c.cols`, with its α and β), each packed and then
/// computed tile by tile by [`run_tasks`].
///
/// # Safety
/// As for [`gemm`].
pub(super) unsafe fn gemm_loop<K: Microkernel>(
    k: usize,
    a: Strided,
    b: Strided,
    c: CTile,
    parallel: bool,
) {
    let (m, n) = (c.rows, c.cols);
    let skew = skew(&c);
    // Panels, tiles and blocks are laid over the virtual columns `skew..skew + n`.
    let n_virtual = n + skew;
    let kc = block(k, KC, 1);
    let mc = block(m, A_BLOCK / k / K::MR * K::MR, K::MR);
    let nc = block(n_virtual, B_BLOCK / k / K::NR * K::NR, K::NR);
    let (mut a_buf, mut b_buf) = BUFFERS.take();
    let a_pack = reserve(&mut a_buf, mc * k);
    let b_pack = reserve(&mut b_buf, nc * k);

    // LOOP 5: split n into nc parts.
    for jc in (0..n_virtual).step_by(nc) {
        let np = nc.min(n_virtual - jc).div_ceil(K::NR);
        // LOOP 3: split m into mc parts.
        for ic in (0..m).step_by(mc) {
            let mp = mc.min(m - ic).div_ceil(K::MR);
            // When one row of tiles can cover m (m short, or A's k block small enough for L2
            // with n wide enough for TILE_COLUMNS tiles), each B panel is used by one tile only:
            // that tile packs it just before use, so it is still in L1 when the kernel reads
            // it, and B never goes through a packed block in L3.
            let (tile_mp, tile_np) = (TILE_M / K::MR, TILE_N / K::NR);
            let fuse_b = mc >= m
                && (mp <= tile_mp
                    || (mp <= FUSED_M / K::MR && np.div_ceil(tile_np) >= TILE_COLUMNS));
            let blk = Block::<K> {
                a,
                b,
                c,
                k,
                kc,
                ic,
                jc,
                mp,
                np,
                skew,
                fuse_b,
                // Tiles of at most tile_mp×tile_np panels, as equal as whole panels allow.
                tile_mp: if fuse_b { mp } else { block(mp, tile_mp, 1) },
                // One row of tiles: one B panel per tile, so the two threads end within one
                // panel column of each other (with four per tile, the thread done first with
                // one of toy-wgangp's 256x512x512 products waited up to a whole tile); past
                // ROW_TILES panels, as few panels per tile as keep the row to ROW_TILES tiles.
                tile_np: if fuse_b {
                    block(np, np.div_ceil(ROW_TILES), 1)
                } else {
                    block(np, tile_np, 1)
                },
                a_pack,
                b_pack,
                kernel: std::marker::PhantomData,
            };
            let k_blocks = k.div_ceil(kc);
            let a_tasks = k_blocks * mp.div_ceil(PACK_PANELS);
            let b_tasks = if ic == 0 && !fuse_b {
                k_blocks * np.div_ceil(PACK_PANELS)
            } else {
                0
            };
            run_tasks(
                parallel,
                a_tasks + b_tasks,
                blk.tiles_m() * blk.tiles_n(),
                |task| {
                    if task < a_tasks {
                        blk.pack_a_task(task);
                    } else {
                        blk.pack_b_task(task - a_tasks);
                    }
                },
                |t, next| blk.tile_task(t, next),
            );
        }
    }
    BUFFERS.set((a_buf, b_buf));
}

/// One mc×nc block of C and its packed operands: what the packing and tile tasks share.
struct Block<K> {
    a: Strided,
    b: Strided,
    c: CTile,
    k: usize,
    kc: usize,
    /// The block's first row and (virtual) column.
    ic: usize,
    jc: usize,
    /// Its A and B panels.
    mp: usize,
    np: usize,
    skew: usize,
    /// Whether each tile packs its own B panels.
    fuse_b: bool,
    /// A tile's A and B panels.
    tile_mp: usize,
    tile_np: usize,
    a_pack: SendPtr<*mut f32>,
    b_pack: SendPtr<*mut f32>,
    kernel: std::marker::PhantomData<K>,
}

impl<K: Microkernel> Block<K> {
    fn tiles_m(&self) -> usize {
        self.mp.div_ceil(self.tile_mp)
    }

    fn tiles_n(&self) -> usize {
        self.np.div_ceil(self.tile_np)
    }

    /// The first real column and the width of the column panel `jr` (C shifted right by
    /// `skew`).
    fn panel_columns(&self, jr: usize) -> (usize, usize) {
        let v0 = self.jc + jr * K::NR;
        let start = v0.saturating_sub(self.skew);
        (start, (v0 + K::NR - self.skew).min(self.c.cols) - start)
    }

    /// The kc-deep block of k starting at `pc`, in its panel order: `pc·panels·width` floats
    /// in, each panel `width·kcb` floats.
    fn k_block(&self, pc: usize) -> usize {
        self.kc.min(self.k - pc)
    }

    /// Packing task `task` of A: PACK_PANELS panels of one k block, numbered down the rows
    /// (a run of rows' k blocks, then the next run), so that on two threads, taking tasks
    /// from either end, each packs one half of A's rows: the half it most likely wrote, as
    /// the parallel elementwise passes give the calling thread the first half of a tensor.
    unsafe fn pack_a_task(&self, task: usize) {
        let k_blocks = self.k.div_ceil(self.kc);
        let pc = task % k_blocks * self.kc;
        let kcb = self.k_block(pc);
        let first = task / k_blocks * PACK_PANELS;
        for q in first..self.mp.min(first + PACK_PANELS) {
            let r0 = self.ic + q * K::MR;
            let src = Strided {
                ptr: self.a.at(r0, pc),
                ..self.a
            };
            let dst = self.a_panel(pc, q);
            K::pack_a(kcb, K::MR.min(self.c.rows - r0), src, dst);
        }
    }

    /// Packing task `task` of B: PACK_PANELS panels of one k block.
    unsafe fn pack_b_task(&self, task: usize) {
        let chunks = self.np.div_ceil(PACK_PANELS);
        let pc = task / chunks * self.kc;
        let first = (task % chunks) * PACK_PANELS;
        for q in first..self.np.min(first + PACK_PANELS) {
            self.pack_b_panel(pc, q, self.b_panel(pc, q));
        }
    }

    /// Packs B panel `jr` of the k block at `pc` into `dst`.
    unsafe fn pack_b_panel(&self, pc: usize, jr: usize, dst: *mut f32) {
        let (c0, cols) = self.panel_columns(jr);
        let src = Strided {
            ptr: self.b.at(pc, c0),
            ..self.b
        };
        K::pack_b(self.k_block(pc), cols, src, dst);
    }

    /// A panel `ir` of the k block at `pc` in the packed A block.
    unsafe fn a_panel(&self, pc: usize, ir: usize) -> *mut f32 {
        let offset = pc * self.mp * K::MR + ir * K::MR * self.k_block(pc);
        self.a_pack.at(offset as isize)
    }

    /// B panel `jr` of the k block at `pc` in the packed B block.
    unsafe fn b_panel(&self, pc: usize, jr: usize) -> *mut f32 {
        let offset = pc * self.np * K::NR + jr * K::NR * self.k_block(pc);
        self.b_pack.at(offset as isize)
    }

    /// Tile task `t` (tiles numbered down the columns of tiles: consecutive tiles share their
    /// B panels, and A, at most 4 MiB and usually far less, is what stays in L2); `next` is
    /// the tile this thread will probably compute after it, whose first B panel a tile that
    /// packs its own starts fetching during its last one.
    unsafe fn tile_task(&self, t: usize, next: Option<usize>) {
        let (tm, tn) = (t % self.tiles_m(), t / self.tiles_m());
        let next_panel = next.map(|u| u / self.tiles_m() * self.tile_np);
        let rows = tm * self.tile_mp..self.mp.min((tm + 1) * self.tile_mp);
        let cols = tn * self.tile_np..self.np.min((tn + 1) * self.tile_np);
        let mut panel_buf = B_PANEL.take();
        let panel = reserve(
            &mut panel_buf,
            if self.fuse_b { K::NR * self.kc } else { 0 },
        );
        // LOOP 4: the k blocks, summed into C in increasing order.
        for pc in (0..self.k).step_by(self.kc) {
            self.tiles(pc, rows.clone(), cols.clone(), panel, next_panel);
        }
        B_PANEL.set(panel_buf);
    }

    /// Loops 2 and 1: the kernel over the tile's panels `rows × cols` for the k block at
    /// `pc` (`β` for the first block, 1 after it, and C's bias after the last); `panel` is
    /// the tile's own B panel when B is fused, and `next_panel` the first B panel of the
    /// tile after it.
    unsafe fn tiles(
        &self,
        pc: usize,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        panel: SendPtr<*mut f32>,
        next_panel: Option<usize>,
    ) {
        let kcb = self.k_block(pc);
        let beta = if pc == 0 { self.c.beta } else { 1.0 };
        // The bias goes onto each kernel tile once its last k block is summed.
        let last = pc + kcb == self.k;
        // LOOP 2: the tile's B panels.
        for jr in cols.clone() {
            let b_panel = if self.fuse_b {
                self.pack_b_panel(pc, jr, panel.get());
                panel.get()
            } else {
                self.b_panel(pc, jr)
            };
            // The panel this tile packs next, if it packs its own.
            let next = if !self.fuse_b {
                None
            } else if jr + 1 < cols.end {
                Some((pc, jr + 1))
            } else if pc + self.kc < self.k {
                Some((pc + self.kc, cols.start))
            } else {
                next_panel.map(|jr| (0, jr))
            };
            let (j0, width) = self.panel_columns(jr);
            let share = kcb.div_ceil(rows.len());
            // LOOP 1: the tile's A panels.
            for (step, ir) in rows.clone().enumerate() {
                if let Some((pc, jr)) = next {
                    self.prefetch_b_rows(pc, jr, step * share..(step + 1) * share);
                }
                let i0 = self.ic + ir * K::MR;
                let out = CTile {
                    beta,
                    ..self.c.sub(i0, j0, K::MR.min(self.c.rows - i0), width)
                };
                K::tile(kcb, self.a_panel(pc, ir), b_panel, &out);
                if last && !out.bias.is_null() {
                    K::add_bias(&out);
                }
            }
        }
    }

    /// Asks the cache for rows `rows` (clipped to the k block) of B panel `jr` of the k
    /// block at `pc`. A panel's source is `NR` short runs a whole row or column of B apart,
    /// too far apart for the hardware prefetcher, so without this its packing waits on
    /// memory for each; spread over the kernel calls on the panel before it, the loads
    /// overlap that work. Row-major B: each row's run; transposed B: each column's, one
    /// cache line (16 floats) per 16 rows; other strides are left to the hardware.
    unsafe fn prefetch_b_rows(&self, pc: usize, jr: usize, rows: std::ops::Range<usize>) {
        let (c0, cols) = self.panel_columns(jr);
        for p in rows.start..rows.end.min(self.k_block(pc)) {
            if self.b.cs == 1 {
                let row = self.b.at(pc + p, c0);
                _mm_prefetch::<_MM_HINT_T0>(row.cast());
                _mm_prefetch::<_MM_HINT_T0>(row.add(cols - 1).cast());
            } else if self.b.rs == 1 && p % 16 == 0 {
                for j in 0..cols {
                    _mm_prefetch::<_MM_HINT_T0>(self.b.at(pc + p, c0 + j).cast());
                }
            }
        }
    }
}
