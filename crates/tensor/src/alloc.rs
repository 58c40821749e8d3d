//! Allocation policy: allocator tuning for a training loop (one call at the start of
//! `main`), and [`try_vec`], the fallible buffer for sizes that come from a user.
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

/// A buffer the allocator could not give: `count` items of `item_bytes` bytes each.
///
/// Sizes that come from a user reach the allocator through [`try_vec`], so a request that
/// cannot be served is this error, where `Vec::with_capacity` would abort the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocError {
    /// How many items were asked for (`u128`: a product of user sizes may exceed `usize`).
    pub count: u128,
    /// Bytes of one item.
    pub item_bytes: usize,
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot allocate {} bytes ({} values of {} bytes): not enough memory",
            self.count * self.item_bytes as u128,
            self.count,
            self.item_bytes
        )
    }
}

impl std::error::Error for AllocError {}

/// An empty vector with room for `rows × per_row` items, or the error if that product
/// overflows or the allocator refuses it (`try_reserve_exact`, never an abort).
pub fn try_vec<T>(rows: usize, per_row: usize) -> Result<Vec<T>, AllocError> {
    let error = AllocError {
        count: rows as u128 * per_row as u128,
        item_bytes: std::mem::size_of::<T>(),
    };
    let count = rows.checked_mul(per_row).ok_or(error.clone())?;
    let mut v = Vec::new();
    v.try_reserve_exact(count).map_err(|_| error)?;
    Ok(v)
}
