//! Every primitive and composite op of the tape, checked from one table (STYLE §8, after
//! minitorch's `grad_check` over its op tables): first derivatives with `gradcheck`,
//! second derivatives with `gradgradcheck`, in f64 with PyTorch's default tolerances.
//!
//! Inputs are chosen so that a central difference (step 1e-6) never straddles a kink:
//! relu, leaky_relu and abs see |x| ≥ 0.2; max, maximum and minimum see values at least 0.1
//! apart; log, pow and sqrt see positive inputs. Broadcasting and non-contiguous operands
//! (transpose, permute, narrow applied inside the function) get cases of their own.

use std::panic::{catch_unwind, AssertUnwindSafe};

use gantry_autograd::{gradcheck, gradgradcheck, Tolerance, Var};
use gantry_tensor::{ColumnLayout, Rectifier, Tensor, Window2d};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A function of the case's inputs, differentiable twice.
type Function = Box<dyn for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>>;

/// One row of the table.
struct Case {
    name: &'static str,
    inputs: Vec<Tensor<f64>>,
    f: Function,
}

fn case(
    name: &'static str,
    inputs: Vec<Tensor<f64>>,
    f: impl for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64> + 'static,
) -> Case {
    Case {
        name,
        inputs,
        f: Box::new(f),
    }
}

/// Runs `gradcheck` and `gradgradcheck` on every case; reports every failing case by name
/// (a panic inside an op counts as a failure) before failing the test.
fn check_table(cases: Vec<Case>) {
    let tol = Tolerance::default();
    let mut failures = Vec::new();
    for c in &cases {
        for check in ["gradcheck", "gradgradcheck"] {
            let outcome = catch_unwind(AssertUnwindSafe(|| match check {
                "gradcheck" => gradcheck(&*c.f, &c.inputs, tol),
                _ => gradgradcheck(&*c.f, &c.inputs, tol),
            }));
            let failure = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".to_string()),
            };
            eprintln!("FAILED {} ({check}): {failure}", c.name);
            failures.push(format!("{} ({check})", c.name));
        }
    }
    assert!(failures.is_empty(), "failing cases: {failures:?}");
}

// ---- Inputs ----------------------------------------------------------------------------

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform in `[lo, hi)`.
fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, lo, hi, &mut rng(seed))
}

/// Any sign, magnitude in [0.2, 1.5): no element near a kink at 0.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut r = rng(seed);
    let n = shape.iter().product();
    let v = (0..n)
        .map(|_| {
            let m: f64 = r.gen_range(0.2..1.5);
            if r.gen_bool(0.5) {
                m
            } else {
                -m
            }
        })
        .collect();
    Tensor::from_vec(v, shape)
}

/// Distinct values on the grid `offset − 1 + 0.2·k`, shuffled: two tensors with offsets 0
/// and 0.1 never come closer than 0.1, so max and min have no ties to straddle.
fn grid(shape: &[usize], offset: f64, seed: u64) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let mut v: Vec<f64> = (0..n).map(|k| offset - 1.0 + 0.2 * k as f64).collect();
    v.shuffle(&mut rng(seed));
    Tensor::from_vec(v, shape)
}

fn positive(shape: &[usize], seed: u64) -> Tensor<f64> {
    uniform(shape, 0.5, 2.0, seed)
}

fn any(shape: &[usize], seed: u64) -> Tensor<f64> {
    uniform(shape, -1.0, 1.0, seed)
}

// ---- The table, by family --------------------------------------------------------------

#[test]
fn unary_ops() {
    check_table(vec![
        case("neg", vec![any(&[2, 3], 1)], |x| x[0].neg()),
        case("pow 3", vec![any(&[2, 3], 2)], |x| x[0].pow(3.0)),
        case("pow -1.5", vec![positive(&[2, 3], 3)], |x| x[0].pow(-1.5)),
        case("pow 0.5", vec![positive(&[2, 3], 4)], |x| x[0].pow(0.5)),
        case("exp", vec![any(&[2, 3], 5)], |x| x[0].exp()),
        case("log", vec![positive(&[2, 3], 6)], |x| x[0].log()),
        case("tanh", vec![uniform(&[2, 3], -2.0, 2.0, 7)], |x| {
            x[0].tanh()
        }),
        case("sigmoid", vec![uniform(&[2, 3], -4.0, 4.0, 8)], |x| {
            x[0].sigmoid()
        }),
        case("softplus", vec![uniform(&[2, 4], -6.0, 6.0, 9)], |x| {
            x[0].softplus()
        }),
        case("relu", vec![away_from_zero(&[2, 4], 10)], |x| x[0].relu()),
        case("leaky_relu 0.2", vec![away_from_zero(&[2, 4], 11)], |x| {
            x[0].leaky_relu(0.2)
        }),
        case("abs", vec![away_from_zero(&[2, 4], 12)], |x| x[0].abs()),
        // Composites of unary shape.
        case("square", vec![any(&[2, 3], 13)], |x| x[0].square()),
        case("sqrt", vec![positive(&[2, 3], 14)], |x| x[0].sqrt()),
        // A smooth chain, so second derivatives mix several rules.
        case("tanh(exp(x)·x)", vec![any(&[3], 15)], |x| {
            (x[0].exp() * x[0]).tanh()
        }),
        // Non-contiguous operands: the op sees a strided view.
        case("exp of x.t()", vec![any(&[3, 2], 16)], |x| x[0].t().exp()),
        case("relu of narrow", vec![away_from_zero(&[3, 5], 17)], |x| {
            x[0].narrow(1, 1, 3).relu()
        }),
        case("log of permute", vec![positive(&[2, 3, 2], 18)], |x| {
            x[0].permute(&[2, 0, 1]).log()
        }),
    ]);
}

#[test]
fn binary_ops() {
    check_table(vec![
        case("add", vec![any(&[2, 3], 20), any(&[2, 3], 21)], |x| {
            x[0] + x[1]
        }),
        case(
            "add [3,1]+[4]",
            vec![any(&[3, 1], 22), any(&[4], 23)],
            |x| x[0] + x[1],
        ),
        case(
            "add [2,1,4]+[3,1]",
            vec![any(&[2, 1, 4], 24), any(&[3, 1], 25)],
            |x| x[0] + x[1],
        ),
        case("mul", vec![any(&[2, 3], 26), any(&[2, 3], 27)], |x| {
            x[0] * x[1]
        }),
        case(
            "mul [2,3]*[3]",
            vec![any(&[2, 3], 28), any(&[3], 29)],
            |x| x[0] * x[1],
        ),
        case(
            "mul scalar*[2,3]",
            vec![Tensor::scalar(0.7), any(&[2, 3], 30)],
            |x| x[0] * x[1],
        ),
        case("mul x*x", vec![any(&[2, 3], 31)], |x| x[0] * x[0]),
        // The gate's x only picks a slope: its numerical derivative in x is 0, as the tape's.
        case(
            "relu_gate 0.2",
            vec![any(&[2, 3], 54), away_from_zero(&[2, 3], 55)],
            |x| x[0].relu_gate(x[1], 0.2),
        ),
        case(
            "relu_gate 0 [3] vs [2,3]",
            vec![any(&[3], 56), away_from_zero(&[2, 3], 57)],
            |x| x[0].relu_gate(x[1], 0.0),
        ),
        case(
            "maximum",
            vec![grid(&[2, 3], 0.0, 32), grid(&[2, 3], 0.1, 33)],
            |x| x[0].maximum(x[1]),
        ),
        case(
            "maximum [2,3] vs [3]",
            vec![grid(&[2, 3], 0.0, 34), grid(&[3], 0.1, 35)],
            |x| x[0].maximum(x[1]),
        ),
        case(
            "minimum",
            vec![grid(&[2, 3], 0.0, 36), grid(&[2, 3], 0.1, 37)],
            |x| x[0].minimum(x[1]),
        ),
        case(
            "minimum [3,1] vs [2,1,4]",
            vec![grid(&[3, 1], 0.1, 38), grid(&[2, 1, 4], 0.0, 39)],
            |x| x[0].minimum(x[1]),
        ),
        // Composites.
        case("sub", vec![any(&[2, 3], 40), any(&[2, 3], 41)], |x| {
            x[0] - x[1]
        }),
        case(
            "sub [2,3]-[2,1]",
            vec![any(&[2, 3], 42), any(&[2, 1], 43)],
            |x| x[0] - x[1],
        ),
        case("div", vec![any(&[2, 3], 44), positive(&[2, 3], 45)], |x| {
            x[0] / x[1]
        }),
        case(
            "div [2,3]/[2,1]",
            vec![any(&[2, 3], 46), positive(&[2, 1], 47)],
            |x| x[0] / x[1],
        ),
        // Non-contiguous operands.
        case(
            "mul x.t()*y",
            vec![any(&[3, 2], 48), any(&[2, 3], 49)],
            |x| x[0].t() * x[1],
        ),
        case(
            "add narrow+permute",
            vec![any(&[2, 5], 50), any(&[3, 2], 51)],
            |x| x[0].narrow(1, 2, 3) + x[1].permute(&[1, 0]),
        ),
        case(
            "maximum of x.t()",
            vec![grid(&[3, 2], 0.0, 52), grid(&[2, 3], 0.1, 53)],
            |x| x[0].t().maximum(x[1]),
        ),
    ]);
}

#[test]
fn scalar_operators() {
    check_table(vec![
        case("x + 2", vec![any(&[2, 3], 60)], |x| x[0] + 2.0),
        case("x - 1.5", vec![any(&[2, 3], 61)], |x| x[0] - 1.5),
        case("x * 3", vec![any(&[2, 3], 62)], |x| x[0] * 3.0),
        case("x / 4", vec![any(&[2, 3], 63)], |x| x[0] / 4.0),
        case("1 + x", vec![any(&[2, 3], 64)], |x| 1.0 + x[0]),
        case("2 - x", vec![any(&[2, 3], 65)], |x| 2.0 - x[0]),
        case("2 * x", vec![any(&[2, 3], 66)], |x| 2.0 * x[0]),
        case("3 / x", vec![positive(&[2, 3], 67)], |x| 3.0 / x[0]),
        case("-x", vec![any(&[2, 3], 68)], |x| -x[0]),
        case("add_scalar", vec![any(&[2, 3], 69)], |x| {
            x[0].add_scalar(0.3)
        }),
        case("mul_scalar", vec![any(&[2, 3], 70)], |x| {
            x[0].mul_scalar(-0.6)
        }),
    ]);
}

#[test]
fn reductions() {
    let s = [2, 3, 4];
    check_table(vec![
        case("sum", vec![any(&s, 80)], |x| x[0].sum()),
        case("sum_axes [1]", vec![any(&s, 81)], |x| {
            x[0].sum_axes(&[1], false)
        }),
        case("sum_axes [1] keepdim", vec![any(&s, 82)], |x| {
            x[0].sum_axes(&[1], true)
        }),
        case("sum_axes [0,2]", vec![any(&s, 83)], |x| {
            x[0].sum_axes(&[0, 2], false)
        }),
        case("sum_axes [0,2] keepdim", vec![any(&s, 84)], |x| {
            x[0].sum_axes(&[0, 2], true)
        }),
        case("var_axes [0,2]", vec![any(&s, 180)], |x| {
            x[0].var_axes(&[0, 2], false)
        }),
        case("var_axes [1] keepdim", vec![any(&s, 181)], |x| {
            x[0].var_axes(&[1], true)
        }),
        case("var_axes all", vec![any(&s, 182)], |x| {
            x[0].var_axes(&[0, 1, 2], false)
        }),
        // A strided input: the composite fallback of the one-pass kernel.
        case("var_axes [2] on a transpose", vec![any(&s, 183)], |x| {
            x[0].permute(&[1, 0, 2]).var_axes(&[0, 2], false)
        }),
        case(
            "channel_affine rank 2",
            vec![any(&[3, 4], 184), any(&[4], 185), any(&[4], 186)],
            |x| x[0].channel_affine(x[1], x[2]),
        ),
        case(
            "channel_affine rank 4",
            vec![any(&[2, 3, 2, 2], 187), any(&[3], 188), any(&[3], 189)],
            |x| x[0].channel_affine(x[1], x[2]),
        ),
        case(
            "add_channel_bias rank 2",
            vec![any(&[3, 4], 193), any(&[4], 194)],
            |x| x[0].add_channel_bias(x[1]),
        ),
        // A channels-major input, as a convolution's GEMM produces it.
        case(
            "add_channel_bias channels-major",
            vec![any(&[3, 2, 2, 2], 195), any(&[3], 196)],
            |x| x[0].permute(&[1, 0, 2, 3]).add_channel_bias(x[1]),
        ),
        case(
            "channel_affine channels-major",
            vec![any(&[3, 2, 5], 197), any(&[3], 198), any(&[3], 199)],
            |x| x[0].permute(&[1, 0, 2]).channel_affine(x[1], x[2]),
        ),
        // The same with a rectifier in the pass (a tanh after it, so that the second
        // derivative is not zero).
        case(
            "tanh(channel_affine_rectified relu) rank 4",
            vec![any(&[2, 3, 2, 2], 200), any(&[3], 201), any(&[3], 202)],
            |x| {
                x[0].channel_affine_rectified(Some(x[1]), x[2], Rectifier::Relu)
                    .tanh()
            },
        ),
        case(
            "channel_affine_rectified leaky 0.2, bias only, channels-major",
            vec![any(&[3, 2, 2, 2], 203), any(&[3], 204)],
            |x| {
                let r = Rectifier::LeakyRelu(0.2);
                x[0].permute(&[1, 0, 2, 3])
                    .channel_affine_rectified(None, x[1], r)
            },
        ),
        // Batch norm's whole training-mode forward, with the statistics as primitives.
        case(
            "batch norm",
            vec![any(&[4, 3, 2, 2], 190), any(&[3], 191), any(&[3], 192)],
            |x| {
                let axes = [0, 2, 3];
                let scale = x[0].var_axes(&axes, false).add_scalar(1e-5).pow(-0.5) * x[1];
                let shift = x[2] - x[0].mean_axes(&axes, false) * scale;
                x[0].channel_affine(scale, shift)
            },
        ),
        case("max_axes [1]", vec![grid(&s, 0.0, 85)], |x| {
            x[0].max_axes(&[1], false)
        }),
        case("max_axes [2] keepdim", vec![grid(&s, 0.0, 86)], |x| {
            x[0].max_axes(&[2], true)
        }),
        case("max_axes [0,2]", vec![grid(&s, 0.0, 87)], |x| {
            x[0].max_axes(&[0, 2], false)
        }),
        case("max_axes [0,2] keepdim", vec![grid(&s, 0.0, 88)], |x| {
            x[0].max_axes(&[0, 2], true)
        }),
        case("max_axes all", vec![grid(&s, 0.0, 89)], |x| {
            x[0].max_axes(&[0, 1, 2], false)
        }),
        // Composites.
        case("mean", vec![any(&s, 90)], |x| x[0].mean()),
        case("mean_axes [0,2]", vec![any(&s, 91)], |x| {
            x[0].mean_axes(&[0, 2], false)
        }),
        case("mean_axes [1] keepdim", vec![any(&s, 92)], |x| {
            x[0].mean_axes(&[1], true)
        }),
        case("norm_axes [1]", vec![any(&s, 93)], |x| {
            x[0].norm_axes(&[1], false, 1e-12)
        }),
        case("norm_axes [1,2] keepdim", vec![any(&s, 94)], |x| {
            x[0].norm_axes(&[1, 2], true, 1e-12)
        }),
        // Non-contiguous operands.
        case("sum_axes of permute", vec![any(&s, 95)], |x| {
            x[0].permute(&[2, 0, 1]).sum_axes(&[0, 2], false)
        }),
        case("max_axes of narrow", vec![grid(&s, 0.0, 96)], |x| {
            x[0].narrow(2, 1, 3).max_axes(&[2], false)
        }),
        case("mean of x.t()", vec![any(&[3, 4], 97)], |x| {
            x[0].t().mean_axes(&[1], true)
        }),
    ]);
}

#[test]
fn layout_ops() {
    check_table(vec![
        case("reshape", vec![any(&[2, 3, 4], 100)], |x| {
            x[0].reshape(&[6, 4])
        }),
        case("reshape of x.t()", vec![any(&[3, 4], 101)], |x| {
            x[0].t().reshape(&[2, 6])
        }),
        case("permute", vec![any(&[2, 3, 4], 102)], |x| {
            x[0].permute(&[2, 0, 1])
        }),
        case("transpose", vec![any(&[2, 3, 4], 103)], |x| {
            x[0].transpose(0, 2)
        }),
        case("t", vec![any(&[3, 4], 104)], |x| x[0].t()),
        case(
            "broadcast_to [3,1]->[2,3,4]",
            vec![any(&[3, 1], 105)],
            |x| x[0].broadcast_to(&[2, 3, 4]),
        ),
        case(
            "broadcast_to scalar->[2,3]",
            vec![Tensor::scalar(0.4)],
            |x| x[0].broadcast_to(&[2, 3]),
        ),
        case("sum_to [2,3,4]->[3,1]", vec![any(&[2, 3, 4], 106)], |x| {
            x[0].sum_to(&[3, 1])
        }),
        case("sum_to [2,3]->[]", vec![any(&[2, 3], 107)], |x| {
            x[0].sum_to(&[])
        }),
        case("narrow", vec![any(&[3, 5], 108)], |x| x[0].narrow(1, 1, 3)),
        case("narrow axis 0 start", vec![any(&[3, 5], 109)], |x| {
            x[0].narrow(0, 0, 2)
        }),
        case("narrow of permute", vec![any(&[2, 3, 4], 110)], |x| {
            x[0].permute(&[1, 2, 0]).narrow(1, 2, 2)
        }),
        case(
            "concat axis 1",
            vec![
                any(&[2, 1, 3], 111),
                any(&[2, 2, 3], 112),
                any(&[2, 3, 3], 113),
            ],
            |x| Var::concat(&[x[0], x[1], x[2]], 1),
        ),
        case("concat of x with exp(x)", vec![any(&[2, 3], 114)], |x| {
            Var::concat(&[x[0], x[0].exp()], 0)
        }),
        case(
            "concat of x.t() and narrow",
            vec![any(&[3, 2], 115), any(&[2, 5], 116)],
            |x| Var::concat(&[x[0].t(), x[1].narrow(1, 0, 2)], 1),
        ),
        case("flatten", vec![any(&[2, 3, 2], 117)], |x| x[0].flatten()),
        // A nonlinearity after the shape op makes the second derivative non-trivial.
        case(
            "square of concat",
            vec![any(&[2, 2], 118), any(&[2, 1], 119)],
            |x| Var::concat(&[x[0], x[1]], 1).square(),
        ),
    ]);
}

#[test]
fn matmul() {
    check_table(vec![
        case(
            "matmul [3,4]x[4,5]",
            vec![any(&[3, 4], 130), any(&[4, 5], 131)],
            |x| x[0].matmul(x[1]),
        ),
        case(
            "matmul x.t()",
            vec![any(&[4, 3], 132), any(&[4, 2], 133)],
            |x| x[0].t().matmul(x[1]),
        ),
        case(
            "matmul y.t()",
            vec![any(&[3, 4], 134), any(&[2, 4], 135)],
            |x| x[0].matmul(x[1].t()),
        ),
        case(
            "matmul of narrow",
            vec![any(&[3, 6], 136), any(&[4, 2], 137)],
            |x| x[0].narrow(1, 1, 4).matmul(x[1]),
        ),
        case("matmul x·x", vec![any(&[3, 3], 138)], |x| {
            x[0].matmul(x[0])
        }),
        case(
            "batched [2,3,4]x[2,4,5]",
            vec![any(&[2, 3, 4], 139), any(&[2, 4, 5], 140)],
            |x| x[0].matmul(x[1]),
        ),
        case(
            "batched broadcast [2,1,3,4]x[3,4,2]",
            vec![any(&[2, 1, 3, 4], 141), any(&[3, 4, 2], 142)],
            |x| x[0].matmul(x[1]),
        ),
        case(
            "batched broadcast [3,4]x[2,4,2]",
            vec![any(&[3, 4], 143), any(&[2, 4, 2], 144)],
            |x| x[0].matmul(x[1]),
        ),
        case(
            "batched of permute",
            vec![any(&[3, 2, 4], 145), any(&[2, 4, 3], 146)],
            |x| x[0].permute(&[1, 0, 2]).matmul(x[1]),
        ),
        // A linear layer with bias and a smooth activation: matmul's VJP inside a chain.
        case(
            "tanh(x·w + b)",
            vec![any(&[3, 4], 147), any(&[4, 2], 148), any(&[2], 149)],
            |x| (x[0].matmul(x[1]) + x[2]).tanh(),
        ),
        // The fused product and bias, as a linear layer calls it (x·Wᵀ + b), on a
        // transposed A, and inside a chain.
        case(
            "matmul_bias x·wᵀ + b",
            vec![any(&[3, 4], 150), any(&[2, 4], 151), any(&[2], 152)],
            |x| x[0].matmul_bias(x[1].t(), x[2]),
        ),
        case(
            "matmul_bias xᵀ·w + b",
            vec![any(&[4, 3], 153), any(&[4, 5], 154), any(&[5], 155)],
            |x| x[0].t().matmul_bias(x[1], x[2]),
        ),
        case(
            "tanh(matmul_bias)",
            vec![any(&[3, 4], 156), any(&[4, 2], 157), any(&[2], 158)],
            |x| x[0].matmul_bias(x[1], x[2]).tanh(),
        ),
        // The product, bias and rectifier as one op (a linear layer and its activation in a
        // `Sequential`); a tanh after it so that the second derivative is not zero.
        case(
            "matmul_bias_rectified relu x·wᵀ + b",
            vec![any(&[3, 4], 159), any(&[2, 4], 160), any(&[2], 161)],
            |x| x[0].matmul_bias_rectified(x[1].t(), x[2], Rectifier::Relu),
        ),
        case(
            "tanh(matmul_bias_rectified leaky 0.2)",
            vec![any(&[3, 4], 162), any(&[4, 5], 163), any(&[5], 164)],
            |x| {
                x[0].matmul_bias_rectified(x[1], x[2], Rectifier::LeakyRelu(0.2))
                    .tanh()
            },
        ),
    ]);
}

#[test]
fn unfold_and_fold() {
    let win = |k: [usize; 2], s: [usize; 2], p: [usize; 2], d: [usize; 2]| Window2d {
        kernel: k,
        stride: s,
        padding: p,
        dilation: d,
    };
    let plain = win([3, 3], [1, 1], [0, 0], [1, 1]);
    let strided = win([3, 3], [2, 2], [1, 1], [1, 1]);
    let mixed = win([2, 3], [2, 1], [1, 0], [1, 2]);
    let dilated = win([3, 3], [1, 1], [1, 1], [2, 2]);
    check_table(vec![
        case("unfold k3", vec![any(&[1, 2, 4, 5], 160)], move |x| {
            x[0].unfold(&plain)
        }),
        case("unfold k3 s2 p1", vec![any(&[2, 1, 5, 5], 161)], move |x| {
            x[0].unfold(&strided)
        }),
        case(
            "unfold k2x3 s(2,1) p(1,0) d(1,2)",
            vec![any(&[1, 2, 5, 6], 162)],
            move |x| x[0].unfold(&mixed),
        ),
        case("unfold k3 p1 d2", vec![any(&[1, 1, 5, 5], 163)], move |x| {
            x[0].unfold(&dilated)
        }),
        case(
            "unfold of transpose",
            vec![any(&[1, 2, 6, 5], 164)],
            move |x| x[0].transpose(2, 3).unfold(&mixed),
        ),
        // fold's input: [N, C·kh·kw, oh·ow] for the image size.
        case("fold k3 onto 4x5", vec![any(&[1, 18, 6], 165)], move |x| {
            x[0].fold([4, 5], &plain)
        }),
        case(
            "fold k3 s2 p1 onto 5x5",
            vec![any(&[2, 9, 9], 166)],
            move |x| x[0].fold([5, 5], &strided),
        ),
        case(
            "fold k2x3 s(2,1) p(1,0) d(1,2) onto 5x6",
            vec![any(&[1, 12, 6], 167)],
            move |x| x[0].fold([5, 6], &mixed),
        ),
        case(
            "fold k3 p1 d2 onto 5x5",
            vec![any(&[1, 9, 9], 168)],
            move |x| x[0].fold([5, 5], &dilated),
        ),
        case("fold of permute", vec![any(&[9, 2, 9], 169)], move |x| {
            x[0].permute(&[1, 0, 2]).fold([5, 5], &strided)
        }),
        case(
            "square of unfold",
            vec![any(&[1, 1, 4, 4], 170)],
            move |x| x[0].unfold(&strided).square(),
        ),
        // The batched layout [C·kh·kw, N·L] (what conv2d uses).
        case(
            "batched unfold k3 s2 p1",
            vec![any(&[2, 2, 5, 5], 171)],
            move |x| x[0].unfold_as(&strided, ColumnLayout::Batched),
        ),
        case(
            "batched fold k2x3 s(2,1) p(1,0) d(1,2) onto 5x6",
            vec![any(&[12, 12], 172)],
            move |x| x[0].fold_as([5, 6], &mixed, ColumnLayout::Batched),
        ),
        case(
            "square of batched unfold",
            vec![any(&[2, 1, 4, 4], 173)],
            move |x| x[0].unfold_as(&dilated, ColumnLayout::Batched).square(),
        ),
        // fold(A·B) in one op (a transposed convolution): A [C·kh·kw, K], B [K, N·L].
        case(
            "matmul_fold k2x3 s(2,1) p(1,0) d(1,2) onto 5x6",
            vec![any(&[12, 3], 174), any(&[3, 12], 175)],
            move |x| x[0].matmul_fold(x[1], [5, 6], &mixed),
        ),
        case(
            "square of matmul_fold of transpose",
            vec![any(&[3, 18], 176), any(&[3, 18], 177)],
            move |x| x[0].t().matmul_fold(x[1], [5, 5], &strided).square(),
        ),
        // A convolution's product W·unfold(x), whose x̄ is one matmul_fold.
        case(
            "square of conv_matmul k3 s2 p1",
            vec![any(&[2, 9], 178), any(&[2, 1, 5, 5], 179)],
            move |x| {
                let cols = x[1].unfold_as(&strided, ColumnLayout::Batched);
                x[0].conv_matmul(cols, x[1], &strided).square()
            },
        ),
    ]);
}

#[test]
fn index_rows_and_scatter_add_rows() {
    // Repeated labels (0 twice, 2 twice) and a row no label names (3), so the scatter's
    // sums and its zero rows are both exercised.
    let labels: &'static [u32] = &[2, 0, 2, 1, 0];
    check_table(vec![
        case("index_rows [4, 3]", vec![any(&[4, 3], 180)], |x| {
            x[0].index_rows(labels)
        }),
        case("index_rows [4, 2, 2]", vec![any(&[4, 2, 2], 181)], |x| {
            x[0].index_rows(labels)
        }),
        case("index_rows of transpose", vec![any(&[3, 4], 182)], |x| {
            x[0].t().index_rows(labels)
        }),
        case("scatter_add_rows into 4", vec![any(&[5, 3], 183)], |x| {
            x[0].scatter_add_rows(labels, 4)
        }),
        case(
            "scatter_add_rows of permute",
            vec![any(&[3, 5], 184)],
            |x| x[0].permute(&[1, 0]).scatter_add_rows(labels, 4),
        ),
        // Non-linear around them, so the second derivatives are not zero.
        case("square of index_rows", vec![any(&[4, 3], 185)], |x| {
            x[0].index_rows(labels).square()
        }),
        case("tanh of scatter_add_rows", vec![any(&[5, 2], 186)], |x| {
            x[0].scatter_add_rows(labels, 3).tanh()
        }),
        // ⟨T[y], φ⟩, the projection term of a projection critic: both factors vary.
        case(
            "projection ⟨T[y], φ⟩",
            vec![any(&[3, 4], 187), any(&[5, 4], 188)],
            |x| (x[0].index_rows(labels) * x[1]).sum_axes(&[1], false),
        ),
    ]);
}
