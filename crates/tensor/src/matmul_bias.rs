//! `A·B + bias`: a matrix product with a bias row added to every row of the result, as in a
//! linear layer's `x·Wᵀ + b`, without a pass of its own for the bias; and
//! `rectifier(A·B + bias)`, a linear layer followed by ReLU or LeakyReLU, without a pass of
//! its own for either.
//!
//! Values: every element is the product's element plus `bias[j]`, one addition after the
//! whole sum over k, then the rectifier if any, so the result has the bits of
//! `a.matmul(b).add(bias)` (then `.relu()` or `.leaky_relu(slope)`) on every path; only
//! where the addition happens differs (for `f32` on gantry's own kernels, on each tile of C
//! as soon as it is finished, see [`crate::gemm::sgemm_bias`]).

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::matmul::count_flops;
use crate::rectifier::Rectifier;
use crate::tensor::Tensor;

impl<E: Element> Tensor<E> {
    /// `A·B + bias` for `A: [m, k]`, `B: [k, n]` (any strides) and `bias: [n]`: `[m, n]`,
    /// the value of `a.matmul(b).add(bias)` (see the module documentation). An error names
    /// the three shapes.
    pub fn try_matmul_bias(&self, b: &Self, bias: &Self) -> Result<Self, ShapeError> {
        self.product_plus_bias(b, bias, None, "matmul_bias")
    }

    /// [`Tensor::try_matmul_bias`], panicking with the shapes on error.
    pub fn matmul_bias(&self, b: &Self, bias: &Self) -> Self {
        or_panic(self.try_matmul_bias(b, bias))
    }

    /// `rectifier(A·B + bias)`, shapes as for [`Tensor::try_matmul_bias`]: the value of
    /// `a.matmul_bias(b, bias)` followed by `.relu()` or `.leaky_relu(slope)`, the rectifier
    /// applied with the bias (see the module documentation). An error names the three shapes.
    pub fn try_matmul_bias_rectified(
        &self,
        b: &Self,
        bias: &Self,
        rectifier: Rectifier,
    ) -> Result<Self, ShapeError> {
        self.product_plus_bias(b, bias, Some(rectifier), "matmul_bias_rectified")
    }

    /// [`Tensor::try_matmul_bias_rectified`], panicking with the shapes on error.
    pub fn matmul_bias_rectified(&self, b: &Self, bias: &Self, rectifier: Rectifier) -> Self {
        or_panic(self.try_matmul_bias_rectified(b, bias, rectifier))
    }

    /// `A·B + bias`, then `rectifier` if any; `op` names the op in a shape error.
    fn product_plus_bias(
        &self,
        b: &Self,
        bias: &Self,
        rectifier: Option<Rectifier>,
        op: &'static str,
    ) -> Result<Self, ShapeError> {
        let (sa, sb, sc) = (self.shape(), b.shape(), bias.shape());
        if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[0] || sc != [sb[1]] {
            return Err(ShapeError::new(
                op,
                format!("cannot compute {sa:?} x {sb:?} + {sc:?} (need [m, k] x [k, n] + [n])"),
            ));
        }
        let (m, k, n) = (sa[0], sa[1], sb[1]);
        let bias = bias.contiguous();
        let (a, b) = (self.array(), b.array());
        count_flops(2 * m * k * n);
        let mut out: Vec<E> = Vec::with_capacity(m * n);
        // SAFETY: the strides are those of valid 2-D views of `a` and `b`, the bias holds n
        // contiguous elements, and `out` has room for the m×n row-major result, which
        // `gemm_bias` writes whole (the product with β = 0 only writes C).
        unsafe {
            E::gemm_bias(
                [m, k, n],
                (a.as_ptr(), a.strides()[0], a.strides()[1]),
                (b.as_ptr(), b.strides()[0], b.strides()[1]),
                bias.array().as_ptr(),
                rectifier,
                out.as_mut_ptr(),
                n as isize,
            );
            out.set_len(m * n);
        }
        Ok(Self::from_vec(out, &[m, n]))
    }
}
