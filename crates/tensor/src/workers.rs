//! Keeping rayon's workers awake for the length of a burst of parallel kernels.
//!
//! A training step of a small GAN is a few hundred kernels, most of them tens of
//! microseconds long, and the parallel ones alternate with short serial ones. Between two
//! parallel kernels rayon's idle workers go to sleep on a futex, and every kernel then pays
//! for waking one: a system call and an inter-processor interrupt, which in a virtual
//! machine cost about as much as a small kernel (5–7% of an MLP GAN step here). OpenMP
//! runtimes avoid this by spinning for a while before sleeping; [`keep_awake`] does the same
//! for a closure: while it runs, every other worker of the pool polls for jobs instead of
//! sleeping, and runs them as soon as they are queued.

use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f`, with every other worker of the current rayon pool spinning (running any job
/// it finds) until `f` returns. The result is `f`'s; only the waiting changes.
///
/// Called outside a pool (the main thread of a program, a test thread), it just runs `f`:
/// spinning workers would then compete with threads that rayon does not know about.
pub fn keep_awake<R>(f: impl FnOnce() -> R) -> R {
    let Some(caller) = rayon::current_thread_index() else {
        return f();
    };
    let done = AtomicBool::new(false);
    rayon::in_place_scope(|s| {
        for _ in 1..rayon::current_num_threads() {
            let done = &done;
            s.spawn(move |_| {
                // The caller may run a spinner itself (from its own queue, while `f` waits
                // on a join): it must not spin there, since `f` would never resume.
                if rayon::current_thread_index() == Some(caller) {
                    return;
                }
                let mut idle = 0u32;
                while !done.load(Ordering::Acquire) {
                    if matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
                        idle = 0;
                    } else if idle < SPINS_BEFORE_YIELDING {
                        idle += 1;
                        // A pause between polls (≈ 0.3 µs): each poll reads the other
                        // workers' queues, cache lines the thread pushing jobs writes.
                        (0..PAUSES_PER_POLL).for_each(|_| std::hint::spin_loop());
                    } else {
                        // Let another process have the core, if one is waiting for it.
                        std::thread::yield_now();
                    }
                }
            });
        }
        let _stop = Stop(&done);
        f()
    })
}

/// `pause` instructions between two idle polls.
const PAUSES_PER_POLL: u32 = 8;

/// Idle polls (about half a millisecond) before a spinner starts handing its core to the
/// OS scheduler between polls: on a machine shared with other processes, pure spinning would
/// take their cores (and, when they take it back, the step's).
const SPINS_BEFORE_YIELDING: u32 = 1 << 10;

/// Releases the spinners when dropped, so that they stop even if `f` unwinds.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}
