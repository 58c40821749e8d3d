//! The `gantry` command line: `demo` (the default), `train`, `configs`, `sample`, `eval`,
//! `interpolate`, `export`, `reproduce`, `bench`.

mod bench;
mod configs;
mod eval;
mod export;
mod interpolate;
mod progress;
mod reproduce;
mod results;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gantry::gan::train::memory::Budget;

/// gantry: train small GANs on a CPU.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The most memory a run may need, e.g. `512M`, `4G` (default: GANTRY_MAX_MEMORY, else
    /// MemAvailable in /proc/meminfo). Sizes that need more are refused before allocating.
    #[arg(long, global = true, value_name = "BYTES")]
    max_memory: Option<String>,
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
        /// Start from these networks' weights (a generator*.safetensors, critic*.safetensors or
        /// generator_ema*.safetensors file, e.g. written by an export's train.py, or a
        /// directory holding them); may be repeated.
        #[arg(long = "init-from", value_name = "FILE|DIR", conflicts_with = "resume")]
        init_from: Vec<PathBuf>,
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
        /// Draw only this class (conditional models; by default row r of the grid shows
        /// class r mod K).
        #[arg(long)]
        class: Option<u32>,
    },
    /// Measures a checkpoint's generator on image data: FD, KID, precision/recall,
    /// density/coverage on the features of a network trained by gantry on the data, each
    /// beside its real-vs-real floor; prints one JSON line.
    Eval {
        /// A checkpoint written by `gantry train`.
        #[arg(long)]
        checkpoint: PathBuf,
        /// How many samples.
        #[arg(long, default_value_t = 10000)]
        n: usize,
        /// Sample from the moving average of the generator (config `ema`).
        #[arg(long)]
        ema: bool,
        /// Seed of the latent noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also writes the JSON line to this file (atomically: the old file, or none, until
        /// the new one is complete).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Draws rows of spherical interpolations between random latents as an image grid (a
    /// conditional model keeps one class per row).
    Interpolate {
        /// A checkpoint written by `gantry train` (of an image model).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The PNG to write.
        #[arg(long)]
        out: PathBuf,
        /// Interpolations (rows of the grid).
        #[arg(long, default_value_t = 8)]
        rows: usize,
        /// Images per interpolation, both ends included.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Seed of the latents.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Conditional models: each row keeps one latent and walks from class r to class
        /// r + 1 (mod the class count) instead.
        #[arg(long)]
        across_classes: bool,
    },
    /// Writes a run as PyTorch: models.py, the weights as safetensors, train.py (the same
    /// training, also under torchrun with DistributedDataParallel) and a README.
    Export {
        /// A checkpoint written by `gantry train` (continues from its step).
        #[arg(long, conflicts_with = "config")]
        checkpoint: Option<PathBuf>,
        /// A config (exports the untrained run).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Overrides a config value (with --config).
        #[arg(long = "set", value_name = "KEY=VALUE", requires = "config")]
        overrides: Vec<String>,
        /// The directory to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Runs the standard configs, writes one JSON record per (config, seed) to results/,
    /// and regenerates README.md's results tables and each config header's "Measured"
    /// block from every record there.
    Reproduce(reproduce::Options),
    /// Times the standard workloads; prints one JSON line each (ms per iteration, median).
    Bench {
        /// A workload name (toy-wgangp, mlp-ns, dcgan-sn-hinge, dcgan-wgangp, fashion-sn-hinge), a comma-separated list of them (run in order, in one process), or `all`.
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

fn main() -> ExitCode {
    // Freed tensors stay in the process for the next step (see the function's documentation).
    gantry::tensor::alloc::keep_freed_memory();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Demo {
        out: "runs/demo".into(),
        quiet: false,
    });
    // The command runs on one of rayon's worker threads, so each parallel kernel starts on
    // the thread that calls it (the other worker steals half) instead of being handed to a
    // sleeping pool while the calling thread waits.
    let result = run::budget(cli.max_memory.as_deref())
        .and_then(|budget| rayon::scope(|_| run_command(command, &budget)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_command(command: Command, budget: &Budget) -> Result<(), String> {
    match command {
        Command::Demo { out, quiet } => run::demo(&out, quiet, budget),
        Command::Train {
            config,
            overrides,
            out,
            resume,
            init_from,
            allow_config_change,
            quiet,
        } => run::train(
            &config,
            &overrides,
            out,
            (resume, allow_config_change),
            &init_from,
            quiet,
            budget,
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
            class,
        } => run::sample(&checkpoint, n, &out, seed, class, budget),
        Command::Eval {
            checkpoint,
            n,
            ema,
            seed,
            out,
        } => eval::eval(&checkpoint, n, ema, seed, out.as_deref(), budget),
        Command::Interpolate {
            checkpoint,
            out,
            rows,
            steps,
            seed,
            across_classes,
        } => interpolate::interpolate(&checkpoint, &out, (rows, steps), seed, across_classes),
        Command::Export {
            checkpoint,
            config,
            overrides,
            to,
        } => export::export(checkpoint.as_deref(), config.as_deref(), &overrides, &to),
        Command::Bench {
            workload,
            iters,
            warmup,
        } => bench::bench(&workload, iters, warmup),
        Command::Reproduce(options) => reproduce::reproduce(&options, budget),
    }
}
