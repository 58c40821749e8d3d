//! Fuzzing of the safetensors checkpoint loader (`Checkpoint::from_bytes`) with proptest:
//! random bytes, and valid checkpoints mutated by bit flips, truncations, inserted and
//! overwritten bytes, huge header lengths and huge numbers in the JSON header. The loader
//! must never panic, never hang, and never allocate more than a small multiple of the input:
//! a counting global allocator records the largest single allocation of every call.
//! Whatever it accepts must also be readable with `get` and survive a save/load round trip.
//!
//! The default run tries 2000 cases per target (a second or two). The long run reads the case
//! count from `GANTRY_FUZZ_CASES` (default 1 000 000) and prints each target's rate:
//!
//! ```sh
//! GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-nn --test fuzz_checkpoint -- --ignored --nocapture
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use gantry_nn::{Checkpoint, CheckpointError};
use gantry_tensor::Tensor;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Cases per target in the default (fast) run.
const DEFAULT_CASES: u32 = 2000;

/// Longest a single parse may take: a parse of a few kilobytes takes microseconds, so
/// anything near this is a hang (or quadratic work on a hostile header).
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

/// The most a parse of `len` input bytes may allocate at once: a few copies of the input
/// (the tensor bytes, the header string, a shape array) plus a constant.
fn allocation_bound(len: usize) -> usize {
    16 * len + (1 << 20)
}

// ---------------------------------------------------------------------------------------
// Inputs: valid checkpoints and mutations of them.

/// A few valid checkpoints: f32 and f64 tensors, a scalar, an empty tensor, metadata.
fn seeds() -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut a = Checkpoint::new();
    a.put("g.0.weight", &Tensor::<f32>::randn(&[3, 4], &mut rng));
    a.put("g.0.bias", &Tensor::<f32>::randn(&[4], &mut rng));
    a.put("opt_g.step", &Tensor::<f32>::scalar(7.0));
    a.set_meta("step", "12");
    a.set_meta("rng_word_pos", "123456789");
    a.set_meta("config", "steps = 60\nbatch_size = 32\n");
    let mut b = Checkpoint::new();
    b.put("x", &Tensor::<f64>::randn(&[2, 2, 2], &mut rng));
    b.put("empty", &Tensor::<f32>::zeros(&[0, 3]));
    b.set_meta("format", "gantry-trainer-1");
    let mut c = Checkpoint::new();
    c.put("w", &Tensor::<f32>::randn(&[5], &mut rng));
    vec![
        a.to_bytes(),
        b.to_bytes(),
        c.to_bytes(),
        Checkpoint::new().to_bytes(),
    ]
}

/// Numbers that break naive size arithmetic, as they would appear in a JSON header.
const HUGE_TEXT: &[&str] = &[
    "0",
    "-1",
    "4294967296",
    "1000000000000",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "1e308",
    "1.5",
];

/// Integers that break naive size arithmetic, as raw little- or big-endian bytes.
const HUGE_INTS: &[u64] = &[
    0,
    u32::MAX as u64,
    1 << 31,
    1_000_000_000_000,
    i64::MAX as u64,
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
    /// Overwrites 8 bytes at `at` with a huge integer (little- or big-endian).
    HugeInt {
        at: usize,
        value: u64,
        big_endian: bool,
    },
    /// Replaces the run of ASCII digits at or after `at` with a huge number.
    HugeNumber { at: usize, text: &'static str },
    /// Sets the 8-byte header length that opens a safetensors file.
    HeaderLength { value: u64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        2 => (any::<usize>(), vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..32).prop_map(|(at, len)| Mutation::Remove { at, len }),
        1 => (any::<usize>(), prop::sample::select(HUGE_INTS), any::<bool>())
            .prop_map(|(at, value, big_endian)| Mutation::HugeInt { at, value, big_endian }),
        3 => (any::<usize>(), prop::sample::select(HUGE_TEXT))
            .prop_map(|(at, text)| Mutation::HugeNumber { at, text }),
        1 => prop_oneof![prop::sample::select(HUGE_INTS), any::<u64>(), 0u64..4096]
            .prop_map(|value| Mutation::HeaderLength { value }),
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
            Mutation::HugeInt {
                at,
                value,
                big_endian,
            } if n >= 8 => {
                let at = at % (n - 7);
                let b = if *big_endian {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                bytes[at..at + 8].copy_from_slice(&b);
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
            Mutation::HeaderLength { value } if n >= 8 => {
                bytes[..8].copy_from_slice(&value.to_le_bytes());
            }
            _ => {}
        }
    }
    bytes
}

/// A well-formed JSON header of random tensors (any dtype name, shapes with zero, small and
/// huge axes, offsets consistent with the shape or not) and random metadata, then the data
/// the offsets point at (when that is small) or a few bytes.
fn structured_input() -> impl Strategy<Value = Vec<u8>> {
    let dim = prop_oneof![
        4 => 0usize..5,
        1 => prop::sample::select(HUGE_INTS).prop_map(|v| v as usize),
    ];
    let dtypes = &["F32", "F64", "F16", "I64", "U8", "BOOL", "X"][..];
    let tensor = (
        "[a-z.]{0,6}",
        prop::sample::select(dtypes),
        vec(dim, 0..4),
        any::<bool>(),
    );
    let meta = vec(("[a-z_]{0,8}", "\\PC{0,12}"), 0..3);
    (vec(tensor, 0..4), meta, any::<u8>()).prop_map(|(tensors, meta, fill)| {
        let mut header = serde_json::Map::new();
        let mut end = 0usize;
        for (name, dtype, shape, consistent) in tensors {
            let size = match dtype {
                "F64" | "I64" => 8,
                "F32" => 4,
                "F16" => 2,
                _ => 1,
            };
            let nbytes = shape
                .iter()
                .try_fold(size, |n: usize, &d| n.checked_mul(d))
                .filter(|&n| consistent && n <= 4096)
                .unwrap_or(usize::from(fill % 64));
            header.insert(
                name,
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [end, end + nbytes]}),
            );
            end += nbytes;
        }
        if !meta.is_empty() {
            let meta: serde_json::Map<_, _> =
                meta.into_iter().map(|(k, v)| (k, v.into())).collect();
            header.insert("__metadata__".into(), meta.into());
        }
        let text = serde_json::Value::Object(header).to_string();
        safetensors(&text, &vec![fill; end.min(8192)])
    })
}

/// Random bytes, mutated seeds, or well-formed headers over random tensors.
fn checkpoint_input() -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds();
    prop_oneof![
        1 => vec(any::<u8>(), 0..256),
        4 => (prop::sample::select(seeds), vec(mutation(), 1..6))
            .prop_map(|(seed, ms)| mutate(seed, &ms)),
        2 => structured_input(),
        1 => (structured_input(), vec(mutation(), 1..4)).prop_map(|(b, ms)| mutate(b, &ms)),
    ]
}

// ---------------------------------------------------------------------------------------
// The property and the runner.

/// Parses `bytes`; if accepted, reads every tensor both ways and round-trips the result.
/// Fails on a panic (caught by proptest), a slow parse or an outsized allocation; returns
/// whether the input was accepted.
fn check(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let (round_trip, largest, took) = measured(|| {
        let ck = Checkpoint::from_bytes(bytes).ok()?;
        for key in ck.keys() {
            let _ = ck.get::<f32>(key, None);
            let _ = ck.get::<f64>(key, None);
        }
        let again = Checkpoint::from_bytes(&ck.to_bytes());
        Some((ck, again))
    });
    prop_assert!(
        took < TIME_BOUND,
        "parsing {} bytes took {took:?}",
        bytes.len()
    );
    prop_assert!(
        largest <= allocation_bound(bytes.len()),
        "parsing {} bytes allocated {largest} bytes at once",
        bytes.len()
    );
    let accepted = round_trip.is_some();
    if let Some((ck, again)) = round_trip {
        prop_assert_eq!(
            again.ok(),
            Some(ck),
            "an accepted checkpoint must round-trip"
        );
    }
    Ok(accepted)
}

/// Runs `test` on `cases` inputs from `strategy` (a fixed seed, so a failure reproduces),
/// prints the rate and how many inputs the parser accepted, and panics with the smallest
/// failing input.
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
// Tests.

#[test]
fn checkpoint_loader_survives_random_and_mutated_bytes() {
    fuzz("checkpoint", DEFAULT_CASES, checkpoint_input(), |b| {
        check(&b)
    });
}

#[test]
#[ignore = "long: GANTRY_FUZZ_CASES=1000000 cargo test --release -p gantry-nn --test fuzz_checkpoint -- --ignored --nocapture"]
fn checkpoint_loader_long_fuzz() {
    fuzz("checkpoint", long_cases(), checkpoint_input(), |b| {
        check(&b)
    });
}

#[test]
fn the_seeds_are_valid_checkpoints() {
    for s in seeds() {
        Checkpoint::from_bytes(&s).expect("a seed parses");
    }
}

/// A safetensors file: the 8-byte little-endian header length, the JSON header, the data.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// Asserts that `bytes` is rejected as a format error, within the time bound, allocating
/// no more than a megabyte at once.
fn assert_rejected_cheaply(bytes: &[u8], what: &str) {
    let (result, largest, took) = measured(|| Checkpoint::from_bytes(bytes));
    assert!(
        matches!(result, Err(CheckpointError::Format { .. })),
        "{what}: expected a format error, got {result:?}"
    );
    assert!(took < TIME_BOUND, "{what}: rejecting took {took:?}");
    assert!(
        largest < 1 << 20,
        "{what}: allocated {largest} bytes at once"
    );
}

#[test]
fn header_claiming_a_trillion_elements_is_rejected_without_allocating() {
    let data = [0u8; 16];
    // The claimed size matches the shape but not the file.
    let honest =
        r#"{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}"#;
    assert_rejected_cheaply(
        &safetensors(honest, &data),
        "shape 1e6 x 1e6, offsets to 4e12",
    );
    // The shape lies about the data it points at.
    let lying = r#"{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,16]}}"#;
    assert_rejected_cheaply(&safetensors(lying, &data), "shape 1e12, 16 bytes of data");
    // The shape's product overflows 64 bits.
    let overflow =
        r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}}"#;
    assert_rejected_cheaply(&safetensors(overflow, &data), "shape overflowing u64");
    // The header length itself claims a terabyte.
    let mut huge_len = safetensors(honest, &data);
    huge_len[..8].copy_from_slice(&1_000_000_000_000u64.to_le_bytes());
    assert_rejected_cheaply(&huge_len, "header length 1e12");
    huge_len[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_rejected_cheaply(&huge_len, "header length 2^64 - 1");
}

#[test]
fn empty_tensor_with_a_dimension_beyond_isize_is_rejected_not_a_panic() {
    // Zero elements, so the byte count (0) is consistent, but no array of this shape can
    // exist (its non-zero axes multiply past isize::MAX): reading it must be an error.
    for shape in [
        "0,9223372036854775808",
        "0,4611686018427387904,4",
        "18446744073709551615,0",
    ] {
        let header = format!(r#"{{"w":{{"dtype":"F32","shape":[{shape}],"data_offsets":[0,0]}}}}"#);
        let bytes = safetensors(&header, &[]);
        let result = std::panic::catch_unwind(|| {
            Checkpoint::from_bytes(&bytes).and_then(|ck| ck.get::<f32>("w", None).map(|_| ()))
        });
        match result {
            Ok(r) => assert!(r.is_err(), "shape [{shape}] was accepted"),
            Err(_) => panic!("shape [{shape}]: reading the checkpoint panicked"),
        }
    }
}
