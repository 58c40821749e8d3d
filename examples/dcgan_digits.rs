//! A spectrally normalized DCGAN trained with the hinge loss on the bundled 8x8 digits,
//! judged by digits FD before and after.
//!
//! The math and the sources are in `src/lessons/dcgan_digits.rs` (Miyato et al. 2018;
//! Lim & Ye 2017; Radford et al. 2016).
//!
//! Run: `cargo run --release --example dcgan_digits`
//! Writes `runs/examples/dcgan_digits/{samples,real}.png`.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use gantry::gan::data::digits::Digits;
use gantry::gan::metrics::digits_judge::ImageReport;
use gantry::gan::plot::image_grid;
use gantry::lessons::dcgan_digits::{self, EVAL_IMAGES};

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let steps = 1000;
    let out = Path::new("runs/examples/dcgan_digits");
    std::fs::create_dir_all(out)?;
    println!("SN-DCGAN (c = 32, every critic layer spectrally normalized), hinge loss, batch 64,");
    println!("Adam(2e-4, (0, 0.9)), {steps} steps on the 1797 bundled 8x8 digits.\n");
    let report = dcgan_digits::run(dcgan_digits::config(steps))?;
    println!(
        "  judge: held-out accuracy {:.1}%; digits FD on {EVAL_IMAGES} images each\n",
        100.0 * report.judge_accuracy
    );
    println!("  {:<30} {:>10} {:>16}", "", "digits FD", "classes ≥ 1%");
    let row = |name: &str, r: &ImageReport| {
        println!(
            "  {:<30} {:>10.3} {:>16}",
            name, r.digits_fd, r.classes_covered
        )
    };
    row("untrained generator", &report.before);
    row(&format!("after {} steps", report.steps), &report.after);
    println!(
        "  {:<30} {:>10.3} {:>16}",
        "real vs real (the floor)", report.fd_real, 10
    );
    println!(
        "\n  class histogram of the samples: {:?}",
        report.after.class_histogram
    );
    println!("  training took {:.1} s", report.train_seconds);
    image_grid(&report.samples, 8, 4, out.join("samples.png"))?;
    let real = Digits::load()?.images.narrow(0, 0, 64);
    image_grid(&real, 8, 4, out.join("real.png"))?;
    println!(
        "\nwrote {}/samples.png (and real.png for comparison) in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
