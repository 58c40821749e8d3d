//! Per-channel ops on `[N, C, …]` tensors (channels on axis 1), each one pass over the
//! batch: the affine map that ends batch norm, `y[n, c, …] = x[n, c, …]·a[c] + b[c]`, and
//! a bias, `y[n, c, …] = x[n, c, …] + b[c]`; either followed by a ReLU or LeakyReLU in the
//! same pass (batch norm then ReLU, a convolution's bias then LeakyReLU), with the bits of
//! the rectifier applied in a pass of its own.
//!
//! Besides a contiguous `x`, both read a **channels-major** `x` without copying it first:
//! the view `[N, C, …]` of a contiguous `[C, N, …]` (axes 0 and 1 swapped), which is what
//! a convolution's single GEMM over the batch produces (`[O, N·L]`, seen as `[N, O, L]`).
//! The output is always contiguous `[N, C, …]`.

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::parallel::filled;
use crate::rectifier::{leaky_relu, relu, Rectifier};
use crate::tensor::Tensor;

/// Elements per parallel chunk.
const CHUNK_LEN: usize = 1 << 14;

impl<E: Element> Tensor<E> {
    /// `y[n, c, …] = x[n, c, …]·a[c] + b[c]` for `x` of rank ≥ 2 and `a`, `b` of shape
    /// `[C]`, rounded as `(x·a) + b` (the two broadcast ops it replaces, with the same bits).
    /// An error names the three shapes.
    pub fn try_channel_affine(&self, a: &Self, b: &Self) -> Result<Self, ShapeError> {
        self.per_channel("channel_affine", Some(a), b, |v| v)
    }

    /// [`Tensor::try_channel_affine`], panicking with the shapes on error.
    pub fn channel_affine(&self, a: &Self, b: &Self) -> Self {
        or_panic(self.try_channel_affine(a, b))
    }

    /// `y[n, c, …] = x[n, c, …] + b[c]` for `x` of rank ≥ 2 and `b` of shape `[C]` (the same
    /// bits as `x + b.reshape([1, C, 1, …])`). An error names both shapes.
    pub fn try_add_channel_bias(&self, b: &Self) -> Result<Self, ShapeError> {
        self.per_channel("add_channel_bias", None, b, |v| v)
    }

    /// [`Tensor::try_add_channel_bias`], panicking with the shapes on error.
    pub fn add_channel_bias(&self, b: &Self) -> Self {
        or_panic(self.try_add_channel_bias(b))
    }

    /// `rectifier(x·a[c] + b[c])`, or `rectifier(x + b[c])` without `a`: the value of
    /// [`Tensor::try_channel_affine`] (or [`Tensor::try_add_channel_bias`]) followed by
    /// `.relu()` or `.leaky_relu(slope)`, in the same pass. An error names the shapes.
    pub fn try_channel_affine_rectified(
        &self,
        a: Option<&Self>,
        b: &Self,
        rectifier: Rectifier,
    ) -> Result<Self, ShapeError> {
        let op = "channel_affine_rectified";
        match rectifier {
            Rectifier::Relu => self.per_channel(op, a, b, relu),
            Rectifier::LeakyRelu(slope) => {
                let slope = E::from_f64_lossy(slope);
                self.per_channel(op, a, b, move |v| leaky_relu(v, slope))
            }
        }
    }

    /// `f(x·a[c] + b[c])`, or `f(x + b[c])` without `a`, over runs of one channel.
    fn per_channel(
        &self,
        op: &'static str,
        a: Option<&Self>,
        b: &Self,
        f: impl Fn(E) -> E + Copy + Sync,
    ) -> Result<Self, ShapeError> {
        let s = self.shape();
        let fits = |t: &Self| s.len() >= 2 && t.shape() == [s[1]];
        if !fits(b) || !a.is_none_or(fits) {
            let message = match a {
                Some(a) => format!(
                    "input {s:?} with scale {:?} and shift {:?} (need [N, C, …], [C] and [C])",
                    a.shape(),
                    b.shape()
                ),
                None => format!(
                    "input {s:?} and bias {:?} (need [N, C, …] and [C])",
                    b.shape()
                ),
            };
            return Err(ShapeError::new(op, message));
        }
        let (n, c, inner) = (s[0], s[1], s[2..].iter().product::<usize>());
        let mut swap: Vec<usize> = (0..s.len()).collect();
        swap.swap(0, 1);
        let channels_major = self.permute(&swap);
        let copy;
        let (x, major) = match (self.as_slice(), channels_major.as_slice()) {
            (Some(x), _) => (x, false),
            (None, Some(x)) if inner > 1 => (x, true),
            _ => {
                copy = self.contiguous();
                (copy.as_slice().expect("contiguous"), false)
            }
        };
        let (a, b) = (a.map(|a| a.to_vec()), b.to_vec());
        let y = filled(x.len(), CHUNK_LEN, |start, out| {
            let mut pos = start;
            let mut out = out;
            while !out.is_empty() {
                // The longest stretch from `pos` with one channel (inner > 1) or one row of
                // channels (inner = 1), and where it starts in `x`.
                let (len, ch, from) = if inner == 1 {
                    let ch = pos % c;
                    (c - ch, ch, pos)
                } else {
                    let (run, within) = (pos / inner, pos % inner);
                    let (nn, ch) = (run / c, run % c);
                    let first = if major { ch * n + nn } else { run };
                    (inner - within, ch, first * inner + within)
                };
                let len = len.min(out.len());
                let (now, rest) = out.split_at_mut(len);
                let src = &x[from..from + len];
                // Four loops rather than one over a closure `g(v, channel)`: indexing the
                // scale and shift per element (inner = 1) kept that loop from vectorizing
                // (5x slower on [64, 6272]).
                match (&a, inner == 1) {
                    (Some(a), true) => {
                        let (a, b) = (&a[ch..ch + len], &b[ch..ch + len]);
                        for (((o, &v), &a), &b) in now.iter_mut().zip(src).zip(a).zip(b) {
                            o.write(f(v * a + b));
                        }
                    }
                    (None, true) => {
                        for ((o, &v), &b) in now.iter_mut().zip(src).zip(&b[ch..ch + len]) {
                            o.write(f(v + b));
                        }
                    }
                    (Some(a), false) => {
                        let (a, b) = (a[ch], b[ch]);
                        for (o, &v) in now.iter_mut().zip(src) {
                            o.write(f(v * a + b));
                        }
                    }
                    (None, false) => {
                        let b = b[ch];
                        for (o, &v) in now.iter_mut().zip(src) {
                            o.write(f(v + b));
                        }
                    }
                }
                pos += len;
                out = rest;
            }
        });
        Ok(Self::from_vec(y, s))
    }
}
