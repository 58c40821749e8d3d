//! What `grad` promises beyond the numbers: shapes of unreachable gradients, accumulation,
//! what the tape keeps after a backward pass, and where gradients stop.

use gantry_autograd::Tape;
use gantry_tensor::Tensor;

fn data(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| 0.3 * i as f64 - 0.5).collect(), shape)
}

#[test]
fn unreachable_wrt_gets_zeros_of_its_shape() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[2]));
    let unused = tape.var(data(&[2, 3]));
    let y = x.exp().sum();
    let later = tape.var(data(&[4])); // made after the output
    for create_graph in [false, true] {
        let g = tape.grad(y, &[x, unused, later], create_graph);
        assert_eq!(g[1].value(), Tensor::zeros(&[2, 3]));
        assert_eq!(g[2].value(), Tensor::zeros(&[4]));
    }
    let g = tape.grad_values(y, &[unused]);
    assert_eq!(g[0], Tensor::zeros(&[2, 3]));
    // An output that wants no gradient at all (a constant).
    let c = tape.constant(data(&[3])).sum();
    assert_eq!(tape.grad_values(c, &[x])[0], Tensor::zeros(&[2]));
}

#[test]
fn a_var_used_twice_accumulates() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[5]));
    let g = tape.grad_values((x * x).sum(), &[x]).remove(0);
    assert_eq!(g, x.value().mul_scalar(2.0));
    // Through different paths: d/dx (x·eˣ + x) = eˣ(1 + x) + 1.
    let g = tape.grad_values((x * x.exp() + x).sum(), &[x]).remove(0);
    let want = x
        .value()
        .exp()
        .mul(&x.value().add_scalar(1.0))
        .add_scalar(1.0);
    for (a, b) in g.to_vec().iter().zip(want.to_vec()) {
        assert!((a - b).abs() < 1e-12);
    }
    // The same Var listed twice in wrt gets the full gradient both times.
    let g = tape.grad_values((x * 3.0).sum(), &[x, x]);
    assert_eq!(g[0], Tensor::full(&[5], 3.0));
    assert_eq!(g[1], Tensor::full(&[5], 3.0));
}

#[test]
fn gradient_with_respect_to_an_intermediate() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[3]));
    let h = x.tanh();
    let y = (h * h).sum();
    let g = tape.grad_values(y, &[h, x]);
    assert_eq!(g[0], h.value().mul_scalar(2.0));
    let t = x.value().tanh();
    let want = t.mul_scalar(2.0).mul(&t.square().neg().add_scalar(1.0));
    for (a, b) in g[1].to_vec().iter().zip(want.to_vec()) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn backward_without_create_graph_leaves_the_tape_as_it_was() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[4, 3]));
    let w = tape.var(data(&[3, 2]));
    let y = x.matmul(w).tanh().square().mean();
    let first = tape.grad_values(y, &[x, w]);

    let len = tape.len();
    for _ in 0..100 {
        let g = tape.grad_values(y, &[x, w]);
        assert_eq!(g, first, "repeated backward passes agree");
    }
    assert_eq!(tape.len(), len, "grad_values records nothing");

    for _ in 0..100 {
        let before = tape.len();
        let g = tape.grad(y, &[x, w], false);
        assert!(
            tape.len() - before <= 2,
            "grad(.., false) adds only its {} results, added {}",
            2,
            tape.len() - before
        );
        assert_eq!(g[1].value(), first[1]);
    }
}

#[test]
fn create_graph_makes_differentiable_gradients() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[3]));
    let y = x.exp().sum();
    let g = tape.grad(y, &[x], true);
    assert!(g[0].requires_grad());
    let g = tape.grad(y, &[x], false);
    assert!(!g[0].requires_grad());
}

#[test]
fn detach_stops_gradients() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[4]));
    let d = x.detach();
    assert!(!d.requires_grad());
    assert_eq!(d.value(), x.value());
    // d/dx (stop(x) · x) = x, not 2x.
    let g = tape.grad_values((d * x).sum(), &[x]).remove(0);
    assert_eq!(g, x.value());
    // Nothing flows into the detached copy's source through it alone.
    let g = tape.grad_values(d.exp().sum(), &[x]).remove(0);
    assert_eq!(g, Tensor::zeros(&[4]));
}

#[test]
fn no_grad_records_nothing() {
    let tape = Tape::<f64>::new();
    let x = tape.var(data(&[4]));
    let y = tape.no_grad(|| (x.exp() * x).sum());
    assert!(!y.requires_grad());
    assert!((y.item() - (x.value().exp().mul(&x.value())).sum().item()).abs() < 1e-12);
    assert_eq!(tape.grad_values(y, &[x])[0], Tensor::zeros(&[4]));
    // Recording resumes afterwards.
    let z = (x.exp() * x).sum();
    assert!(z.requires_grad());
    assert_ne!(tape.grad_values(z, &[x])[0], Tensor::zeros(&[4]));
}

#[test]
fn constants_want_no_gradient() {
    let tape = Tape::<f64>::new();
    let c = tape.constant(data(&[3]));
    let x = tape.var(data(&[3]));
    assert!(!c.requires_grad());
    assert!(!(c.exp() * 2.0).requires_grad());
    assert!((c * x).requires_grad());
    // A constant in wrt gets zeros: nothing was recorded into it.
    let g = tape.grad_values((c * x).sum(), &[c, x]);
    assert_eq!(g[0], Tensor::zeros(&[3]));
    assert_eq!(g[1], c.value());
}

#[test]
fn keyed_var_is_one_leaf_per_key() {
    let tape = Tape::<f64>::new();
    let a = tape.keyed_var(7, || data(&[2]));
    let b = tape.keyed_var(7, || panic!("made once"));
    assert_eq!(a.index(), b.index());
    let g = tape.grad_values((a * 2.0 + b).sum(), &[a]).remove(0);
    assert_eq!(g, Tensor::full(&[2], 3.0));
}

#[test]
fn ties_follow_the_documented_rules() {
    let tape = Tape::<f64>::new();
    // max_axes: the tied maxima share the gradient equally (PyTorch's amax).
    let x = tape.var(Tensor::from_vec(vec![1.0, 3.0, 3.0, 2.0], &[4]));
    let g = tape.grad_values(x.max_axes(&[0], false), &[x]).remove(0);
    assert_eq!(g.to_vec(), vec![0.0, 0.5, 0.5, 0.0]);
    // maximum / minimum: a tie sends the whole gradient to the left operand.
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let b = tape.var(Tensor::from_vec(vec![1.0, 0.0], &[2]));
    let g = tape.grad_values(a.maximum(b).sum(), &[a, b]);
    assert_eq!(
        (g[0].to_vec(), g[1].to_vec()),
        (vec![1.0, 1.0], vec![0.0, 0.0])
    );
    let g = tape.grad_values(a.minimum(b).sum(), &[a, b]);
    assert_eq!(
        (g[0].to_vec(), g[1].to_vec()),
        (vec![1.0, 0.0], vec![0.0, 1.0])
    );
}

/// A gradient penalty asks for `∂D/∂x` only; the weights' gradients would be thrown away,
/// so their VJPs must not run (nor be recorded with `create_graph`).
#[test]
fn only_the_asked_gradients_are_computed() {
    let recorded = |wrt_weight: bool| {
        let tape = Tape::<f64>::new();
        let w = tape.var(data(&[3, 4]));
        let x = tape.var(data(&[2, 3]));
        let y = x.matmul(w).tanh().sum();
        let before = tape.len();
        let wrt = if wrt_weight { vec![x, w] } else { vec![x] };
        let g = tape.grad(y, &wrt, true);
        // The input gradient is the same either way: (1 − tanh²(xW))·Wᵀ.
        (tape.len() - before, g[0].value())
    };
    let (only_x, gx) = recorded(false);
    let (both, gx_both) = recorded(true);
    assert_eq!(gx, gx_both);
    // ḡw = xᵀ·ḡ is one transpose and one matmul more.
    assert!(
        only_x + 2 <= both,
        "{only_x} nodes recorded for ∂y/∂x alone, {both} for ∂y/∂x and ∂y/∂w"
    );
}
