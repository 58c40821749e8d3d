//! The loop nest around the microkernel, its block sizes, and the threading.
//!
//! ```text
//! LOOP 5: split n into nc-column blocks                             (jc)
//!   LOOP 3: split m into mc-row blocks                              (ic)
//!     pack, in parallel: A[ic.., ..] (mc×k) and, for the first ic, B[.., jc..] (k×nc),
//!       each cut along k into kc-deep blocks of MR-row / NR-column panels
//!       (when one row of tiles covers m, each tile packs its own B panels instead, in LOOP 2)
//!     for each tile of TILE_MP×TILE_NP panels of the mc×nc block of C, in parallel:
//!       LOOP 4: the kc-deep blocks of k, in increasing order         (pc)  β first, then 1
//!         LOOP 2: the tile's NR-column panels                       (jr)  B̃ panel in L1
//!           LOOP 1: the tile's MR-row panels                        (ir)  Ã panels in L2
//!             microkernel: C[ir, jr] ← α·Ã[pc, ir]·B̃[pc, jr] + β·C[ir, jr]
//! ```
//!
//! Block sizes: `kc ≤ 256` keeps a 32-column B̃ panel (32 KiB) in the 48 KiB L1, and a tile's
//! share of one k block (96×256 of A, 256×64 of B) in L2. Packing all of k at once means one
//! parallel packing pass and one parallel compute pass per block of C, and a tile keeps its
//! part of C in cache over all of k. `mc` and `nc` only bound the packing buffers (4 and 8
//! MiB). Each split is into equal parts (rounded up to whole panels) and all sizes depend on
//! the shape only (and C's offset in a cache line, see [`skew`]), never on the thread count:
//! that, and each tile summing k in order, is what makes the result bit-identical on any
//! number of threads: threading (see [`run_tasks`]) only decides which thread runs a given
//! packing task or tile.
//!
//! Products under [`PARALLEL_FLOPS`], or on a one-thread rayon pool, run on the calling thread
//! with no synchronisation. Packing buffers are thread-local and reused, so after warm-up a call
//! allocates nothing.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::kernel_avx512::{tile, CTile, MR, NR};
use super::pack::{pack_a_panel, pack_b_panel, Strided};

/// Deepest k block.
const KC: usize = 256;
/// Largest packed A block (all of k), in floats (4 MiB).
const A_BLOCK: usize = 1 << 20;
/// Largest packed B block (all of k), in floats (8 MiB).
const B_BLOCK: usize = 1 << 21;
/// Parallel tile size, in A panels × B panels (96×64 elements of C): small enough that the
/// two cores get near-equal shares of the GAN shapes.
pub(super) const TILE_MP: usize = 8;
pub(super) const TILE_NP: usize = 2;
/// Most A panels (576 rows: 576 KiB per k block) one row of tiles may cover.
const FUSED_MP: usize = 48;
/// Fewest tiles in one row of tiles: enough to share evenly between the cores.
const TILE_COLUMNS: usize = 8;
/// Panels packed per parallel packing task.
const PACK_PANELS: usize = 4;
/// Products of at least this many floating-point operations (2·m·n·k) use rayon.
pub(super) const PARALLEL_FLOPS: usize = 4_000_000;

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

/// A raw pointer shared with rayon's threads: packing tasks and tiles write disjoint parts.
#[derive(Clone, Copy)]
pub(super) struct SendPtr(pub *mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The pointer `offset` elements on (a method, so closures capture the whole wrapper).
    pub(super) unsafe fn at(self, offset: isize) -> *mut f32 {
        self.0.offset(offset)
    }
}

/// `n` split into equal parts of at most `max` (≥ `unit`), each rounded up to a multiple of
/// `unit`.
pub(super) fn block(n: usize, max: usize, unit: usize) -> usize {
    let parts = n.div_ceil(max.max(unit));
    n.div_ceil(parts).div_ceil(unit) * unit
}

/// A pointer to at least `floats` floats of `buf`, grown with zeros when short.
pub(super) fn reserve(buf: &mut Vec<Line>, floats: usize) -> SendPtr {
    let lines = floats.div_ceil(16);
    if buf.len() < lines {
        buf.resize(lines, Line([0.0; 16]));
    }
    SendPtr(buf.as_mut_ptr().cast::<f32>())
}

/// Runs `pack(i)` for `i < packs`, then `compute(j)` for `j < computes`, every compute task
/// starting only once all packing is done; spread over rayon's threads when `parallel`.
///
/// The calling thread works from the start, beside one helper job per other pool thread (see
/// [`with_helpers`]). Packing tasks go to whichever thread asks next. Compute tasks are taken
/// from both ends, the caller's from the front and the helpers' from the back, so on two
/// threads each writes one contiguous run of C: the threads share C's cache lines only where
/// the runs meet, and a late helper only takes fewer tasks. Which thread runs a task does not
/// change what it computes.
pub(super) fn run_tasks(
    parallel: bool,
    packs: usize,
    computes: usize,
    pack: impl Fn(usize) + Sync,
    compute: impl Fn(usize) + Sync,
) {
    if !parallel {
        (0..packs).for_each(pack);
        (0..computes).for_each(compute);
        return;
    }
    let (next_pack, packed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // The compute tasks not yet taken, `front..back`, as `front << 32 | back`.
    let remaining = AtomicU64::new(computes as u64);
    let work = |from_front: bool| {
        loop {
            let task = next_pack.fetch_add(1, Ordering::Relaxed);
            if task >= packs {
                break;
            }
            pack(task);
            packed.fetch_add(1, Ordering::Release);
        }
        // Every packing task is already taken by a running thread: wait for the last.
        while packed.load(Ordering::Acquire) < packs {
            std::hint::spin_loop();
        }
        let take = |range: u64| {
            let (front, back) = (range >> 32, range & u64::from(u32::MAX));
            // `then`, not `then_some`: with nothing left `range − 1` could underflow.
            (front < back).then(|| {
                if from_front {
                    range + (1 << 32)
                } else {
                    range - 1
                }
            })
        };
        while let Ok(range) = remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, take) {
            let (front, back) = (range >> 32, range & u64::from(u32::MAX));
            compute(if from_front { front } else { back - 1 } as usize);
        }
    };
    with_helpers(&|| work(false), || work(true));
}

/// Runs `own()` on the calling thread while one rayon job per other pool thread runs
/// `helper()`, and returns once `own()` is done and every helper that started has finished.
///
/// A helper job that has not started by then (its thread still waking up, or busy with other
/// jobs, as when this call is nested in a parallel loop) never runs `helper()`: so the caller
/// never waits for a thread to wake, and never blocks on a job only it could run. Jobs enter
/// through a gate that counts the helpers inside; the caller closes it, then waits for the
/// count to drain (see [`Gate`]).
fn with_helpers(helper: &(dyn Fn() + Sync), own: impl FnOnce()) {
    let gate = Arc::new(AtomicUsize::new(0));
    // SAFETY: a job calls `helper` only while inside the open gate, and this function does not
    // return (or unwind) before the gate is closed and empty, so `helper` outlives its uses.
    let helper: &'static (dyn Fn() + Sync) = unsafe { std::mem::transmute(helper) };
    for _ in 1..rayon::current_num_threads() {
        let gate = Arc::clone(&gate);
        rayon::spawn(move || {
            let enter = |inside: usize| (inside & CLOSED == 0).then_some(inside + 1);
            if gate
                .fetch_update(Ordering::Acquire, Ordering::Relaxed, enter)
                .is_ok()
            {
                let _leave = Gate::Leave(&gate);
                helper();
            }
        });
    }
    let _close = Gate::Close(&gate);
    own();
}

/// The gate's top bit: set once the caller is done, after which no helper enters.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// What a thread does to the gate when it is done, run on drop so that it also happens when
/// the work unwinds: a helper leaves; the caller closes the gate and waits for the helpers
/// inside (each is running one task) to leave.
enum Gate<'a> {
    Leave(&'a AtomicUsize),
    Close(&'a AtomicUsize),
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        match self {
            Gate::Leave(gate) => {
                gate.fetch_sub(1, Ordering::Release);
            }
            Gate::Close(gate) => {
                gate.fetch_or(CLOSED, Ordering::Relaxed);
                while gate.load(Ordering::Acquire) != CLOSED {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// `C ← α·A·B + β·C` (`c` is m×n, with its α and β) with `m, n, k ≥ 1` and `α ≠ 0`, on a
/// CPU with AVX-512F: on rayon's threads when the product is large enough.
///
/// # Safety
/// As for [`super::sgemm`].
pub(super) unsafe fn gemm(k: usize, a: Strided, b: Strided, c: CTile) {
    let flops = c
        .rows
        .saturating_mul(c.cols)
        .saturating_mul(k)
        .saturating_mul(2);
    let parallel = flops >= PARALLEL_FLOPS && rayon::current_num_threads() > 1;
    blocks(k, a, b, c, parallel);
}

/// How many columns C is shifted right so that column panels start on cache lines: when
/// C's rows are contiguous and all start at the same offset in a line, its first column
/// is placed at that offset (`skew`, in floats) in a virtual line-aligned C.
///
/// A column panel (32 floats, two lines) that straddles lines costs three line writes per
/// row instead of two, and on two threads lines shared by their tiles; for short k (a
/// convolution's GEMM) storing C is most of the work. Any skew gives the same result: the
/// panel boundaries only decide which kernel call computes a column, not how.
fn skew(c: &CTile) -> usize {
    let line = 16;
    if c.csc == 1 && c.rsc % line as isize == 0 {
        (c.c as usize / std::mem::size_of::<f32>()) % line
    } else {
        0
    }
}

/// The first real column and the width of the column panel starting at virtual column `v0`
/// (a multiple of NR), for C shifted right by `skew` and `n` columns wide.
fn panel_columns(v0: usize, skew: usize, n: usize) -> (usize, usize) {
    let start = v0.saturating_sub(skew);
    (start, (v0 + NR - skew).min(n) - start)
}

/// The loop nest over blocks of C (`c.rows×c.cols`, with its α and β).
pub(super) unsafe fn blocks(k: usize, a: Strided, b: Strided, c: CTile, parallel: bool) {
    let (m, n) = (c.rows, c.cols);
    let skew = skew(&c);
    // Panels, tiles and blocks are laid over the virtual columns `skew..skew + n`.
    let n_virtual = n + skew;
    let kc = block(k, KC, 1);
    let mc = block(m, A_BLOCK / k / MR * MR, MR);
    let nc = block(n_virtual, B_BLOCK / k / NR * NR, NR);
    let k_blocks = k.div_ceil(kc);
    let (mut a_buf, mut b_buf) = BUFFERS.take();
    let a_pack = reserve(&mut a_buf, mc * k);
    let b_pack = reserve(&mut b_buf, nc * k);

    // LOOP 5: split n into nc parts.
    for jc in (0..n_virtual).step_by(nc) {
        let np = nc.min(n_virtual - jc).div_ceil(NR);
        // LOOP 3: split m into mc parts.
        for ic in (0..m).step_by(mc) {
            let mp = mc.min(m - ic).div_ceil(MR);
            // Packing tasks: PACK_PANELS panels of one k block, A's first, then B's.
            let (a_chunks, b_chunks) = (mp.div_ceil(PACK_PANELS), np.div_ceil(PACK_PANELS));
            let a_tasks = k_blocks * a_chunks;
            // When one row of tiles can cover m (m short, or A's k block small enough for L2
            // with n wide enough for TILE_COLUMNS tiles), each B panel is used by one tile only:
            // that tile packs it just before use, so it is still in L1 when the kernel reads
            // it, and B never goes through a packed block in L3.
            let fuse_b = mc >= m
                && (mp <= TILE_MP || (mp <= FUSED_MP && np.div_ceil(TILE_NP) >= TILE_COLUMNS));
            let b_tasks = if ic == 0 && !fuse_b {
                k_blocks * b_chunks
            } else {
                0
            };
            let pack = |task: usize| {
                let is_a = task < a_tasks;
                let (task, chunks, panels, width) = if is_a {
                    (task, a_chunks, mp, MR)
                } else {
                    (task - a_tasks, b_chunks, np, NR)
                };
                let pc = task / chunks * kc;
                let kcb = kc.min(k - pc);
                for q in
                    (task % chunks) * PACK_PANELS..panels.min((task % chunks + 1) * PACK_PANELS)
                {
                    let offset = (pc * panels * width + q * width * kcb) as isize;
                    if is_a {
                        let r0 = ic + q * MR;
                        let src = Strided {
                            ptr: a.at(r0, pc),
                            ..a
                        };
                        pack_a_panel(kcb, MR.min(m - r0), src, a_pack.at(offset));
                    } else {
                        let (c0, cols) = panel_columns(jc + q * NR, skew, n);
                        let src = Strided {
                            ptr: b.at(pc, c0),
                            ..b
                        };
                        pack_b_panel(kcb, cols, src, b_pack.at(offset));
                    }
                }
            };
            // Tiles of at most TILE_MP×TILE_NP panels, as equal as whole panels allow.
            let tile_mp = if fuse_b { mp } else { block(mp, TILE_MP, 1) };
            // One row of short tiles (m ≤ TILE_MP panels, e.g. a batch of 64): one B panel
            // per tile, so the two threads end within one panel of each other.
            let tile_np = if fuse_b && mp <= TILE_MP {
                1
            } else {
                block(np, TILE_NP, 1)
            };
            let (tiles_m, tiles_n) = (mp.div_ceil(tile_mp), np.div_ceil(tile_np));
            let c_ptr = SendPtr(c.c);
            let compute = |t: usize| {
                // Down the columns of tiles: consecutive tiles share their B panels, and A
                // (at most 4 MiB, usually far less) is what stays in L2.
                let (tm, tn) = (t % tiles_m, t / tiles_m);
                let mut panel_buf = B_PANEL.take();
                let panel = reserve(&mut panel_buf, if fuse_b { NR * kc } else { 0 });
                // LOOP 4: the k blocks, summed into C in increasing order.
                for pc in (0..k).step_by(kc) {
                    let kcb = kc.min(k - pc);
                    let beta = if pc == 0 { c.beta } else { 1.0 };
                    // LOOP 2: the tile's B panels.
                    for jr in tn * tile_np..np.min((tn + 1) * tile_np) {
                        let b_panel = if fuse_b {
                            let (c0, cols) = panel_columns(jc + jr * NR, skew, n);
                            let src = Strided {
                                ptr: b.at(pc, c0),
                                ..b
                            };
                            pack_b_panel(kcb, cols, src, panel.at(0));
                            panel.at(0)
                        } else {
                            b_pack.at((pc * np * NR + jr * NR * kcb) as isize)
                        };
                        // LOOP 1: the tile's A panels.
                        for ir in tm * tile_mp..mp.min((tm + 1) * tile_mp) {
                            let a_panel = a_pack.at((pc * mp * MR + ir * MR * kcb) as isize);
                            let i0 = ic + ir * MR;
                            let (j0, cols) = panel_columns(jc + jr * NR, skew, n);
                            let out = CTile {
                                c: c_ptr.at(i0 as isize * c.rsc + j0 as isize * c.csc),
                                rows: MR.min(m - i0),
                                cols,
                                beta,
                                ..c
                            };
                            tile(kcb, a_panel, b_panel, &out);
                        }
                    }
                }
                B_PANEL.set(panel_buf);
            };
            run_tasks(
                parallel,
                a_tasks + b_tasks,
                tiles_m * tiles_n,
                pack,
                compute,
            );
        }
    }
    BUFFERS.set((a_buf, b_buf));
}
