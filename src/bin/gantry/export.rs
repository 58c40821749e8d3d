//! `gantry export`: a run as PyTorch modules, weights and a training script.

use std::path::{Path, PathBuf};

use gantry::gan::export::export as export_run;
use gantry::gan::{TrainConfig, Trainer};

/// Exports the run of `checkpoint` (its weights, optimizer state and step), or the untrained
/// run of `config`, into `to`.
pub fn export(
    checkpoint: Option<&Path>,
    config: Option<&Path>,
    overrides: &[String],
    to: &Path,
) -> Result<(), String> {
    let trainer = match (checkpoint, config) {
        (Some(path), None) => trained(path)?,
        (None, Some(path)) => {
            Trainer::new(TrainConfig::load(path, overrides)?).map_err(|e| e.to_string())?
        }
        _ => return Err("give exactly one of --checkpoint and --config".into()),
    };
    let files: Vec<PathBuf> = export_run(&trainer, to)?;
    println!(
        "exported step {} of {} to {}/ ({} files); see its README.md",
        trainer.step(),
        trainer.config.name,
        to.display(),
        files.len()
    );
    Ok(())
}

/// The trainer of a gantry training checkpoint, restored.
fn trained(path: &Path) -> Result<Trainer, String> {
    let (ck, config) = crate::run::load_checkpoint(path)?;
    let mut trainer = Trainer::new(config).map_err(|e| e.to_string())?;
    trainer
        .restore(&ck)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(trainer)
}
