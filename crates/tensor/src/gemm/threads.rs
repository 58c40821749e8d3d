//! The GEMM's scheduler: packing tasks, then compute tasks, on the calling thread and
//! rayon's other threads, with the one `unsafe` lifetime argument of the GEMM in one place.
//!
//! Which thread runs a task never changes what the task computes: the tasks are fixed by
//! the shape alone (see `blocking`), so the result is the same bits on any number of threads.
//!
//! Safety, in one place: the tasks get raw pointers into the operands, the packing buffers
//! and C (all owned by the caller of [`run_tasks`]), and rayon's spawned jobs need `'static`
//! closures. [`with_helpers`] therefore transmutes the helper closure to `'static`, and
//! guarantees it is not used after it returns: a job runs the closure only inside a gate
//! that it enters atomically while the gate is open, and the caller, before returning or
//! unwinding, closes the gate and waits until every job inside has left ([`Gate`]). A job
//! that starts later finds the gate closed and does nothing. Packing tasks write disjoint
//! panels and compute tasks disjoint tiles of C, so no two tasks write the same memory, and
//! every compute task starts only once every packing task has finished (an acquire load of
//! the count of finished packing tasks, each a release increment).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Runs `pack(i)` for `i < packs`, then `compute(j, next)` for `j < computes`, every compute
/// task starting only once all packing is done; spread over rayon's threads when `parallel`.
/// `next` is the task the same thread will take after `j` if no other thread takes it first:
/// a hint for prefetching, never a promise.
///
/// The calling thread works from the start, beside one helper job per other pool thread (see
/// [`with_helpers`]). Both kinds of task are taken from both ends, the caller's from the front
/// and the helpers' from the back, so on two threads each packs one contiguous run of the
/// packing tasks and writes one contiguous run of C: the threads share C's cache lines only
/// where the runs meet, and a late helper only takes fewer tasks.
pub(super) fn run_tasks(
    parallel: bool,
    packs: usize,
    computes: usize,
    pack: impl Fn(usize) + Sync,
    compute: impl Fn(usize, Option<usize>) + Sync,
) {
    if !parallel {
        (0..packs).for_each(pack);
        (0..computes).for_each(|j| compute(j, (j + 1 < computes).then_some(j + 1)));
        return;
    }
    let (packs_left, packed) = (Ends::new(packs), AtomicUsize::new(0));
    let computes_left = Ends::new(computes);
    let work = |from_front: bool| {
        while let Some((task, _)) = packs_left.take(from_front) {
            pack(task);
            packed.fetch_add(1, Ordering::Release);
        }
        // Every packing task is already taken by a running thread: wait for the last.
        while packed.load(Ordering::Acquire) < packs {
            std::hint::spin_loop();
        }
        while let Some((task, next)) = computes_left.take(from_front) {
            compute(task, next);
        }
    };
    with_helpers(&|| work(false), || work(true));
}

/// The tasks `0..n` not yet taken, `front..back`, packed as `front << 32 | back` in one
/// atomic, taken from either end.
struct Ends(AtomicU64);

impl Ends {
    fn new(n: usize) -> Ends {
        Ends(AtomicU64::new(n as u64))
    }

    /// Takes the first task left (`from_front`) or the last, with the one the same end
    /// would take after it, or `None` when none is left.
    fn take(&self, from_front: bool) -> Option<(usize, Option<usize>)> {
        let step = |range: u64| {
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
        let range = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, step)
            .ok()?;
        let (front, back) = (range >> 32, range & u64::from(u32::MAX));
        let (task, next) = if from_front {
            (front, (front + 1 < back).then_some(front + 1))
        } else {
            (back - 1, (back >= front + 2).then(|| back - 2))
        };
        Some((task as usize, next.map(|t| t as usize)))
    }
}

/// Runs `own()` on the calling thread while one rayon job per other pool thread runs
/// `helper()`, and returns once `own()` is done and every helper that started has finished.
///
/// A helper job that has not started by then (its thread still waking up, or busy with other
/// jobs, as when this call is nested in a parallel loop) never runs `helper()`: so the caller
/// never waits for a thread to wake, and never blocks on a job only it could run. Jobs enter
/// through a gate that counts the helpers inside; the caller closes it, then waits for the
/// count to drain (see [`Gate`] and the module documentation).
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{run_tasks, Ends};

    /// Taken alternately from the two ends, five tasks come out once each, in order from
    /// each end, each with the task that end would take next while one is left.
    #[test]
    fn ends_hand_out_each_task_once_from_either_end() {
        let ends = Ends::new(5);
        assert_eq!(ends.take(true), Some((0, Some(1))));
        assert_eq!(ends.take(false), Some((4, Some(3))));
        assert_eq!(ends.take(true), Some((1, Some(2))));
        assert_eq!(ends.take(false), Some((3, Some(2))));
        assert_eq!(ends.take(false), Some((2, None)));
        assert_eq!(ends.take(true), None);
        assert_eq!(ends.take(false), None);
        assert_eq!(Ends::new(0).take(true), None);
    }

    /// On two threads, every packing task and every compute task runs exactly once, and no
    /// compute task starts before the last packing task has finished.
    #[test]
    fn every_task_runs_once_and_computing_waits_for_packing() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool of two threads");
        for (packs, computes) in [(0, 1), (1, 0), (37, 53), (2, 2), (64, 1)] {
            let packed: Vec<AtomicUsize> = (0..packs).map(|_| AtomicUsize::new(0)).collect();
            let computed: Vec<AtomicUsize> = (0..computes).map(|_| AtomicUsize::new(0)).collect();
            let done = AtomicUsize::new(0);
            pool.install(|| {
                run_tasks(
                    true,
                    packs,
                    computes,
                    |i| {
                        packed[i].fetch_add(1, Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Release);
                    },
                    |j, _| {
                        assert_eq!(
                            done.load(Ordering::Acquire),
                            packs,
                            "compute before packing"
                        );
                        computed[j].fetch_add(1, Ordering::Relaxed);
                    },
                )
            });
            let once =
                |counts: &[AtomicUsize]| counts.iter().all(|c| c.load(Ordering::Relaxed) == 1);
            assert!(once(&packed), "{packs} packing tasks");
            assert!(once(&computed), "{computes} compute tasks");
        }
    }
}
