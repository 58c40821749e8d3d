//! Misuse panics early, with a message that says what went wrong.

use gantry_autograd::{conv2d, ConvOptions, Tape, Var};
use gantry_tensor::Tensor;

fn ones(shape: &[usize]) -> Tensor<f64> {
    Tensor::ones(shape)
}

#[test]
#[should_panic(expected = "different tapes")]
fn combining_vars_of_two_tapes() {
    let (a, b) = (Tape::new(), Tape::new());
    let _ = a.var(ones(&[2])) + b.var(ones(&[2]));
}

#[test]
#[should_panic(expected = "different tapes")]
fn matmul_across_tapes() {
    let (a, b) = (Tape::new(), Tape::new());
    let _ = a.var(ones(&[2, 2])).matmul(b.constant(ones(&[2, 2])));
}

#[test]
#[should_panic(expected = "different tapes")]
fn concat_across_tapes() {
    let (a, b) = (Tape::new(), Tape::new());
    let _ = Var::concat(&[a.var(ones(&[2])), b.var(ones(&[2]))], 0);
}

#[test]
#[should_panic(expected = "single value")]
fn grad_of_a_non_scalar_output() {
    let tape = Tape::new();
    let x = tape.var(ones(&[2, 3]));
    let _ = tape.grad(x.exp(), &[x], false);
}

#[test]
#[should_panic(expected = "single value")]
fn grad_values_of_a_non_scalar_output() {
    let tape = Tape::new();
    let x = tape.var(ones(&[3]));
    let _ = tape.grad_values(x * 2.0, &[x]);
}

#[test]
#[should_panic(expected = "not on this tape")]
fn wrt_from_another_tape() {
    let (a, b) = (Tape::<f64>::new(), Tape::new());
    let x = a.var(ones(&[2]));
    let y = b.var(ones(&[2]));
    let _ = a.grad(x.sum(), &[y], true);
}

#[test]
#[should_panic(expected = "not on this tape")]
fn output_from_another_tape() {
    let (a, b) = (Tape::<f64>::new(), Tape::new());
    let x = b.var(ones(&[2]));
    let _ = a.grad_values(x.sum(), &[x]);
}

#[test]
#[should_panic(expected = "conv2d")]
fn conv2d_channel_mismatch() {
    let tape = Tape::<f64>::new();
    let x = tape.var(ones(&[1, 2, 5, 5]));
    let w = tape.var(ones(&[3, 3, 3, 3])); // 3 input channels, the image has 2
    let _ = conv2d(x, w, None, ConvOptions::default());
}

#[test]
#[should_panic(expected = "conv2d")]
fn conv2d_kernel_larger_than_image() {
    let tape = Tape::<f64>::new();
    let x = tape.var(ones(&[1, 1, 2, 2]));
    let w = tape.var(ones(&[1, 1, 3, 3]));
    let _ = conv2d(x, w, None, ConvOptions::default());
}

#[test]
#[should_panic(expected = "conv_matmul: columns [9, 18] are not the batched columns")]
fn conv_matmul_with_columns_of_another_input() {
    let tape = Tape::new();
    let win = gantry_tensor::Window2d::square(3, 2, 1);
    // Columns of a [2, 1, 5, 5] batch, given with a [2, 1, 7, 7] input (16 positions each).
    let x = tape.var(ones(&[2, 1, 5, 5]));
    let cols = x.unfold_as(&win, gantry_tensor::ColumnLayout::Batched);
    let other = tape.var(ones(&[2, 1, 7, 7]));
    let _ = tape.var(ones(&[4, 9])).conv_matmul(cols, other, &win);
}
