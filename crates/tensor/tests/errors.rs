//! Every refused operation names the op and the shapes involved, both as the `try_` form's
//! error and as the plain form's panic message.

mod common;

use common::panic_message;
use gantry_tensor::{Tensor, Window2d};

fn t(shape: &[usize]) -> Tensor<f32> {
    Tensor::zeros(shape)
}

#[test]
fn matmul_names_both_shapes() {
    let msg = "matmul: cannot multiply [2, 3] by [4, 5] (need [.., m, k] x [.., k, n])";
    assert_eq!(
        t(&[2, 3]).try_matmul(&t(&[4, 5])).unwrap_err().to_string(),
        msg
    );
    assert_eq!(panic_message(|| drop(t(&[2, 3]).matmul(&t(&[4, 5])))), msg);
    assert_eq!(
        t(&[3]).try_matmul(&t(&[3, 2])).unwrap_err().to_string(),
        "matmul: cannot multiply [3] by [3, 2] (need [.., m, k] x [.., k, n])"
    );
    assert_eq!(
        panic_message(|| drop(t(&[2, 3, 4]).matmul(&t(&[5, 4, 6])))),
        "matmul: cannot multiply [2, 3, 4] by [5, 4, 6] (batch axes [2] and [5] do not broadcast)"
    );
}

#[test]
fn binary_ops_name_both_shapes() {
    let a = t(&[3, 2]);
    let b = t(&[3]);
    assert_eq!(
        a.try_zip_with(&b, "add", |x, y| x + y)
            .unwrap_err()
            .to_string(),
        "add: shapes [3, 2] and [3] cannot be broadcast together"
    );
    assert_eq!(
        panic_message(|| drop(a.add(&b))),
        "add: shapes [3, 2] and [3] cannot be broadcast together"
    );
    assert_eq!(
        panic_message(|| drop(&b * &a)),
        "mul: shapes [3] and [3, 2] cannot be broadcast together"
    );
    assert_eq!(
        panic_message(|| drop(t(&[2, 4]).maximum(&t(&[3, 1])))),
        "maximum: shapes [2, 4] and [3, 1] cannot be broadcast together"
    );
}

#[test]
fn bad_axes_name_the_axis_and_shape() {
    let x = t(&[3, 4]);
    let msg = "sum: axis 2 is out of range for a tensor of rank 2 (shape [3, 4])";
    assert_eq!(x.try_sum_axes(&[0, 2], true).unwrap_err().to_string(), msg);
    assert_eq!(panic_message(|| drop(x.sum_axes(&[2], false))), msg);
    assert_eq!(
        panic_message(|| drop(x.max_axes(&[5], false))),
        "max: axis 5 is out of range for a tensor of rank 2 (shape [3, 4])"
    );
    assert_eq!(
        panic_message(|| drop(x.mean_axes(&[2], true))),
        "mean: axis 2 is out of range for a tensor of rank 2 (shape [3, 4])"
    );
    assert_eq!(
        x.try_permute(&[0, 0]).unwrap_err().to_string(),
        "permute: [0, 0] is not a permutation of the axes of shape [3, 4]"
    );
    assert_eq!(
        panic_message(|| drop(x.permute(&[1, 0, 2]))),
        "permute: [1, 0, 2] is not a permutation of the axes of shape [3, 4]"
    );
    assert_eq!(
        panic_message(|| drop(x.transpose(0, 2))),
        "transpose: axes (0, 2) out of range for shape [3, 4]"
    );
    assert_eq!(
        panic_message(|| drop(t(&[3]).t())),
        "t: needs at least 2 axes, got shape [3]"
    );
}

#[test]
fn from_vec_names_length_and_shape() {
    let msg = "from_vec: 5 values cannot fill shape [2, 3] (6 elements)";
    assert_eq!(
        Tensor::<f64>::try_from_vec(vec![0.0; 5], &[2, 3])
            .unwrap_err()
            .to_string(),
        msg
    );
    assert_eq!(
        panic_message(|| drop(Tensor::<f32>::from_vec(vec![0.0; 5], &[2, 3]))),
        msg
    );
}

#[test]
fn shape_ops_name_their_shapes() {
    let x = t(&[3, 4]);
    assert_eq!(
        panic_message(|| drop(x.reshape(&[5, 2]))),
        "reshape: cannot reshape [3, 4] (12 elements) to [5, 2] (10 elements)"
    );
    assert_eq!(
        panic_message(|| drop(x.narrow(1, 2, 3))),
        "narrow: range 2..5 on axis 1 is outside shape [3, 4]"
    );
    assert_eq!(
        panic_message(|| drop(x.broadcast_to(&[3, 5]))),
        "broadcast_to: shape [3, 4] cannot be broadcast to [3, 5]"
    );
    assert_eq!(
        panic_message(|| drop(x.sum_to(&[2, 4]))),
        "sum_to: shape [2, 4] does not broadcast to [3, 4]"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::concat(&[x.clone(), t(&[2, 5])], 0))),
        "concat: shapes [3, 4] and [2, 5] cannot be joined on axis 0"
    );
    assert_eq!(
        panic_message(|| drop(x.unfold(&Window2d::square(3, 1, 0)))),
        "unfold: expected [N, C, H, W], got [3, 4]"
    );
    assert_eq!(
        panic_message(|| {
            t(&[2]).item();
        }),
        "item: tensor of shape [2] holds 2 elements, not 1"
    );
}
