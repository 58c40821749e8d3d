//! Fuzzing, with proptest, of every parser of outside data in gantry-gan: IDX images and
//! labels (raw and gzipped, and labels checked against their images), the PNG decoding of
//! image folders, the TOML training config (and its `--set` overrides), and the digits CSV. Inputs are random bytes and valid inputs mutated by bit flips, truncations,
//! inserted and removed bytes and huge numbers in headers and fields. No parser may panic,
//! hang, or allocate more than a small multiple of its input (a counting global allocator
//! records the largest single allocation of each call); what a parser accepts must be
//! consistent (shapes, value ranges, a config that validates and survives `to_toml`).
//!
//! The default run tries 2000 cases per target (a few seconds). The long run reads the case
//! count from `GANTRY_FUZZ_CASES` (default 1 000 000) and prints each target's rate:
//!
//! ```sh
//! GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use flate2::read::{GzDecoder, MultiGzDecoder};
use flate2::write::GzEncoder;
use flate2::Compression;
use gantry_gan::data::digits::Digits;
use gantry_gan::data::folder::decode_image;
use gantry_gan::data::idx::{load_idx_images, parse_idx_images, parse_idx_labels, parse_idx_set};
use gantry_gan::train::config::TrainConfig;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};

/// Cases per target in the default (fast) run.
const DEFAULT_CASES: u32 = 2000;

/// Longest a single parse may take: these inputs are at most a few kilobytes.
const TIME_BOUND: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// The largest single allocation made by the current thread, recorded by the global allocator.

/// The system allocator, recording the largest request of each thread.
struct PeakAlloc;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: allocations during thread teardown must not panic.
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Runs `f`, returning its result, the largest single allocation it made and its duration.
/// A call slower than [`TIME_BOUND`] is repeated (up to 3 times, keeping the fastest): on a
/// shared machine a thread can be descheduled for a second, and only a parse that is slow
/// every time is a hang.
fn measured<T>(f: impl Fn() -> T) -> (T, usize, Duration) {
    let once = || {
        LARGEST.with(|c| c.set(0));
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        (out, LARGEST.with(Cell::get), took)
    };
    let mut best = once();
    for _ in 0..3 {
        if best.2 < TIME_BOUND {
            break;
        }
        let again = once();
        best = (again.0, best.1.max(again.1), best.2.min(again.2));
    }
    best
}

/// The most a parse of `len` bytes may allocate at once: a few copies of the input (an f32
/// image tensor is 4 bytes per input byte; buffers grow by doubling) plus a constant for
/// the decompressor's window and the TOML parser's tables.
fn allocation_bound(len: usize) -> usize {
    16 * len + (1 << 20)
}

/// Fails unless the parse was quick and its allocations stayed within the bound for `len`.
fn check_cost(len: usize, largest: usize, took: Duration) -> Result<(), TestCaseError> {
    prop_assert!(took < TIME_BOUND, "parsing {len} bytes took {took:?}");
    prop_assert!(
        largest <= allocation_bound(len),
        "parsing {len} bytes allocated {largest} bytes at once"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Mutations.

/// Numbers that break naive size arithmetic or range checks, as text.
const HUGE_TEXT: &[&str] = &[
    "0",
    "-1",
    "17",
    "256",
    "4294967296",
    "1000000000000",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999999",
    "1e308",
    "1e400",
    "-0.0",
    "nan",
    "inf",
    "1.5",
];

/// Integers that break naive size arithmetic, written as raw bytes.
const HUGE_INTS: &[u64] = &[
    0,
    1,
    u32::MAX as u64,
    1 << 31,
    (1 << 31) + 1,
    1_000_000,
    1_000_000_000_000,
    u64::MAX,
];

/// One change to an input.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flips bit `bit` of the byte at `at`.
    FlipBit { at: usize, bit: u8 },
    /// Keeps only the first `len` bytes.
    Truncate { len: usize },
    /// Inserts bytes at `at`.
    Insert { at: usize, bytes: Vec<u8> },
    /// Removes `len` bytes from `at`.
    Remove { at: usize, len: usize },
    /// Overwrites 4 bytes at `at` with the low 32 bits of a huge integer, big-endian (as
    /// an IDX dimension) or little-endian.
    HugeU32 {
        at: usize,
        value: u64,
        big_endian: bool,
    },
    /// Sets IDX header dimension `dim` (big-endian u32 at byte 4 + 4·dim).
    IdxDim { dim: usize, value: u64 },
    /// Replaces the run of ASCII digits at or after `at` with a huge number.
    HugeNumber { at: usize, text: &'static str },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        2 => (any::<usize>(), vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..32).prop_map(|(at, len)| Mutation::Remove { at, len }),
        1 => (any::<usize>(), prop::sample::select(HUGE_INTS), any::<bool>())
            .prop_map(|(at, value, big_endian)| Mutation::HugeU32 { at, value, big_endian }),
        1 => (0usize..3, prop::sample::select(HUGE_INTS))
            .prop_map(|(dim, value)| Mutation::IdxDim { dim, value }),
        3 => (any::<usize>(), prop::sample::select(HUGE_TEXT))
            .prop_map(|(at, text)| Mutation::HugeNumber { at, text }),
    ]
}

/// Applies the mutations in order (positions are taken modulo the current length).
fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len();
        match m {
            Mutation::FlipBit { at, bit } if n > 0 => bytes[at % n] ^= 1 << bit,
            Mutation::Truncate { len } => bytes.truncate(len % (n + 1)),
            Mutation::Insert { at, bytes: new } => {
                let at = at % (n + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Remove { at, len } if n > 0 => {
                let at = at % n;
                bytes.drain(at..(at + len).min(n));
            }
            Mutation::HugeU32 {
                at,
                value,
                big_endian,
            } if n >= 4 => {
                let at = at % (n - 3);
                let v = *value as u32;
                let b = if *big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                bytes[at..at + 4].copy_from_slice(&b);
            }
            Mutation::IdxDim { dim, value } if n >= 8 + 4 * dim => {
                let at = 4 + 4 * dim;
                bytes[at..at + 4].copy_from_slice(&(*value as u32).to_be_bytes());
            }
            Mutation::HugeNumber { at, text } if n > 0 => {
                let start = (0..n)
                    .map(|i| (at % n + i) % n)
                    .find(|&i| bytes[i].is_ascii_digit());
                if let Some(start) = start {
                    let end = (start..n)
                        .find(|&i| !bytes[i].is_ascii_digit())
                        .unwrap_or(n);
                    bytes.splice(start..end, text.bytes());
                }
            }
            _ => {}
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..6)
}

// ---------------------------------------------------------------------------------------
// The runner.

/// Runs `test` on `cases` inputs from `strategy` (a fixed seed, so a failure reproduces),
/// prints the rate and how many inputs the parser accepted, and panics with the smallest
/// failing input. `test` returns whether its input was accepted.
fn fuzz<S>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let accepted = Cell::new(0u64);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6A47_7259),
        max_shrink_iters: 100_000,
        ..ProptestConfig::default()
    };
    let start = Instant::now();
    let result = TestRunner::new(config).run(&strategy, |input| {
        let ok = test(input)?;
        accepted.set(accepted.get() + u64::from(ok));
        Ok(())
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz {name}: {cases} cases in {secs:.1} s ({:.0} cases/s), {} accepted",
        f64::from(cases) / secs,
        accepted.get()
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}

/// The case count of the long run: `GANTRY_FUZZ_CASES`, or a million.
fn long_cases() -> u32 {
    std::env::var("GANTRY_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

// ---------------------------------------------------------------------------------------
// IDX.

fn idx(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(values);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Valid raw IDX files: images `[n, h, w]` and labels `[n]`.
fn idx_seeds() -> Vec<Vec<u8>> {
    let pixels: Vec<u8> = (0..=255u8).cycle().take(3 * 5 * 4).collect();
    vec![
        idx(0x803, &[3, 5, 4], &pixels),
        idx(0x803, &[1, 1, 1], &[7]),
        idx(0x801, &[6], &[0, 1, 2, 3, 9, 255]),
        idx(0x801, &[1], &[4]),
    ]
}

/// Random bytes, or a valid file mutated, then perhaps gzipped, then perhaps mutated again
/// (so both the header checks behind the decompressor and the decompressor itself are hit).
fn idx_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..128),
        1 => vec(any::<u8>(), 0..64).prop_map(|b| gzip(&b)),
        6 => (
            prop::sample::select(idx_seeds()),
            mutations(),
            any::<bool>(),
            prop::option::weighted(0.3, mutations()),
        )
            .prop_map(|(seed, before, zip, after)| {
                let raw = mutate(seed, &before);
                let bytes = if zip { gzip(&raw) } else { raw };
                match after {
                    Some(ms) => mutate(bytes, &ms),
                    None => bytes,
                }
            }),
    ]
}

/// How many bytes a gzipped input inflates to (read with a cap), 0 for raw input: the
/// allocation bound scales with what the decompressor legitimately produces.
fn inflated_len(bytes: &[u8]) -> usize {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return 0;
    }
    let mut out = Vec::new();
    let _ = MultiGzDecoder::new(bytes)
        .take(1 << 24)
        .read_to_end(&mut out);
    out.len()
}

fn check_idx(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let len = bytes.len() + inflated_len(bytes);
    let ((images, labels), largest, took) =
        measured(|| (parse_idx_images(bytes), parse_idx_labels(bytes)));
    check_cost(len, largest, took)?;
    if let Ok(images) = &images {
        let s = images.shape();
        prop_assert!(
            s.len() == 4 && s[1] == 1 && s.iter().all(|&d| d > 0),
            "{s:?}"
        );
        prop_assert_eq!(images.len(), s.iter().product::<usize>());
        prop_assert!(images.to_vec().iter().all(|v| (-1.0..=1.0).contains(v)));
    }
    if let Ok(labels) = &labels {
        prop_assert!(!labels.is_empty());
    }
    Ok(images.is_ok() || labels.is_ok())
}

#[test]
fn idx_parsers_survive_random_and_mutated_bytes() {
    fuzz("idx", DEFAULT_CASES, idx_input(), |b| check_idx(&b));
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture"]
fn idx_parsers_long_fuzz() {
    fuzz("idx", long_cases(), idx_input(), |b| check_idx(&b));
}

#[test]
fn idx_header_claiming_a_trillion_values_is_rejected_without_allocating() {
    let claims: [&[u32]; 3] = [
        &[1_000_000, 1_000, 1_000],      // 10^12 values
        &[u32::MAX, u32::MAX, u32::MAX], // 2^96
        &[32_768, 256, 256],             // exactly 2^31: allowed, but absent
    ];
    for dims in claims {
        let raw = idx(0x803, dims, &[1, 2, 3, 4]);
        for (bytes, how) in [(raw.clone(), "raw"), (gzip(&raw), "gzipped")] {
            let (result, largest, took) = measured(|| parse_idx_images(&bytes));
            assert!(result.is_err(), "{how} {dims:?} accepted");
            assert!(took < TIME_BOUND, "{how} {dims:?}: rejecting took {took:?}");
            assert!(
                largest < 1 << 20,
                "{how} {dims:?}: allocated {largest} bytes at once"
            );
        }
    }
    let labels = idx(0x801, &[u32::MAX], &[1, 2, 3]);
    let labels = gzip(&labels);
    let (result, largest, took) = measured(|| parse_idx_labels(&labels));
    assert!(result.is_err() && took < TIME_BOUND && largest < 1 << 20);

    // Through a file too (the loader compares the header with the file's length).
    let dir = std::env::temp_dir().join(format!("gantry-fuzz-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge-images-idx3-ubyte");
    std::fs::write(&path, idx(0x803, &[1_000_000, 1_000, 1_000], &[0; 64])).unwrap();
    let (result, largest, took) = measured(|| load_idx_images(&path));
    let message = result
        .expect_err("a file claiming 10^12 values")
        .to_string();
    assert!(message.contains("huge-images-idx3-ubyte"), "{message}");
    assert!(
        took < TIME_BOUND && largest < 1 << 20,
        "{took:?}, {largest} bytes"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// IDX labels checked against their images.

/// Three 2x2 images; label files are drawn against them.
fn three_images() -> Vec<u8> {
    idx(
        0x803,
        &[3, 2, 2],
        &[0, 64, 128, 255, 1, 2, 3, 4, 9, 8, 7, 6],
    )
}

/// A mutated (perhaps gzipped) label file for [`three_images`], and a class count.
fn labels_input() -> impl Strategy<Value = (Vec<u8>, Option<usize>)> {
    let seeds = vec![
        idx(0x801, &[3], &[0, 1, 2]),
        idx(0x801, &[3], &[9, 9, 255]),
        idx(0x801, &[2], &[1, 1]),
    ];
    (
        prop::sample::select(seeds),
        mutations(),
        any::<bool>(),
        prop::option::of(0usize..300),
    )
        .prop_map(|(seed, ms, zip, classes)| {
            let raw = mutate(seed, &ms);
            (if zip { gzip(&raw) } else { raw }, classes)
        })
}

fn check_labels((bytes, classes): (Vec<u8>, Option<usize>)) -> Result<bool, TestCaseError> {
    let images = three_images();
    let len = images.len() + bytes.len() + inflated_len(&bytes);
    let (result, largest, took) = measured(|| parse_idx_set(&images, Some(&bytes), classes));
    check_cost(len, largest, took)?;
    if let Ok(set) = &result {
        let labels = set.labels.as_ref().expect("labelled");
        prop_assert_eq!(labels.len(), 3);
        prop_assert!(labels.iter().all(|&l| (l as usize) < set.num_classes));
        if let Some(k) = classes {
            prop_assert_eq!(set.num_classes, k);
        }
    }
    Ok(result.is_ok())
}

#[test]
fn idx_labels_against_images_survive_mutated_label_files() {
    fuzz("idx-labels", DEFAULT_CASES, labels_input(), check_labels);
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture"]
fn idx_labels_long_fuzz() {
    fuzz("idx-labels", long_cases(), labels_input(), check_labels);
}

// ---------------------------------------------------------------------------------------
// PNG files of an image folder.

/// Valid PNGs of every mode an image folder converts: grey, grey 16-bit, RGB, RGBA, of
/// square and oblong sizes.
fn png_seeds() -> Vec<Vec<u8>> {
    let encode = |image: image::DynamicImage| {
        let mut bytes = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    };
    let grey = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([(x * 30 + y) as u8]));
    let grey16 = image::ImageBuffer::from_fn(5, 3, |x, y| image::Luma([(x * 9000 + y) as u16]));
    let rgb = image::RgbImage::from_fn(6, 9, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let rgba = image::RgbaImage::from_fn(4, 4, |x, y| image::Rgba([x as u8, 1, y as u8, 90]));
    vec![
        encode(grey.into()),
        encode(image::DynamicImage::ImageLuma16(grey16)),
        encode(rgb.into()),
        encode(rgba.into()),
    ]
}

/// Random bytes, or a valid PNG mutated, decoded to 1 or 3 channels.
fn png_input() -> impl Strategy<Value = (Vec<u8>, usize)> {
    let bytes = prop_oneof![
        1 => vec(any::<u8>(), 0..128),
        8 => (prop::sample::select(png_seeds()), mutations())
            .prop_map(|(seed, ms)| mutate(seed, &ms)),
    ];
    (bytes, prop::sample::select(vec![1usize, 3]))
}

/// The most the PNG decoder may allocate for an input: what the image's header declares
/// is allocated before the pixel data is read, and a mutated header is only refused once
/// it passes the decoder's limit ([`gantry_gan::data::folder::MAX_SIDE`] per side, 512 MiB
/// in all).
const PNG_ALLOCATION_BOUND: usize = 512 << 20;

fn check_png((bytes, channels): (Vec<u8>, usize)) -> Result<bool, TestCaseError> {
    let (result, largest, took) = measured(|| decode_image(&bytes, "fuzz.png", 8, channels));
    prop_assert!(
        took < TIME_BOUND,
        "decoding {} bytes took {took:?}",
        bytes.len()
    );
    prop_assert!(
        largest <= PNG_ALLOCATION_BOUND,
        "allocated {largest} bytes at once"
    );
    match &result {
        Ok(pixels) => prop_assert_eq!(pixels.len(), channels * 8 * 8),
        Err(e) => {
            let text = e.to_string();
            prop_assert!(
                text.starts_with("fuzz.png: ") && !text.contains('\n'),
                "{}",
                text
            );
        }
    }
    Ok(result.is_ok())
}

#[test]
fn png_decoding_survives_random_and_mutated_bytes() {
    fuzz("png", DEFAULT_CASES, png_input(), check_png);
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture"]
fn png_decoding_long_fuzz() {
    fuzz("png", long_cases(), png_input(), check_png);
}

// ---------------------------------------------------------------------------------------
// TOML config.

const TINY: &str = r#"
name = "tiny"
seed = 7
steps = 60
batch_size = 32
n_critic = 2
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
ema = 0.99
checkpoint_every = 2
eval_samples = 200

[data]
name = "ring8"
scale = 0.5

[model]
kind = "mlp"
z_dim = 2
g_hidden = [16]
d_hidden = [16]

[optim]
g_lr = 1e-3
d_lr = 1e-3
schedule = "linear"
"#;

const DIGITS: &str = r#"
steps = 4
batch_size = 16
objective = "hinge"
penalty = { kind = "r1", gamma = 1.0 }
[data]
name = "digits"
[model]
kind = "dcgan"
z_dim = 16
channels = 8
spectral_norm = true
"#;

const IDX: &str = r#"
steps = 4
batch_size = 16
objective = "fgan-ns:kl"
penalty = { kind = "weight_clip", c = 0.01 }
[data]
name = "idx"
path = "/nonexistent/train-images-idx3-ubyte.gz"
[model]
kind = "dcgan"
"#;

const FOLDER: &str = r#"
steps = 4
batch_size = 16
objective = "hinge"
[data]
name = "folder"
path = "/nonexistent/pictures"
size = 32
channels = 3
flip = true
[model]
kind = "dcgan"
"#;

const LABELLED: &str = r#"
steps = 4
batch_size = 8
objective = "non_saturating"
[data]
name = "idx"
path = "/nonexistent/train-images-idx3-ubyte.gz"
labels = "/nonexistent/train-labels-idx1-ubyte.gz"
num_classes = 10
flip = false
[model]
kind = "dcgan"
"#;

fn toml_seeds() -> Vec<&'static str> {
    vec![
        TINY,
        DIGITS,
        IDX,
        FOLDER,
        LABELLED,
        "steps = 2\nbatch_size = 4\nobjective = \"hinge\"\n[data]\nname = \"fashion-mnist\"\npath = \"fm\"\nflip = true\n[model]\nkind = \"dcgan\"\n",
        include_str!("../../../configs/ring8-wgangp.toml"),
    ]
}

/// `--set` assignments: well-formed keys with hostile values, and random text.
fn override_input() -> impl Strategy<Value = String> {
    let keys = &[
        "steps",
        "seed",
        "batch_size",
        "n_critic",
        "ema",
        "objective",
        "penalty.kind",
        "penalty.lambda",
        "optim.g_lr",
        "optim.beta2",
        "optim.schedule",
        "data.name",
        "data.std",
        "data.path",
        "model.kind",
        "model.z_dim",
        "model.g_hidden",
        "model",
        "x.y.z",
        "",
        ".",
    ][..];
    let values = &[
        "[0]",
        "[]",
        "{}",
        "\"\"",
        "\"idx\"",
        "hinge",
        "true",
        "[1, [2]]",
        "1979-05-27",
        "'''",
        "\"\\u0000\"",
    ][..];
    prop_oneof![
        2 => (prop::sample::select(keys), prop::sample::select(HUGE_TEXT))
            .prop_map(|(k, v)| format!("{k}={v}")),
        2 => (prop::sample::select(keys), prop::sample::select(values))
            .prop_map(|(k, v)| format!("{k}={v}")),
        1 => "\\PC{0,24}",
    ]
}

/// Random text, or a valid config mutated as bytes (invalid UTF-8 replaced), with random
/// overrides.
fn toml_input() -> impl Strategy<Value = (String, Vec<String>)> {
    let text = prop_oneof![
        1 => "\\PC{0,200}",
        1 => vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        6 => (prop::sample::select(toml_seeds()), mutations())
            .prop_map(|(seed, ms)| {
                String::from_utf8_lossy(&mutate(seed.as_bytes().to_vec(), &ms)).into_owned()
            }),
        2 => prop::sample::select(toml_seeds()).prop_map(str::to_string),
    ];
    (text, vec(override_input(), 0..3))
}

fn check_toml((text, overrides): (String, Vec<String>)) -> Result<bool, TestCaseError> {
    let len = text.len() + overrides.iter().map(String::len).sum::<usize>();
    let (result, largest, took) = measured(|| TrainConfig::from_toml(&text, &overrides));
    check_cost(len, largest, took)?;
    match result {
        Ok(config) => {
            prop_assert_eq!(config.validate(), Ok(()));
            // A checkpoint stores `to_toml`; it must parse back to the same config.
            let again = TrainConfig::from_toml(&config.to_toml(), &[]);
            prop_assert_eq!(again, Ok(config));
            Ok(true)
        }
        Err(message) => {
            prop_assert!(!message.is_empty());
            Ok(false)
        }
    }
}

#[test]
fn config_parser_survives_random_and_mutated_text() {
    fuzz("toml", DEFAULT_CASES, toml_input(), check_toml);
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture"]
fn config_parser_long_fuzz() {
    fuzz("toml", long_cases(), toml_input(), check_toml);
}

#[test]
fn the_config_seeds_are_valid() {
    for seed in toml_seeds() {
        TrainConfig::from_toml(seed, &[]).expect("a seed parses");
    }
}

/// Nesting far deeper than any config: each case must be a quick error, not a stack
/// overflow (which aborts the whole process, so each case is its own test).
const DEPTH: usize = 100_000;

fn assert_rejected_quickly(text: &str, overrides: &[String]) {
    let (result, _, took) = measured(|| TrainConfig::from_toml(text, overrides));
    assert!(
        result.is_err(),
        "accepted {:?}…",
        &text[..text.len().min(20)]
    );
    assert!(took < TIME_BOUND, "took {took:?}");
}

#[test]
fn deeply_nested_arrays_are_an_error_not_a_stack_overflow() {
    let text = format!("steps = {}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    assert_rejected_quickly(&text, &[]);
}

#[test]
fn deeply_nested_inline_tables_are_an_error_not_a_stack_overflow() {
    let text = format!("steps = {}1{}", "{a = ".repeat(DEPTH), "}".repeat(DEPTH));
    assert_rejected_quickly(&text, &[]);
}

#[test]
fn deeply_nested_table_headers_are_an_error_not_a_stack_overflow() {
    let text = format!("[{}]\nx = 1", vec!["a"; DEPTH].join("."));
    assert_rejected_quickly(&text, &[]);
}

#[test]
fn deeply_nested_override_keys_are_an_error_not_a_stack_overflow() {
    let key = vec!["a"; DEPTH].join(".");
    for o in [
        format!("{key}=1"),
        format!("data.{key}=1"),
        format!("model.{key}=1"),
    ] {
        assert_rejected_quickly(TINY, &[o]);
    }
}

#[test]
fn deeply_nested_override_values_are_an_error_not_a_stack_overflow() {
    let value = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    assert_rejected_quickly(TINY, &[format!("steps={value}")]);
}

// ---------------------------------------------------------------------------------------
// Digits CSV.

/// The first rows of the bundled file, with `\n` and with `\r\n` line ends.
fn csv_seeds() -> Vec<Vec<u8>> {
    let mut csv = String::new();
    GzDecoder::new(&include_bytes!("../data/digits.csv.gz")[..])
        .read_to_string(&mut csv)
        .unwrap();
    let rows: Vec<&str> = csv.lines().take(4).collect();
    vec![
        (rows.join("\n") + "\n").into_bytes(),
        rows[..1].join("\n").into_bytes(),
        (rows[..2].join("\r\n") + "\r\n").into_bytes(),
    ]
}

fn csv_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..256),
        1 => vec(prop::sample::select(&b"0123456789,\n\r 16"[..]), 0..400),
        6 => (prop::sample::select(csv_seeds()), mutations())
            .prop_map(|(seed, ms)| mutate(seed, &ms)),
    ]
}

fn check_csv(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let (result, largest, took) = measured(|| Digits::parse_csv(bytes));
    check_cost(bytes.len(), largest, took)?;
    match result {
        Ok(d) => {
            let n = d.labels.len();
            prop_assert!(n > 0);
            prop_assert_eq!(d.images.shape(), &[n, 1, 8, 8][..]);
            prop_assert!(d.labels.iter().all(|&l| l < 10));
            prop_assert!(d.images.to_vec().iter().all(|v| (-1.0..=1.0).contains(v)));
            Ok(true)
        }
        Err(e) => {
            prop_assert!(!e.to_string().contains('\n'), "a multi-line error: {e}");
            Ok(false)
        }
    }
}

#[test]
fn digits_csv_parser_survives_random_and_mutated_bytes() {
    fuzz("csv", DEFAULT_CASES, csv_input(), |b| check_csv(&b));
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-gan --test fuzz_parsers -- --ignored --nocapture"]
fn digits_csv_parser_long_fuzz() {
    fuzz("csv", long_cases(), csv_input(), |b| check_csv(&b));
}

#[test]
fn the_csv_seeds_are_valid() {
    for seed in csv_seeds() {
        Digits::parse_csv(&seed).expect("a seed parses");
    }
}
