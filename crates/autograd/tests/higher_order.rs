//! Derivatives of order three against a closed form.
//!
//! With `t = tanh x`:
//! `d/dx t = 1 − t²`, `d²/dx² t = −2t(1 − t²)`, `d³/dx³ t = −2(1 − t²)(1 − 3t²)`
//! (the third by the product rule on `−2t·(1 − t²)`: `−2[(1 − t²)² − 2t²(1 − t²)]`).
//! Each order is one more `tape.grad(…, create_graph = true)` over the previous gradient.

use gantry_autograd::Tape;
use gantry_tensor::Tensor;

const XS: [f64; 8] = [-2.5, -1.1, -0.4, -0.05, 0.0, 0.3, 0.9, 2.0];

fn assert_close_to(name: &str, got: &Tensor<f64>, want: impl Fn(f64) -> f64) {
    for (&x, g) in XS.iter().zip(got.to_vec()) {
        let w = want(x.tanh());
        assert!(
            (g - w).abs() < 1e-10,
            "{name} at x = {x}: got {g}, want {w}"
        );
    }
}

#[test]
fn tanh_derivatives_to_third_order() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(XS.to_vec(), &[XS.len()]));
    // Elementwise, so the gradient of the sum is the derivative at every point.
    let d1 = tape.grad(x.tanh().sum(), &[x], true)[0];
    let d2 = tape.grad(d1.sum(), &[x], true)[0];
    let d3 = tape.grad(d2.sum(), &[x], false)[0];
    assert_close_to("d/dx", &d1.value(), |t| 1.0 - t * t);
    assert_close_to("d²/dx²", &d2.value(), |t| -2.0 * t * (1.0 - t * t));
    assert_close_to("d³/dx³", &d3.value(), |t| {
        -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t)
    });
}

#[test]
fn third_order_without_recording_the_last_pass_matches() {
    // grad_values (the fast path) for the last order gives the same numbers.
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(XS.to_vec(), &[XS.len()]));
    let d1 = tape.grad(x.tanh().sum(), &[x], true)[0];
    let d2 = tape.grad(d1.sum(), &[x], true)[0];
    let d3 = tape.grad_values(d2.sum(), &[x]).remove(0);
    assert_close_to("d³/dx³", &d3, |t| {
        -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t)
    });
}

#[test]
fn mixed_partials_of_a_product_are_symmetric() {
    // f(x, y) = x²·y³: ∂²f/∂x∂y = ∂²f/∂y∂x = 6·x·y², and ∂³f/∂x∂y² = 12·x·y.
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::scalar(0.7));
    let y = tape.var(Tensor::scalar(-1.3));
    let f = x.square() * y.pow(3.0);
    let g = tape.grad(f, &[x, y], true);
    let fxy = tape.grad(g[0], &[y], true)[0];
    let fyx = tape.grad(g[1], &[x], false)[0];
    let want = 6.0 * 0.7 * 1.3 * 1.3;
    assert!(
        (fxy.item() - want).abs() < 1e-12,
        "∂²f/∂x∂y = {}",
        fxy.item()
    );
    assert!(
        (fyx.item() - want).abs() < 1e-12,
        "∂²f/∂y∂x = {}",
        fyx.item()
    );
    let fxyy = tape.grad(fxy, &[y], false)[0];
    assert!((fxyy.item() - 12.0 * 0.7 * -1.3).abs() < 1e-12);
}
