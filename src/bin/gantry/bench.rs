//! `gantry bench`: the standard workloads, one JSON line each, in the format of
//! `shared/peers/torch_gan_steps.py`.

use std::time::Instant;

use gantry::gan::workloads::{trainer, NAMES};

pub fn bench(which: &str, iters: usize, warmup: usize) -> Result<(), String> {
    let names: Vec<&str> = if which == "all" {
        NAMES.to_vec()
    } else {
        vec![which]
    };
    if iters == 0 {
        return Err("--iters must be at least 1".into());
    }
    for name in names {
        let mut t = trainer(name).ok_or_else(|| {
            format!(
                "unknown workload '{name}' (expected one of {} or all)",
                NAMES.join(", ")
            )
        })?;
        let started = Instant::now();
        for _ in 0..warmup {
            t.train_step(started).map_err(|e| e.to_string())?;
        }
        let mut ms: Vec<f64> = (0..iters)
            .map(|_| {
                let t0 = Instant::now();
                t.train_step(started)
                    .map(|_| t0.elapsed().as_secs_f64() * 1e3)
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        ms.sort_by(f64::total_cmp);
        // The PyTorch script's keys and order, so the two outputs line up.
        let median = ms[ms.len() / 2];
        let threads = rayon::current_num_threads();
        let peer = concat!("gantry-", env!("CARGO_PKG_VERSION"));
        let line = format!(
            r#"{{"peer": "{peer}", "threads": {threads}, "workload": "{name}", "ms_per_iter": {median:.3}, "n": {iters}}}"#
        );
        println!("{line}");
    }
    Ok(())
}
