//! `keep_awake` changes only the waiting: results are those of the closure, nested
//! parallel work completes, a panic stops the spinners, and outside a pool it is a plain
//! call.

use std::sync::atomic::{AtomicUsize, Ordering};

use gantry_tensor::workers::keep_awake;
use gantry_tensor::Tensor;
use rayon::prelude::*;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// Parallel kernels of every kind the trainer uses, with joins nested inside them.
fn parallel_work() -> Vec<f32> {
    let a = Tensor::<f32>::from_vec(
        (0..300 * 257).map(|i| (i % 17) as f32).collect(),
        &[300, 257],
    );
    let b = Tensor::<f32>::from_vec(
        (0..257 * 200).map(|i| (i % 13) as f32).collect(),
        &[257, 200],
    );
    let c = a.matmul(&b).tanh().sum_axes(&[0], false);
    let nested: Vec<f32> = (0..64)
        .into_par_iter()
        .map(|i| {
            let (x, y) = rayon::join(|| i as f32, || (2 * i) as f32);
            x + y
        })
        .collect();
    [c.to_vec(), nested].concat()
}

#[test]
fn results_are_the_closures_on_a_pool_and_off_it() {
    let expected = parallel_work();
    let two = pool(2);
    for _ in 0..20 {
        assert_eq!(two.install(|| keep_awake(parallel_work)), expected);
    }
    // Outside any pool it is a plain call.
    assert_eq!(keep_awake(parallel_work), expected);
    assert_eq!(pool(1).install(|| keep_awake(|| 7)), 7);
}

#[test]
fn spinners_run_the_jobs_queued_while_they_spin() {
    let two = pool(2);
    let ran_elsewhere = AtomicUsize::new(0);
    two.install(|| {
        let me = rayon::current_thread_index();
        keep_awake(|| {
            // Jobs spawned into the pool while the caller is busy: only the other worker,
            // which is spinning, can run them before the caller reaches the scope's end.
            rayon::scope(|s| {
                for _ in 0..100 {
                    s.spawn(|_| {
                        if rayon::current_thread_index() != me {
                            ran_elsewhere.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                let t0 = std::time::Instant::now();
                while ran_elsewhere.load(Ordering::Relaxed) == 0 && t0.elapsed().as_secs() < 10 {
                    std::hint::spin_loop();
                }
            });
        });
    });
    assert!(ran_elsewhere.load(Ordering::Relaxed) > 0);
}

/// (Were the spinners not released on unwinding, `keep_awake` would never return here: the
/// test would hang rather than fail.)
#[test]
fn a_panic_inside_stops_the_spinners() {
    let two = pool(2);
    let caught =
        two.install(|| std::panic::catch_unwind(|| keep_awake(|| panic!("inside keep_awake"))));
    assert!(caught.is_err());
    // Had a spinner kept running, this would wait for the worker it holds forever.
    let (x, y) = two.install(|| rayon::join(|| 1, || 2));
    assert_eq!((x, y), (1, 2));
    assert_eq!(two.install(|| keep_awake(parallel_work)), parallel_work());
}
