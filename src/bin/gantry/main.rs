//! The `gantry` command line: `demo` (the default), `train`, `configs`, `sample`, `bench`.

mod bench;
mod configs;
mod progress;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gantry: train small GANs on a CPU.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// WGAN-GP on 8 Gaussians on a ring (the default): trains in under a minute and writes
    /// samples.png, critic.png, losses.png, log.jsonl and a checkpoint to runs/demo/.
    Demo {
        /// Output directory.
        #[arg(long, default_value = "runs/demo")]
        out: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Trains a GAN from a TOML config (see configs/).
    Train {
        /// The config file, or the name of a standard config (`gantry configs` lists them).
        #[arg(long)]
        config: PathBuf,
        /// Overrides a config value, e.g. `--set steps=500 --set optim.g_lr=2e-4`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Output directory (default: runs/<config name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue from the checkpoint in the output directory.
        #[arg(long)]
        resume: bool,
        /// With --resume: continue even if the config differs from the checkpoint's (other
        /// than steps and the logging, evaluation and checkpoint intervals).
        #[arg(long, requires = "resume")]
        allow_config_change: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Lists the standard configs: name, what it reproduces, its measured outcome.
    Configs,
    /// Draws samples from a checkpoint into a PNG (an image grid, or a scatter plot for 2-D data).
    Sample {
        /// A checkpoint written by `gantry train` or `gantry demo`.
        #[arg(long)]
        checkpoint: PathBuf,
        /// How many samples.
        #[arg(long, default_value_t = 64)]
        n: usize,
        /// The PNG file to write.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the latent noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Times the standard workloads; prints one JSON line each (ms per iteration, median).
    Bench {
        /// A workload name (toy-wgangp, mlp-ns, dcgan-sn-hinge, dcgan-wgangp), a comma-separated list of them (run in order, in one process), or `all`.
        #[arg(long, default_value = "all")]
        workload: String,
        /// Timed iterations per workload.
        #[arg(long, default_value_t = 20)]
        iters: usize,
        /// Untimed warm-up iterations.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
    },
}

/// Keeps freed memory in the process for reuse. By default glibc hands blocks above a
/// (slowly adapting) threshold back to the OS at once, so the large, short-lived tensors of
/// every training step would be page-faulted in and zeroed anew each time; profiles showed
/// that kernel work at 10–20% of a step.
///
/// One arena: the training thread is a rayon worker, so with more arenas its tensors live in
/// a secondary arena, built of 64 MiB mmapped heaps that glibc unmaps as soon as one is
/// wholly free, whatever the trim threshold. A step that frees its last heap at the end then
/// faults it in again at the start: dcgan-wgangp did 787 page faults per step alone and
/// 16 600 (65 MB) after dcgan-sn-hinge in the same process, which made it 15–25% slower.
/// The main arena (brk) follows the trim threshold: 0 faults per step in both cases. The
/// threads hardly contend for it: the parallel kernels write into buffers allocated before
/// they start.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Demo {
        out: "runs/demo".into(),
        quiet: false,
    });
    // The command runs on one of rayon's worker threads, so each parallel kernel starts on
    // the thread that calls it (the other worker steals half) instead of being handed to a
    // sleeping pool while the calling thread waits.
    let result = rayon::scope(|_| run_command(command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_command(command: Command) -> Result<(), String> {
    match command {
        Command::Demo { out, quiet } => run::demo(&out, quiet),
        Command::Train {
            config,
            overrides,
            out,
            resume,
            allow_config_change,
            quiet,
        } => run::train(
            &config,
            &overrides,
            out,
            (resume, allow_config_change),
            quiet,
        ),
        Command::Configs => {
            configs::list();
            Ok(())
        }
        Command::Sample {
            checkpoint,
            n,
            out,
            seed,
        } => run::sample(&checkpoint, n, &out, seed),
        Command::Bench {
            workload,
            iters,
            warmup,
        } => bench::bench(&workload, iters, warmup),
    }
}
