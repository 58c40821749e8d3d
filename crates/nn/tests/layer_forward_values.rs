//! Every layer's forward pass against values computed independently: literals worked out
//! by hand for tiny cases, and naive loops over plain `f64` arrays for the larger ones
//! (convolutions, batch and layer statistics).

use gantry_autograd::{ConvOptions, Tape};
use gantry_nn::{
    BatchNorm, Conv2d, ConvTranspose2d, Flatten, LayerNorm, LeakyReLU, Linear, Module, Param, ReLU,
    Reshape, Sequential, Sigmoid, Tanh, Upsample,
};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn run(m: &dyn Module<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    let tape = Tape::new();
    m.forward(&tape, tape.constant(x.clone())).value()
}

fn uniform(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

#[test]
fn linear_by_hand() {
    // y = x·Wᵀ + b with W = [[1, 2], [3, 4]], b = [0.5, -1]:
    // x = [1, 1]  → [1+2, 3+4] + b = [3.5, 6]
    // x = [2, -1] → [2-2, 6-4] + b = [0.5, 1]
    let layer = Linear {
        weight: Param::new(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])),
        bias: Some(Param::new(Tensor::from_vec(vec![0.5, -1.0], &[2]))),
    };
    let y = run(
        &layer,
        &Tensor::from_vec(vec![1.0, 1.0, 2.0, -1.0], &[2, 2]),
    );
    assert_eq!(y.shape(), &[2, 2]);
    assert_close(&y.to_vec(), &[3.5, 6.0, 0.5, 1.0], 1e-15, "linear");

    // Without bias, a non-square W = [[1, 0, -1], [2, 1, 0]] on x = [3, 4, 5] → [-2, 10].
    let layer = Linear {
        weight: Param::new(Tensor::from_vec(
            vec![1.0, 0.0, -1.0, 2.0, 1.0, 0.0],
            &[2, 3],
        )),
        bias: None,
    };
    let y = run(&layer, &Tensor::from_vec(vec![3.0, 4.0, 5.0], &[1, 3]));
    assert_close(&y.to_vec(), &[-2.0, 10.0], 1e-15, "linear without bias");
}

#[test]
fn conv2d_by_hand() {
    // x = 1..9 as 3×3, w = [[1, 0], [0, -1]]: y[i][j] = x[i][j] − x[i+1][j+1] = −4.
    let layer = Conv2d {
        weight: Param::new(Tensor::from_vec(vec![1.0, 0.0, 0.0, -1.0], &[1, 1, 2, 2])),
        bias: None,
        options: ConvOptions::new(1, 0),
    };
    let x = Tensor::from_vec((1..=9).map(f64::from).collect(), &[1, 1, 3, 3]);
    let y = run(&layer, &x);
    assert_eq!(y.shape(), &[1, 1, 2, 2]);
    assert_close(&y.to_vec(), &[-4.0; 4], 1e-15, "conv2d");
}

/// `y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · x[n, c, i·s₀ − p₀ + p·d₀, j·s₁ − p₁ + q·d₁]`,
/// with zeros outside the input.
fn conv2d_naive(
    x: &[f64],
    [n, c, h, w]: [usize; 4],
    wt: &[f64],
    [o, kh, kw]: [usize; 3],
    b: &[f64],
    opt: ConvOptions,
) -> (Vec<f64>, [usize; 4]) {
    let (s, p, d) = (opt.stride, opt.padding, opt.dilation);
    let oh = (h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0] + 1;
    let ow = (w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1] + 1;
    let mut y = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = b[oi];
                    for ci in 0..c {
                        for pi in 0..kh {
                            for qi in 0..kw {
                                let r = (i * s[0] + pi * d[0]) as isize - p[0] as isize;
                                let col = (j * s[1] + qi * d[1]) as isize - p[1] as isize;
                                if r < 0 || col < 0 || r >= h as isize || col >= w as isize {
                                    continue;
                                }
                                let xv = x[((ni * c + ci) * h + r as usize) * w + col as usize];
                                acc += wt[((oi * c + ci) * kh + pi) * kw + qi] * xv;
                            }
                        }
                    }
                    y[((ni * o + oi) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
    (y, [n, o, oh, ow])
}

#[test]
fn conv2d_matches_naive_loop() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let cases = [
        // (x shape, out, kh, kw, options)
        ([2, 3, 5, 6], 4, 3, 3, ConvOptions::new(1, 0)),
        ([2, 3, 6, 5], 2, 3, 3, ConvOptions::new(2, 1)),
        ([1, 2, 7, 6], 3, 3, 2, {
            let mut o = ConvOptions::new(1, 0);
            o.stride = [2, 1];
            o.padding = [1, 2];
            o.dilation = [1, 2];
            o
        }),
        ([3, 1, 8, 8], 2, 4, 4, ConvOptions::new(2, 1)),
    ];
    for (xs, o, kh, kw, opt) in cases {
        let c = xs[1];
        let x = uniform(xs.iter().product(), &mut rng);
        let wt = uniform(o * c * kh * kw, &mut rng);
        let b = uniform(o, &mut rng);
        let layer = Conv2d {
            weight: Param::new(Tensor::from_vec(wt.clone(), &[o, c, kh, kw])),
            bias: Some(Param::new(Tensor::from_vec(b.clone(), &[o]))),
            options: opt,
        };
        let y = run(&layer, &Tensor::from_vec(x.clone(), &xs));
        let (want, shape) = conv2d_naive(&x, xs, &wt, [o, kh, kw], &b, opt);
        assert_eq!(y.shape(), &shape, "conv2d {xs:?} {opt:?}");
        assert_close(&y.to_vec(), &want, 1e-12, "conv2d vs naive");
    }
}

#[test]
fn conv_transpose2d_by_hand() {
    // x = [[1, 2], [3, 4]], w = ones(2×2).
    // Stride 2: each pixel becomes a 2×2 block.
    // Stride 1: the overlapping sums [[1, 3, 2], [4, 10, 6], [3, 7, 4]].
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let layer = |stride| ConvTranspose2d {
        weight: Param::new(Tensor::ones(&[1, 1, 2, 2])),
        bias: None,
        options: ConvOptions::new(stride, 0),
        output_padding: [0, 0],
    };
    let y = run(&layer(2), &x);
    assert_eq!(y.shape(), &[1, 1, 4, 4]);
    #[rustfmt::skip]
    let want = [
        1.0, 1.0, 2.0, 2.0,
        1.0, 1.0, 2.0, 2.0,
        3.0, 3.0, 4.0, 4.0,
        3.0, 3.0, 4.0, 4.0,
    ];
    assert_close(&y.to_vec(), &want, 1e-15, "conv_transpose2d stride 2");
    let y = run(&layer(1), &x);
    assert_eq!(y.shape(), &[1, 1, 3, 3]);
    let want = [1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0];
    assert_close(&y.to_vec(), &want, 1e-15, "conv_transpose2d stride 1");
}

/// Scatters each input pixel through the kernel: `y[n, o, i·s₀ − p₀ + p·d₀, j·s₁ − p₁ + q·d₁]
/// += x[n, c, i, j] · w[c, o, p, q]`, keeping what lands inside the output, plus `b[o]`.
#[allow(clippy::too_many_arguments)]
fn conv_transpose2d_naive(
    x: &[f64],
    [n, c, h, w]: [usize; 4],
    wt: &[f64],
    [o, kh, kw]: [usize; 3],
    b: &[f64],
    opt: ConvOptions,
    out_pad: [usize; 2],
) -> (Vec<f64>, [usize; 4]) {
    let (s, p, d) = (opt.stride, opt.padding, opt.dilation);
    let oh = (h - 1) * s[0] + d[0] * (kh - 1) + out_pad[0] + 1 - 2 * p[0];
    let ow = (w - 1) * s[1] + d[1] * (kw - 1) + out_pad[1] + 1 - 2 * p[1];
    let mut y = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            for k in 0..oh * ow {
                y[(ni * o + oi) * oh * ow + k] = b[oi];
            }
            for ci in 0..c {
                for i in 0..h {
                    for j in 0..w {
                        let xv = x[((ni * c + ci) * h + i) * w + j];
                        for pi in 0..kh {
                            for qi in 0..kw {
                                let r = (i * s[0] + pi * d[0]) as isize - p[0] as isize;
                                let col = (j * s[1] + qi * d[1]) as isize - p[1] as isize;
                                if r < 0 || col < 0 || r >= oh as isize || col >= ow as isize {
                                    continue;
                                }
                                let wv = wt[((ci * o + oi) * kh + pi) * kw + qi];
                                y[((ni * o + oi) * oh + r as usize) * ow + col as usize] += xv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    (y, [n, o, oh, ow])
}

#[test]
fn conv_transpose2d_matches_naive_loop() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let cases = [
        // (x shape, out, kh, kw, options, output_padding)
        ([2, 3, 3, 4], 2, 3, 3, ConvOptions::new(1, 0), [0, 0]),
        ([2, 3, 4, 4], 2, 4, 4, ConvOptions::new(2, 1), [0, 0]),
        ([1, 2, 3, 3], 3, 3, 3, ConvOptions::new(2, 1), [1, 1]),
        (
            [1, 2, 3, 4],
            2,
            3,
            2,
            {
                let mut o = ConvOptions::new(1, 0);
                o.stride = [2, 3];
                o.padding = [1, 0];
                o.dilation = [2, 1];
                o
            },
            [1, 2],
        ),
    ];
    for (xs, o, kh, kw, opt, out_pad) in cases {
        let c = xs[1];
        let x = uniform(xs.iter().product(), &mut rng);
        let wt = uniform(c * o * kh * kw, &mut rng);
        let b = uniform(o, &mut rng);
        let layer = ConvTranspose2d {
            weight: Param::new(Tensor::from_vec(wt.clone(), &[c, o, kh, kw])),
            bias: Some(Param::new(Tensor::from_vec(b.clone(), &[o]))),
            options: opt,
            output_padding: out_pad,
        };
        let y = run(&layer, &Tensor::from_vec(x.clone(), &xs));
        let (want, shape) = conv_transpose2d_naive(&x, xs, &wt, [o, kh, kw], &b, opt, out_pad);
        assert_eq!(
            y.shape(),
            &shape,
            "conv_transpose2d {xs:?} {opt:?} {out_pad:?}"
        );
        assert_close(&y.to_vec(), &want, 1e-12, "conv_transpose2d vs naive");
    }
}

/// Per-channel mean and biased variance of `[N, C, L]` data (L = H·W, or 1 for 1-d).
fn channel_stats(x: &[f64], n: usize, c: usize, l: usize) -> (Vec<f64>, Vec<f64>) {
    let count = (n * l) as f64;
    let mut mean = vec![0.0; c];
    let mut var = vec![0.0; c];
    for ch in 0..c {
        let vals = (0..n).flat_map(|ni| (0..l).map(move |k| (ni * c + ch) * l + k));
        let vals: Vec<f64> = vals.map(|i| x[i]).collect();
        mean[ch] = vals.iter().sum::<f64>() / count;
        var[ch] = vals.iter().map(|v| (v - mean[ch]).powi(2)).sum::<f64>() / count;
    }
    (mean, var)
}

/// `γ·(x − μ)/√(σ² + ε) + β` per channel.
#[allow(clippy::too_many_arguments)]
fn normalize_channels(
    x: &[f64],
    c: usize,
    l: usize,
    mean: &[f64],
    var: &[f64],
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
) -> Vec<f64> {
    let each = x.iter().enumerate();
    each.map(|(i, v)| {
        let ch = (i / l) % c;
        gamma[ch] * (v - mean[ch]) / (var[ch] + eps).sqrt() + beta[ch]
    })
    .collect()
}

/// Two training steps then evaluation, for `[N, C]` (l = 1) or `[N, C, H, W]` (l = H·W).
fn check_batch_norm(bn: &BatchNorm<f64>, shape: &[usize], seed: u64) {
    let (n, c) = (shape[0], shape[1]);
    let l: usize = shape[2..].iter().product();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gamma = [1.5, -0.5, 2.0][..c].to_vec();
    let beta = [0.25, 1.0, -0.75][..c].to_vec();
    bn.weight.set(Tensor::from_vec(gamma.clone(), &[c]));
    bn.bias.set(Tensor::from_vec(beta.clone(), &[c]));
    let (m, eps) = (0.1, 1e-5);
    let (mut run_mean, mut run_var) = (vec![0.0; c], vec![1.0; c]);
    let count = (n * l) as f64;
    for step in 0..2 {
        // Different scales and offsets per step, so the running statistics are non-trivial.
        let x: Vec<f64> = uniform(shape.iter().product(), &mut rng)
            .iter()
            .map(|v| 3.0 * v + step as f64 + 0.5)
            .collect();
        let y = run(bn, &Tensor::from_vec(x.clone(), shape));
        let (mean, var) = channel_stats(&x, n, c, l);
        let want = normalize_channels(&x, c, l, &mean, &var, &gamma, &beta, eps);
        assert_close(&y.to_vec(), &want, 1e-10, "batch norm (training)");
        for ch in 0..c {
            run_mean[ch] = (1.0 - m) * run_mean[ch] + m * mean[ch];
            run_var[ch] = (1.0 - m) * run_var[ch] + m * var[ch] * count / (count - 1.0);
        }
    }
    assert_close(
        &bn.running_mean.value().to_vec(),
        &run_mean,
        1e-12,
        "running_mean",
    );
    assert_close(
        &bn.running_var.value().to_vec(),
        &run_var,
        1e-12,
        "running_var",
    );
    assert_eq!(bn.num_batches_tracked.value().item(), 2.0);

    bn.set_training(false);
    let before = (bn.running_mean.value(), bn.running_var.value());
    let x = uniform(shape.iter().product(), &mut rng);
    let y = run(bn, &Tensor::from_vec(x.clone(), shape));
    let want = normalize_channels(&x, c, l, &run_mean, &run_var, &gamma, &beta, eps);
    assert_close(&y.to_vec(), &want, 1e-10, "batch norm (eval)");
    // Evaluation leaves the running statistics alone.
    assert_eq!(bn.running_mean.value().to_vec(), before.0.to_vec());
    assert_eq!(bn.running_var.value().to_vec(), before.1.to_vec());
    assert_eq!(bn.num_batches_tracked.value().item(), 2.0);
}

#[test]
fn batch_norm_1d_train_and_eval() {
    check_batch_norm(&BatchNorm::new_1d(3), &[5, 3], 3);
}

#[test]
fn batch_norm_2d_train_and_eval() {
    check_batch_norm(&BatchNorm::new_2d(2), &[3, 2, 2, 3], 4);
}

#[test]
fn batch_norm_by_hand() {
    // One channel, x = [1, 3]: μ = 2, biased σ² = 1, so y = ±1/√(1 + 1e-5);
    // running mean 0.9·0 + 0.1·2 = 0.2, running var 0.9·1 + 0.1·(unbiased 2) = 1.1.
    let bn = BatchNorm::<f64>::new_1d(1);
    let y = run(&bn, &Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
    let s = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert_close(&y.to_vec(), &[-s, s], 1e-15, "batch norm by hand");
    assert_close(
        &bn.running_mean.value().to_vec(),
        &[0.2],
        1e-15,
        "running mean",
    );
    assert_close(
        &bn.running_var.value().to_vec(),
        &[1.1],
        1e-15,
        "running var",
    );
}

#[test]
fn layer_norm_by_hand_and_by_loop() {
    // x = [1, 2, 3]: μ = 2, σ² = 2/3; with γ = [1, 2, -1], β = [0, 1, 0.5].
    let ln = LayerNorm::<f64>::new(&[3]);
    ln.weight.set(Tensor::from_vec(vec![1.0, 2.0, -1.0], &[3]));
    ln.bias.set(Tensor::from_vec(vec![0.0, 1.0, 0.5], &[3]));
    let y = run(&ln, &Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]));
    let r = 1.0 / (2.0f64 / 3.0 + 1e-5).sqrt();
    assert_close(
        &y.to_vec(),
        &[-r, 1.0, 0.5 - r],
        1e-14,
        "layer norm by hand",
    );

    // Over the two trailing axes of [2, 3, 2, 2]: statistics per (n, c).
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let ln = LayerNorm::<f64>::new(&[2, 2]);
    let (gamma, beta) = (uniform(4, &mut rng), uniform(4, &mut rng));
    ln.weight.set(Tensor::from_vec(gamma.clone(), &[2, 2]));
    ln.bias.set(Tensor::from_vec(beta.clone(), &[2, 2]));
    let x = uniform(24, &mut rng);
    let y = run(&ln, &Tensor::from_vec(x.clone(), &[2, 3, 2, 2]));
    let mut want = Vec::new();
    for group in x.chunks(4) {
        let mean = group.iter().sum::<f64>() / 4.0;
        let var = group.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        for (k, v) in group.iter().enumerate() {
            want.push(gamma[k] * (v - mean) / (var + 1e-5).sqrt() + beta[k]);
        }
    }
    assert_close(&y.to_vec(), &want, 1e-12, "layer norm over [2, 2]");
}

#[test]
fn activations_by_hand() {
    let x = Tensor::from_vec(vec![-2.0, -0.5, 0.0, 1.5], &[1, 4]);
    let y = run(&LeakyReLU(0.2), &x);
    assert_close(&y.to_vec(), &[-0.4, -0.1, 0.0, 1.5], 1e-15, "leaky_relu");
    let y = run(&ReLU, &x);
    assert_close(&y.to_vec(), &[0.0, 0.0, 0.0, 1.5], 0.0, "relu");
    let y = run(&Tanh, &x);
    let want: Vec<f64> = [-2.0f64, -0.5, 0.0, 1.5].iter().map(|v| v.tanh()).collect();
    assert_close(&y.to_vec(), &want, 1e-15, "tanh");
    let y = run(&Sigmoid, &x);
    let want: Vec<f64> = [-2.0f64, -0.5, 0.0, 1.5]
        .iter()
        .map(|v| 1.0 / (1.0 + (-v).exp()))
        .collect();
    assert_close(&y.to_vec(), &want, 1e-15, "sigmoid");
}

#[test]
fn upsample_by_hand_and_by_loop() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let y = run(&Upsample(2), &x);
    assert_eq!(y.shape(), &[1, 1, 4, 4]);
    #[rustfmt::skip]
    let want = [
        1.0, 1.0, 2.0, 2.0,
        1.0, 1.0, 2.0, 2.0,
        3.0, 3.0, 4.0, 4.0,
        3.0, 3.0, 4.0, 4.0,
    ];
    assert_close(&y.to_vec(), &want, 0.0, "upsample ×2");

    // y[n, c, i, j] = x[n, c, i / s, j / s] for s = 3 on [2, 2, 2, 3].
    let (n, c, h, w, s) = (2, 2, 2, 3, 3);
    let x: Vec<f64> = (0..n * c * h * w).map(|v| v as f64).collect();
    let y = run(&Upsample(s), &Tensor::from_vec(x.clone(), &[n, c, h, w]));
    assert_eq!(y.shape(), &[n, c, h * s, w * s]);
    let mut want = Vec::new();
    for nc in 0..n * c {
        for i in 0..h * s {
            for j in 0..w * s {
                want.push(x[(nc * h + i / s) * w + j / s]);
            }
        }
    }
    assert_close(&y.to_vec(), &want, 0.0, "upsample ×3");
}

#[test]
fn flatten_and_reshape_keep_the_batch_axis() {
    let x = Tensor::from_vec((0..24).map(f64::from).collect(), &[2, 3, 2, 2]);
    let y = run(&Flatten, &x);
    assert_eq!(y.shape(), &[2, 12]);
    assert_eq!(y.to_vec(), x.to_vec());
    let y = run(&Reshape(vec![4, 3]), &y);
    assert_eq!(y.shape(), &[2, 4, 3]);
    assert_eq!(y.to_vec(), x.to_vec());
}

#[test]
fn sequential_applies_in_order_and_names_children() {
    // Linear(W = [[1, -1]], b = [0.5]) then LeakyReLU(0.2) then Linear(W = [[2]], no bias):
    // x = [1, 3] → −1.5 → −0.3 → −0.6; x = [3, 1] → 2.5 → 2.5 → 5.
    let first = Linear {
        weight: Param::new(Tensor::from_vec(vec![1.0, -1.0], &[1, 2])),
        bias: Some(Param::new(Tensor::from_vec(vec![0.5], &[1]))),
    };
    let last = Linear {
        weight: Param::new(Tensor::from_vec(vec![2.0], &[1, 1])),
        bias: None,
    };
    let net = Sequential::<f64>::new()
        .add(first)
        .add(LeakyReLU(0.2))
        .add(BatchNorm::new_1d(1))
        .add(last);
    net.set_training(false); // the batch norm is then x/√(1 + ε): fold it into the numbers
    let y = run(&net, &Tensor::from_vec(vec![1.0, 3.0, 3.0, 1.0], &[2, 2]));
    let bn = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert_close(&y.to_vec(), &[-0.6 * bn, 5.0 * bn], 1e-15, "sequential");
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight"]
    );
    let buffers: Vec<String> = net.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        ["2.running_mean", "2.running_var", "2.num_batches_tracked"]
    );
}
