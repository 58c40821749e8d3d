//! Per-channel ops on `[N, C, …]` tensors (channels on axis 1): the affine map that ends
//! batch norm, `y[n, c, …] = x[n, c, …]·a[c] + b[c]`, in one pass.

use crate::element::Element;
use crate::elementwise::filled;
use crate::error::{or_panic, ShapeError};
use crate::tensor::Tensor;

/// Elements per parallel chunk.
const CHUNK_LEN: usize = 1 << 14;

impl<E: Element> Tensor<E> {
    /// `y[n, c, …] = x[n, c, …]·a[c] + b[c]` for `x` of rank ≥ 2 and `a`, `b` of shape
    /// `[C]`, rounded as `(x·a) + b` (the two broadcast ops it replaces, with the same bits).
    /// An error names the three shapes.
    pub fn try_channel_affine(&self, a: &Self, b: &Self) -> Result<Self, ShapeError> {
        let s = self.shape();
        if s.len() < 2 || a.shape() != [s[1]] || b.shape() != [s[1]] {
            return Err(ShapeError::new(
                "channel_affine",
                format!(
                    "input {s:?} with scale {:?} and shift {:?} (need [N, C, …], [C] and [C])",
                    a.shape(),
                    b.shape()
                ),
            ));
        }
        let (x, a, b) = (self.contiguous(), a.to_vec(), b.to_vec());
        let x = x.as_slice().expect("contiguous");
        let (c, inner) = (s[1], s[2..].iter().product::<usize>());
        let y = filled(x.len(), CHUNK_LEN, |start, out| {
            let mut pos = start;
            let mut out = out;
            while !out.is_empty() {
                // The longest stretch from `pos` with one channel (inner > 1) or one row of
                // channels (inner = 1).
                let (len, ch) = if inner == 1 {
                    let ch = pos % c;
                    (c - ch, ch)
                } else {
                    (inner - pos % inner, pos / inner % c)
                };
                let len = len.min(out.len());
                let (now, rest) = out.split_at_mut(len);
                let src = &x[pos..pos + len];
                if inner == 1 {
                    let (a, b) = (&a[ch..ch + len], &b[ch..ch + len]);
                    for (((o, &v), &a), &b) in now.iter_mut().zip(src).zip(a).zip(b) {
                        o.write(v * a + b);
                    }
                } else {
                    let (a, b) = (a[ch], b[ch]);
                    for (o, &v) in now.iter_mut().zip(src) {
                        o.write(v * a + b);
                    }
                }
                pos += len;
                out = rest;
            }
        });
        Ok(Self::from_vec(y, s))
    }

    /// [`Tensor::try_channel_affine`], panicking with the shapes on error.
    pub fn channel_affine(&self, a: &Self, b: &Self) -> Self {
        or_panic(self.try_channel_affine(a, b))
    }
}
