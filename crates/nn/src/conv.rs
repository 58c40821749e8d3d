//! `Conv2d` and `ConvTranspose2d` layers with PyTorch's shapes, semantics and default init.

use gantry_autograd::{conv2d, conv2d_rectified, conv_transpose2d, ConvOptions, Tape, Var};
use gantry_tensor::{Element, Rectifier};
use rand::Rng;

use crate::init::pytorch_uniform;
use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};
use crate::weight_layer::{weight_and_bias, WeightLayer};

/// 2-D convolution: `W: [out, in, k, k]`, `b: [out]`; see `gantry_autograd::conv2d`.
pub struct Conv2d<E: Element = f32> {
    /// `[out, in, kh, kw]`.
    pub weight: Param<E>,
    /// `[out]`.
    pub bias: Option<Param<E>>,
    /// Stride, padding, dilation.
    pub options: ConvOptions,
}

impl<E: Element> Conv2d<E> {
    /// A `k×k` convolution `in → out` with stride and padding; PyTorch's init
    /// `U(±1/√(in·k²))` for weight and bias.
    pub fn new<R: Rng + ?Sized>(
        inputs: usize,
        outputs: usize,
        k: usize,
        stride: usize,
        padding: usize,
        rng: &mut R,
    ) -> Self {
        let fan_in = inputs * k * k;
        Conv2d {
            weight: Param::new(pytorch_uniform(&[outputs, inputs, k, k], fan_in, rng)),
            bias: Some(Param::new(pytorch_uniform(&[outputs], fan_in, rng))),
            options: ConvOptions::new(stride, padding),
        }
    }
}

impl<E: Element> WeightLayer<E> for Conv2d<E> {
    fn weight(&self) -> &Param<E> {
        &self.weight
    }
    fn bias(&self) -> Option<&Param<E>> {
        self.bias.as_ref()
    }
    fn forward_with_weight<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
    ) -> Var<'t, E> {
        conv2d(
            x,
            w,
            self.bias.as_ref().map(|b| tape.param(b)),
            self.options,
        )
    }
    /// With a bias, the rectifier applied in the bias's pass ([`conv2d_rectified`]).
    fn forward_with_weight_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Var<'t, E> {
        match &self.bias {
            Some(b) => conv2d_rectified(x, w, tape.param(b), self.options, rectifier),
            None => conv2d(x, w, None, self.options).rectify(rectifier),
        }
    }
}

impl<E: Element> Module<E> for Conv2d<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.forward_with_weight(tape, x, tape.param(&self.weight))
    }
    fn forward_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Option<Var<'t, E>> {
        let w = tape.param(&self.weight);
        Some(self.forward_with_weight_rectified(tape, x, w, rectifier))
    }
    fn params(&self) -> Vec<Named<E>> {
        weight_and_bias(self)
    }
}

/// 2-D transposed convolution: `W: [in, out, k, k]`, `b: [out]`;
/// see `gantry_autograd::conv_transpose2d`.
pub struct ConvTranspose2d<E: Element = f32> {
    /// `[in, out, kh, kw]` (PyTorch's layout).
    pub weight: Param<E>,
    /// `[out]`.
    pub bias: Option<Param<E>>,
    /// Stride, padding, dilation.
    pub options: ConvOptions,
    /// Extra rows/columns on one side of the output.
    pub output_padding: [usize; 2],
}

impl<E: Element> ConvTranspose2d<E> {
    /// A `k×k` transposed convolution `in → out`; PyTorch's init uses
    /// `fan_in = out·k²` (its fan-in is computed from the weight's axis 1).
    pub fn new<R: Rng + ?Sized>(
        inputs: usize,
        outputs: usize,
        k: usize,
        stride: usize,
        padding: usize,
        rng: &mut R,
    ) -> Self {
        let fan_in = outputs * k * k;
        ConvTranspose2d {
            weight: Param::new(pytorch_uniform(&[inputs, outputs, k, k], fan_in, rng)),
            bias: Some(Param::new(pytorch_uniform(&[outputs], fan_in, rng))),
            options: ConvOptions::new(stride, padding),
            output_padding: [0, 0],
        }
    }
}

impl<E: Element> WeightLayer<E> for ConvTranspose2d<E> {
    fn weight(&self) -> &Param<E> {
        &self.weight
    }
    fn bias(&self) -> Option<&Param<E>> {
        self.bias.as_ref()
    }
    fn forward_with_weight<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
    ) -> Var<'t, E> {
        let b = self.bias.as_ref().map(|b| tape.param(b));
        conv_transpose2d(x, w, b, self.options, self.output_padding)
    }
    fn output_axis(&self) -> usize {
        1
    }
}

impl<E: Element> Module<E> for ConvTranspose2d<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.forward_with_weight(tape, x, tape.param(&self.weight))
    }
    fn params(&self) -> Vec<Named<E>> {
        weight_and_bias(self)
    }
}
