//! ReLU and LeakyReLU as functions of one element, and [`Rectifier`], the one a matrix
//! product can apply to its result in the same pass as its bias
//! ([`Tensor::matmul_bias_rectified`]), or a per-channel pass to what it writes
//! ([`Tensor::try_channel_affine_rectified`]).
//!
//! `relu(x) = x` for `x > 0`, else `0`; `leaky_relu(x) = x` for `x > 0`, else `slope·x`.
//! Written as a comparison and a select, so NaN maps to `0` (ReLU) or NaN (LeakyReLU) and
//! `−0` to `+0` (ReLU) or `slope·(−0)`, wherever the function is applied.
//!
//! [`Tensor::matmul_bias_rectified`]: crate::Tensor::matmul_bias_rectified
//! [`Tensor::try_channel_affine_rectified`]: crate::Tensor::try_channel_affine_rectified

use crate::element::Element;

/// `max(x, 0)`, as the comparison `x > 0`.
#[inline(always)]
pub fn relu<E: Element>(x: E) -> E {
    if x > E::zero() {
        x
    } else {
        E::zero()
    }
}

/// `x` for `x > 0`, `slope · x` otherwise.
#[inline(always)]
pub fn leaky_relu<E: Element>(x: E, slope: E) -> E {
    if x > E::zero() {
        x
    } else {
        slope * x
    }
}

/// A rectifier applied to a product's result: ReLU, or LeakyReLU with its slope (kept as
/// `f64` and rounded to the element type where it is applied, as the unfused op does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rectifier {
    /// [`relu`].
    Relu,
    /// [`leaky_relu`] with this slope.
    LeakyRelu(f64),
}

impl Rectifier {
    /// Applies the rectifier to every element of `xs`, in place.
    #[inline(always)]
    pub fn apply<E: Element>(self, xs: &mut [E]) {
        match self {
            Rectifier::Relu => xs.iter_mut().for_each(|x| *x = relu(*x)),
            Rectifier::LeakyRelu(slope) => {
                let slope = E::from_f64_lossy(slope);
                xs.iter_mut().for_each(|x| *x = leaky_relu(*x, slope));
            }
        }
    }
}
