//! `conv2d` and `conv_transpose2d` (composed from unfold/fold and matmul) against naive
//! loops written from PyTorch's definitions, then `gradcheck` and `gradgradcheck` of both;
//! `conv2d_rectified` (the LeakyReLU in the bias's pass) against the loop then LeakyReLU,
//! and its `gradcheck` and `gradgradcheck`.
//!
//! PyTorch's `Conv2d` is a cross-correlation:
//! `out[n, o, y, x] = b[o] + Σ_{c,i,j} in[n, c, y·s − p + i·d, x·s − p + j·d] · w[o, c, i, j]`
//! (taps falling in the zero padding add nothing). `ConvTranspose2d` is its adjoint in the
//! input: every input pixel scatters `in[n, c, y, x] · w[c, o, i, j]` onto
//! `out[n, o, y·s − p + i·d, x·s − p + j·d]`, over an output of
//! `(H − 1)·s − 2p + d·(k − 1) + output_padding + 1` rows (likewise for columns).

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{
    conv2d, conv2d_rectified, conv_transpose2d, gradcheck, gradgradcheck, ConvOptions, Tape,
    Tolerance, Var,
};
use gantry_tensor::{Rectifier, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One convolution to test: shapes, options, and whether it has a bias.
struct Config {
    name: &'static str,
    x: [usize; 4],
    w: [usize; 4],
    bias: bool,
    opt: ConvOptions,
    /// Only for the transposed convolution.
    output_padding: [usize; 2],
}

fn opts(stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2]) -> ConvOptions {
    ConvOptions {
        stride,
        padding,
        dilation,
    }
}

/// `x: [N, C, H, W]`, `w: [O, C, kh, kw]`.
fn conv2d_configs() -> Vec<Config> {
    let c = |name, x, w, bias, opt| Config {
        name,
        x,
        w,
        bias,
        opt,
        output_padding: [0, 0],
    };
    vec![
        c(
            "k3 s1 p0, bias",
            [2, 2, 5, 5],
            [3, 2, 3, 3],
            true,
            ConvOptions::new(1, 0),
        ),
        c(
            "k3 s2 p1, bias",
            [1, 2, 6, 6],
            [2, 2, 3, 3],
            true,
            ConvOptions::new(2, 1),
        ),
        c(
            "k4 s2 p1 (DCGAN)",
            [1, 1, 6, 6],
            [2, 1, 4, 4],
            false,
            ConvOptions::new(2, 1),
        ),
        c(
            "k2x3 s(2,1) p(1,0)",
            [1, 2, 5, 6],
            [3, 2, 2, 3],
            false,
            opts([2, 1], [1, 0], [1, 1]),
        ),
        c(
            "k3 d2 p2, bias",
            [1, 1, 7, 6],
            [2, 1, 3, 3],
            true,
            opts([1, 1], [2, 2], [2, 2]),
        ),
        c(
            "k3x2 s(1,2) p(0,1) d(2,1)",
            [1, 2, 7, 5],
            [2, 2, 3, 2],
            true,
            opts([1, 2], [0, 1], [2, 1]),
        ),
    ]
}

/// `x: [N, Cin, H, W]`, `w: [Cin, Cout, kh, kw]`.
fn conv_transpose2d_configs() -> Vec<Config> {
    let c = |name, x, w, bias, opt, output_padding| Config {
        name,
        x,
        w,
        bias,
        opt,
        output_padding,
    };
    vec![
        c(
            "k3 s1 p0, bias",
            [2, 2, 3, 3],
            [2, 3, 3, 3],
            true,
            ConvOptions::new(1, 0),
            [0, 0],
        ),
        c(
            "k3 s2 p1 op1, bias",
            [1, 2, 3, 3],
            [2, 2, 3, 3],
            true,
            ConvOptions::new(2, 1),
            [1, 1],
        ),
        c(
            "k4 s2 p1 (DCGAN)",
            [1, 2, 3, 3],
            [2, 1, 4, 4],
            false,
            ConvOptions::new(2, 1),
            [0, 0],
        ),
        c(
            "k3x2 s(2,1) p(1,0) op(1,0)",
            [1, 2, 3, 4],
            [2, 2, 3, 2],
            false,
            opts([2, 1], [1, 0], [1, 1]),
            [1, 0],
        ),
        c(
            "k3 d2 p1, bias",
            [1, 1, 3, 3],
            [1, 2, 3, 3],
            true,
            opts([1, 1], [1, 1], [2, 2]),
            [0, 0],
        ),
        // output_padding may reach the dilation when that exceeds the stride (PyTorch's rule).
        c(
            "k3 s1 d2 p1 op1",
            [1, 1, 3, 3],
            [1, 2, 3, 3],
            true,
            opts([1, 1], [1, 1], [2, 2]),
            [1, 1],
        ),
        c(
            "k2 s2 d3 p2 op2",
            [1, 1, 3, 2],
            [1, 2, 2, 2],
            false,
            opts([2, 2], [2, 2], [3, 3]),
            [2, 2],
        ),
        // ... and then adds rows that no window reaches (zeros plus the bias).
        c(
            "k2 s1 d3 p0 op(2,1)",
            [1, 2, 3, 2],
            [2, 1, 2, 2],
            true,
            opts([1, 1], [0, 0], [3, 3]),
            [2, 1],
        ),
        c(
            "k2 s(2,1) p(1,0) d(1,3) op(1,2)",
            [1, 1, 3, 3],
            [1, 2, 2, 2],
            true,
            opts([2, 1], [1, 0], [1, 3]),
            [1, 2],
        ),
    ]
}

fn random(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// The config's inputs: `[x, w]` or `[x, w, b]`, with `b` sized by the output channels.
fn inputs(c: &Config, out_channels: usize) -> Vec<Tensor<f64>> {
    let mut v = vec![random(&c.x, 1), random(&c.w, 2)];
    if c.bias {
        v.push(random(&[out_channels], 3));
    }
    v
}

/// Reads `t[n, c, y, x]` of a row-major `[N, C, H, W]` buffer, 0 outside the image.
fn pixel(v: &[f64], shape: &[usize], n: usize, c: usize, y: isize, x: isize) -> f64 {
    let (h, w) = (shape[2] as isize, shape[3] as isize);
    if y < 0 || y >= h || x < 0 || x >= w {
        return 0.0;
    }
    v[((n * shape[1] + c) * shape[2] + y as usize) * shape[3] + x as usize]
}

/// The direct loop for `F.conv2d`.
fn conv2d_naive(
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    b: Option<&Tensor<f64>>,
    o: ConvOptions,
) -> Tensor<f64> {
    let (xs, ws) = (x.shape(), w.shape());
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let (s, p, d) = (o.stride, o.padding, o.dilation);
    let out_len = |a: usize| (xs[2 + a] + 2 * p[a] - d[a] * (ws[2 + a] - 1) - 1) / s[a] + 1;
    let (oh, ow) = (out_len(0), out_len(1));
    let mut out = Vec::new();
    for n in 0..xs[0] {
        for oc in 0..ws[0] {
            for y in 0..oh {
                for xo in 0..ow {
                    let mut acc = b.map_or(0.0, |b| b.to_vec()[oc]);
                    for c in 0..xs[1] {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let iy = (y * s[0] + i * d[0]) as isize - p[0] as isize;
                                let ix = (xo * s[1] + j * d[1]) as isize - p[1] as isize;
                                let wij = wv[((oc * ws[1] + c) * ws[2] + i) * ws[3] + j];
                                acc += pixel(&xv, xs, n, c, iy, ix) * wij;
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    Tensor::from_vec(out, &[xs[0], ws[0], oh, ow])
}

/// The direct scatter loop for `F.conv_transpose2d`.
fn conv_transpose2d_naive(
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    b: Option<&Tensor<f64>>,
    o: ConvOptions,
    output_padding: [usize; 2],
) -> Tensor<f64> {
    let (xs, ws) = (x.shape(), w.shape());
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let (s, p, d) = (o.stride, o.padding, o.dilation);
    let out_len = |a: usize| {
        (xs[2 + a] - 1) * s[a] + d[a] * (ws[2 + a] - 1) + output_padding[a] + 1 - 2 * p[a]
    };
    let (oh, ow) = (out_len(0), out_len(1));
    let cout = ws[1];
    let mut out = vec![0.0; xs[0] * cout * oh * ow];
    for n in 0..xs[0] {
        for oc in 0..cout {
            let bias = b.map_or(0.0, |b| b.to_vec()[oc]);
            for v in &mut out[(n * cout + oc) * oh * ow..(n * cout + oc + 1) * oh * ow] {
                *v = bias;
            }
            for c in 0..xs[1] {
                for y in 0..xs[2] {
                    for xi in 0..xs[3] {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let oy = (y * s[0] + i * d[0]) as isize - p[0] as isize;
                                let ox = (xi * s[1] + j * d[1]) as isize - p[1] as isize;
                                if oy < 0 || oy >= oh as isize || ox < 0 || ox >= ow as isize {
                                    continue;
                                }
                                let wij = wv[((c * cout + oc) * ws[2] + i) * ws[3] + j];
                                let xv = xv[((n * xs[1] + c) * xs[2] + y) * xs[3] + xi];
                                out[((n * cout + oc) * oh + oy as usize) * ow + ox as usize] +=
                                    xv * wij;
                            }
                        }
                    }
                }
            }
        }
    }
    Tensor::from_vec(out, &[xs[0], cout, oh, ow])
}

fn assert_close(name: &str, got: &Tensor<f64>, want: &Tensor<f64>) {
    assert_eq!(got.shape(), want.shape(), "{name}: shape");
    let worst = got
        .to_vec()
        .iter()
        .zip(want.to_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-12, "{name}: max abs difference {worst:e}");
}

fn conv2d_of<'t>(c: &Config, xs: &[Var<'t, f64>]) -> Var<'t, f64> {
    conv2d(xs[0], xs[1], xs.get(2).copied(), c.opt)
}

fn conv_transpose2d_of<'t>(c: &Config, xs: &[Var<'t, f64>]) -> Var<'t, f64> {
    conv_transpose2d(xs[0], xs[1], xs.get(2).copied(), c.opt, c.output_padding)
}

#[test]
fn conv2d_matches_direct_loop() {
    for c in conv2d_configs() {
        let ins = inputs(&c, c.w[0]);
        let tape = Tape::new();
        let vars: Vec<_> = ins.iter().map(|t| tape.constant(t.clone())).collect();
        let got = conv2d_of(&c, &vars).value();
        let want = conv2d_naive(&ins[0], &ins[1], ins.get(2), c.opt);
        assert_close(c.name, &got, &want);
    }
}

/// `leaky_relu(conv2d(x, w, b), 0.2)` with the rectifier in the bias's pass.
fn conv2d_leaky_of<'t>(c: &Config, xs: &[Var<'t, f64>]) -> Var<'t, f64> {
    conv2d_rectified(xs[0], xs[1], xs[2], c.opt, Rectifier::LeakyRelu(0.2))
}

#[test]
fn conv2d_rectified_matches_direct_loop_then_leaky_relu() {
    for c in conv2d_configs().iter().filter(|c| c.bias) {
        let ins = inputs(c, c.w[0]);
        let tape = Tape::new();
        let vars: Vec<_> = ins.iter().map(|t| tape.constant(t.clone())).collect();
        let got = conv2d_leaky_of(c, &vars).value();
        let conv = conv2d_naive(&ins[0], &ins[1], ins.get(2), c.opt);
        let want = conv.map(|v| if v > 0.0 { v } else { 0.2 * v });
        assert!(
            conv.to_vec().iter().any(|&v| v < 0.0),
            "{}: no negative",
            c.name
        );
        assert_close(c.name, &got, &want);
    }
}

#[test]
fn conv2d_rectified_gradcheck_and_gradgradcheck() {
    for c in conv2d_configs().iter().filter(|c| c.bias) {
        let ins = inputs(c, c.w[0]);
        let f = higher_ranked(|xs| conv2d_leaky_of(c, xs).tanh());
        let tol = Tolerance::default();
        if let Err(e) = gradcheck(f, &ins, tol) {
            panic!("conv2d_rectified {}: gradcheck: {e}", c.name);
        }
        if let Err(e) = gradgradcheck(f, &ins, tol) {
            panic!("conv2d_rectified {}: gradgradcheck: {e}", c.name);
        }
    }
}

#[test]
fn conv_transpose2d_matches_direct_loop() {
    for c in conv_transpose2d_configs() {
        let ins = inputs(&c, c.w[1]);
        let tape = Tape::new();
        let vars: Vec<_> = ins.iter().map(|t| tape.constant(t.clone())).collect();
        let got = conv_transpose2d_of(&c, &vars).value();
        let want = conv_transpose2d_naive(&ins[0], &ins[1], ins.get(2), c.opt, c.output_padding);
        assert_close(c.name, &got, &want);
    }
}

#[test]
fn conv2d_gradcheck_and_gradgradcheck() {
    for c in conv2d_configs() {
        let ins = inputs(&c, c.w[0]);
        let f = higher_ranked(|xs| conv2d_of(&c, xs));
        let tol = Tolerance::default();
        if let Err(e) = gradcheck(f, &ins, tol) {
            panic!("conv2d {}: gradcheck: {e}", c.name);
        }
        if let Err(e) = gradgradcheck(f, &ins, tol) {
            panic!("conv2d {}: gradgradcheck: {e}", c.name);
        }
    }
}

#[test]
fn conv_transpose2d_gradcheck_and_gradgradcheck() {
    for c in conv_transpose2d_configs() {
        let ins = inputs(&c, c.w[1]);
        let f = higher_ranked(|xs| conv_transpose2d_of(&c, xs));
        let tol = Tolerance::default();
        if let Err(e) = gradcheck(f, &ins, tol) {
            panic!("conv_transpose2d {}: gradcheck: {e}", c.name);
        }
        if let Err(e) = gradgradcheck(f, &ins, tol) {
            panic!("conv_transpose2d {}: gradgradcheck: {e}", c.name);
        }
    }
}
