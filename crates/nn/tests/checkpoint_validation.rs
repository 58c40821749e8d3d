//! Restoring validates everything before it writes anything: each bad input (missing key,
//! extra key, wrong shape, wrong dtype, truncated or garbage bytes) is an error that names
//! what is wrong, and the module keeps every value it had. Saving is atomic: no temporary
//! file is left behind, and a save into a missing directory fails cleanly.

use std::path::{Path, PathBuf};

use gantry_nn::{
    prefixed, BatchNorm, Checkpoint, CheckpointError, Linear, Module, Named, Sequential,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Linear(3→4) → BatchNorm1d(4) → Linear(4→outputs), with values from `seed`.
fn model<E: gantry_tensor::Element>(outputs: usize, seed: u64) -> Sequential<E> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bn = BatchNorm::new_1d(4);
    bn.running_mean.set(gantry_tensor::Tensor::rand_uniform(
        &[4],
        E::zero(),
        E::one(),
        &mut rng,
    ));
    Sequential::new()
        .add(Linear::new(3, 4, &mut rng))
        .add(bn)
        .add(Linear::new(4, outputs, &mut rng))
}

fn targets<E: gantry_tensor::Element>(m: &Sequential<E>) -> Vec<Named<E>> {
    let mut all = prefixed("model", m.params());
    all.extend(prefixed("model", m.buffers()));
    all
}

fn checkpoint<E: gantry_tensor::Element>(items: &[Named<E>]) -> Checkpoint {
    let mut ck = Checkpoint::new();
    ck.put_all("", items);
    ck
}

fn snapshot(items: &[Named<f32>]) -> Vec<Vec<u32>> {
    let each = items.iter().map(|(_, p)| p.value().to_vec());
    each.map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

/// Restores `ck` into a fresh model (seed 1), expecting an error; checks that the model
/// is unchanged and returns the error.
fn restore_fails(ck: &Checkpoint) -> CheckpointError {
    let m = model::<f32>(2, 1);
    let before = snapshot(&targets(&m));
    let err = ck
        .restore(&targets(&m))
        .expect_err("restore must refuse this checkpoint");
    assert_eq!(
        snapshot(&targets(&m)),
        before,
        "a failed restore changed the model"
    );
    err
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gantry-nn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_matching_checkpoint_restores() {
    let source = targets(&model::<f32>(2, 9));
    let m = model::<f32>(2, 1);
    checkpoint(&source).restore(&targets(&m)).expect("restore");
    assert_eq!(snapshot(&targets(&m)), snapshot(&source));
}

#[test]
fn missing_key_is_named() {
    // Everything but the last key, so a restore that wrote as it went would have written.
    let source = targets(&model::<f32>(2, 9));
    let (last, rest) = source.split_last().unwrap();
    assert_eq!(last.0, "model.1.num_batches_tracked");
    match restore_fails(&checkpoint(rest)) {
        e @ CheckpointError::MissingKey { .. } => {
            let CheckpointError::MissingKey { key } = &e else {
                unreachable!()
            };
            assert_eq!(key, "model.1.num_batches_tracked");
            assert!(
                e.to_string().contains("'model.1.num_batches_tracked'"),
                "{e}"
            );
        }
        other => panic!("expected MissingKey, got {other:?}"),
    }
}

#[test]
fn extra_key_is_named() {
    let mut ck = checkpoint(&targets(&model::<f32>(2, 9)));
    ck.put("model.3.weight", &gantry_tensor::Tensor::<f32>::zeros(&[1]));
    match restore_fails(&ck) {
        e @ CheckpointError::UnexpectedKey { .. } => {
            assert!(e.to_string().contains("'model.3.weight'"), "{e}");
        }
        other => panic!("expected UnexpectedKey, got {other:?}"),
    }
}

#[test]
fn wrong_shape_names_the_key_and_both_shapes() {
    // The last layer has 3 outputs instead of 2: its weight is [3, 4], the model's [2, 4].
    match restore_fails(&checkpoint(&targets(&model::<f32>(3, 9)))) {
        e @ CheckpointError::Shape { .. } => {
            let CheckpointError::Shape {
                key,
                expected,
                found,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(key, "model.2.weight");
            assert_eq!(
                (expected.as_slice(), found.as_slice()),
                (&[2, 4][..], &[3, 4][..])
            );
            let msg = e.to_string();
            for part in ["'model.2.weight'", "[3, 4]", "[2, 4]"] {
                assert!(msg.contains(part), "{msg} lacks {part}");
            }
        }
        other => panic!("expected Shape, got {other:?}"),
    }
}

#[test]
fn wrong_dtype_names_the_key_and_both_dtypes() {
    // Saved from an f64 model, restored into an f32 one (through a file, as in practice).
    let dir = temp_dir("dtype");
    let path = dir.join("f64.safetensors");
    checkpoint(&targets(&model::<f64>(2, 9)))
        .save(&path)
        .expect("save");
    let ck = Checkpoint::load(&path).expect("load");
    std::fs::remove_dir_all(&dir).expect("cleanup");
    match restore_fails(&ck) {
        e @ CheckpointError::Dtype { .. } => {
            let CheckpointError::Dtype {
                key,
                expected,
                found,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(key, "model.0.weight");
            assert_eq!((expected.as_str(), found.as_str()), ("F32", "F64"));
            let msg = e.to_string();
            for part in ["'model.0.weight'", "F32", "F64"] {
                assert!(msg.contains(part), "{msg} lacks {part}");
            }
        }
        other => panic!("expected Dtype, got {other:?}"),
    }
}

#[test]
fn a_tensor_of_another_dtype_is_refused_on_load() {
    // A valid safetensors file holding an I64 tensor (PyTorch's num_batches_tracked).
    let data = 3i64.to_le_bytes();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![], &data).expect("view");
    let bytes = safetensors::serialize([("bn.num_batches_tracked", view)], &None).expect("bytes");
    match Checkpoint::from_bytes(&bytes) {
        Err(e @ CheckpointError::Dtype { .. }) => {
            assert!(e.to_string().contains("'bn.num_batches_tracked'"), "{e}");
            assert!(e.to_string().contains("I64"), "{e}");
        }
        other => panic!("expected Dtype, got {other:?}"),
    }
}

#[test]
fn truncated_files_are_format_errors() {
    let dir = temp_dir("truncated");
    let good = dir.join("good.safetensors");
    checkpoint(&targets(&model::<f32>(2, 9)))
        .save(&good)
        .expect("save");
    let bytes = std::fs::read(&good).expect("read");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    // Cut inside the data, at the end of the header, inside the header, inside the length.
    for cut in [
        bytes.len() - 1,
        bytes.len() - 4,
        8 + header_len,
        8 + header_len / 2,
        5,
        0,
    ] {
        let path = dir.join(format!("cut-{cut}.safetensors"));
        std::fs::write(&path, &bytes[..cut]).expect("write");
        match Checkpoint::load(&path) {
            Err(e @ CheckpointError::Format { .. }) => {
                assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
            }
            other => panic!("cut at {cut}: expected Format, got {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn garbage_bytes_are_format_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let random: Vec<u8> = (0..256).map(|_| rng.gen()).collect();
    let mut bad_json = 12u64.to_le_bytes().to_vec();
    bad_json.extend(b"{not json!!}");
    let mut not_an_object = 4u64.to_le_bytes().to_vec();
    not_an_object.extend(b"[1] ");
    let mut huge_header = u64::MAX.to_le_bytes().to_vec();
    huge_header.extend(b"{}");
    let cases: [(&str, &[u8]); 5] = [
        ("text", b"this is not a safetensors checkpoint at all"),
        ("random", &random),
        ("bad json", &bad_json),
        ("not an object", &not_an_object),
        ("huge header", &huge_header),
    ];
    for (what, bytes) in cases {
        match Checkpoint::from_bytes(bytes) {
            Err(CheckpointError::Format { .. }) => {}
            other => panic!("{what}: expected Format, got {other:?}"),
        }
    }
}

#[test]
fn loading_a_missing_file_names_it() {
    let path = std::env::temp_dir().join(format!("gantry-nn-{}-absent", std::process::id()));
    match Checkpoint::load(&path) {
        Err(e @ CheckpointError::Io { .. }) => {
            assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn save_is_atomic_and_leaves_no_temporary_file() {
    let dir = temp_dir("atomic");
    let path = dir.join("ck.safetensors");
    let first = checkpoint(&targets(&model::<f32>(2, 9)));
    first.save(&path).expect("save");
    assert_eq!(files_in(&dir), ["ck.safetensors"]);
    // Overwriting replaces the file whole.
    let second = checkpoint(&targets(&model::<f32>(2, 10)));
    assert_ne!(first, second);
    second.save(&path).expect("save again");
    assert_eq!(files_in(&dir), ["ck.safetensors"]);
    assert_eq!(Checkpoint::load(&path).expect("load"), second);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn saving_into_a_missing_directory_fails_cleanly() {
    let dir = std::env::temp_dir().join(format!("gantry-nn-{}-no-such-dir", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("ck.safetensors");
    match checkpoint(&targets(&model::<f32>(2, 9))).save(&path) {
        Err(e @ CheckpointError::Io { .. }) => {
            assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(!dir.exists(), "a failed save created {dir:?}");
}
