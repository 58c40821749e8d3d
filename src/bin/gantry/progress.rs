//! The progress display: an indicatif bar on a terminal, periodic lines otherwise.

use std::io::IsTerminal;

use gantry::gan::train::{Evaluation, StepLog};
use indicatif::{ProgressBar, ProgressStyle};

/// Shows training progress; silent with `quiet`.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// A bar over `total` steps starting at `done`, if stderr is a terminal and not `quiet`.
    pub fn new(total: usize, done: usize, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} {msg} [{per_sec}, ETA {eta}]",
            )
            .expect("a valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_position(done as u64);
            bar
        });
        Progress { bar, quiet }
    }

    /// After each step.
    pub fn step(&self, s: &StepLog) {
        if let Some(bar) = &self.bar {
            bar.set_position(s.step as u64);
            if s.step.is_multiple_of(5) {
                bar.set_message(format!("d {:+.3} g {:+.3}", s.d_loss, s.g_loss));
            }
        }
    }

    /// After each evaluation.
    pub fn eval(&self, e: &Evaluation, s: Option<&StepLog>) {
        let mut line = format!("step {}", e.step);
        if let Some(s) = s {
            line += &format!(
                ": d_loss {:+.4}, g_loss {:+.4}, {:.1} s",
                s.d_loss, s.g_loss, s.elapsed_s
            );
        }
        if let Some(m) = &e.mixture {
            line += &format!(
                ", modes {}/{}, high quality {:.1}%",
                m.modes_covered,
                m.n_modes,
                100.0 * m.high_quality_share
            );
        }
        if let Some(w) = e.wasserstein1 {
            line += &format!(", W1 {w:.4}");
        }
        if let Some(i) = &e.images {
            line += &format!(
                ", digits FD {:.3}, classes {}/10",
                i.digits_fd, i.classes_covered
            );
        }
        match &self.bar {
            Some(bar) => bar.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
