//! Shape ops against index loops: reshape, permute / transpose, narrow, broadcast_to,
//! concat, on contiguous tensors and on views, and views composed with each other.

mod common;

use common::{broadcast_source, randn, ravel, unravel, values};
use gantry_tensor::{Element, Tensor};

/// `out[idx] = x[source(idx)]` for every output index: the reference for every view.
fn gather(
    x: &Tensor<impl Element>,
    out_shape: &[usize],
    source: impl Fn(&[usize]) -> Vec<usize>,
) -> Vec<f64> {
    let xv = values(x);
    let count: usize = out_shape.iter().product();
    (0..count)
        .map(|flat| xv[ravel(&source(&unravel(flat, out_shape)), x.shape())])
        .collect()
}

fn permute_and_transpose<E: Element>() {
    let x = randn::<E>(&[2, 7, 1, 5], 1);
    let perm = [2, 0, 3, 1];
    let p = x.permute(&perm);
    let shape: Vec<usize> = perm.iter().map(|&a| x.shape()[a]).collect();
    assert_eq!(p.shape(), &shape[..]);
    let want = gather(&x, &shape, |idx| {
        let mut src = vec![0; 4];
        for (o, &a) in perm.iter().enumerate() {
            src[a] = idx[o];
        }
        src
    });
    assert_eq!(values(&p), want);
    // transpose(1, 3) and t() swap two axes.
    let tr = x.transpose(1, 3);
    assert_eq!(tr.shape(), &[2, 5, 1, 7]);
    assert_eq!(
        values(&tr),
        gather(&x, &[2, 5, 1, 7], |i| vec![i[0], i[3], i[2], i[1]])
    );
    let t = x.t();
    assert_eq!(t.shape(), &[2, 7, 5, 1]);
    assert_eq!(
        values(&t),
        gather(&x, &[2, 7, 5, 1], |i| vec![i[0], i[1], i[3], i[2]])
    );
    // A view of a view, made contiguous, holds the same values.
    assert_eq!(values(&p.t().contiguous()), values(&p.t()));
    assert!(p.t().contiguous().is_contiguous());
}

#[test]
fn permute_and_transpose_f32() {
    permute_and_transpose::<f32>();
}

#[test]
fn permute_and_transpose_f64() {
    permute_and_transpose::<f64>();
}

fn narrow_every_axis<E: Element>() {
    let x = randn::<E>(&[7, 33, 5], 2);
    for axis in 0..3 {
        let len = x.shape()[axis];
        for &(start, n) in &[(0, len), (1, len - 2), (len - 1, 1), (2, 0)] {
            let v = x.narrow(axis, start, n);
            let mut shape = x.shape().to_vec();
            shape[axis] = n;
            assert_eq!(v.shape(), &shape[..]);
            let want = gather(&x, &shape, |idx| {
                let mut s = idx.to_vec();
                s[axis] += start;
                s
            });
            assert_eq!(values(&v), want, "narrow({axis}, {start}, {n})");
        }
    }
    // Narrowing a transposed view.
    let v = x.t().narrow(1, 1, 3);
    assert_eq!(
        values(&v),
        gather(&x, &[7, 3, 33], |i| vec![i[0], i[2], i[1] + 1])
    );
}

#[test]
fn narrow_every_axis_f32() {
    narrow_every_axis::<f32>();
}

#[test]
fn narrow_every_axis_f64() {
    narrow_every_axis::<f64>();
}

/// `contiguous` of views whose last axes keep unit stride (copied row by row, the rows
/// spanning every trailing axis laid out contiguously): a convolution's `[N, O, oh, ow]` seen
/// channels-major, a slice across the middle of the rows, a slice of the last axis (rows
/// that cannot merge), a length-1 axis; small, and large enough to be split over threads.
fn contiguous_copies_row_by_row<E: Element>() {
    for (shape, seed) in [([3, 5, 2, 3], 1), ([64, 32, 7, 7], 2), ([2, 9, 1, 6], 3)] {
        let x = randn::<E>(&shape, seed);
        let [a, b, h, w] = shape;
        let p = x.permute(&[1, 0, 2, 3]);
        let want = gather(&x, &[b, a, h, w], |i| vec![i[1], i[0], i[2], i[3]]);
        assert_eq!(values(&p.contiguous()), want, "{shape:?} channels-major");
        assert!(p.contiguous().is_contiguous());
        // Rows from the middle of each image: the kept rows are still contiguous per image.
        let mid = p.narrow(2, h / 2, h - h / 2);
        let want = gather(&x, &[b, a, h - h / 2, w], |i| {
            vec![i[1], i[0], i[2] + h / 2, i[3]]
        });
        assert_eq!(values(&mid.contiguous()), want, "{shape:?} narrowed rows");
        // A slice of the last axis: rows of w − 1 that are not contiguous with each other.
        let cols = p.narrow(3, 1, w - 1);
        let want = gather(&x, &[b, a, h, w - 1], |i| vec![i[1], i[0], i[2], i[3] + 1]);
        assert_eq!(
            values(&cols.contiguous()),
            want,
            "{shape:?} narrowed columns"
        );
    }
}

#[test]
fn contiguous_copies_row_by_row_f32() {
    contiguous_copies_row_by_row::<f32>();
}

#[test]
fn contiguous_copies_row_by_row_f64() {
    contiguous_copies_row_by_row::<f64>();
}

fn reshape_keeps_row_major_order<E: Element>() {
    let x = randn::<E>(&[7, 33], 3);
    assert_eq!(values(&x.reshape(&[33, 7])), values(&x));
    assert_eq!(x.reshape(&[3, 7, 11]).shape(), &[3, 7, 11]);
    // From a strided view: the logical (row-major) order of the view is kept.
    let t = x.t();
    assert_eq!(values(&t.reshape(&[231])), values(&t));
    assert_eq!(
        values(&t.reshape(&[231])),
        gather(&x, &[33, 7], |i| vec![i[1], i[0]])
    );
    let s = x.narrow(1, 2, 5);
    assert_eq!(values(&s.reshape(&[5, 7])), values(&s));
    assert_eq!(
        Tensor::<E>::scalar(E::one()).reshape(&[1, 1]).shape(),
        &[1, 1]
    );
}

#[test]
fn reshape_keeps_row_major_order_f32() {
    reshape_keeps_row_major_order::<f32>();
}

#[test]
fn reshape_keeps_row_major_order_f64() {
    reshape_keeps_row_major_order::<f64>();
}

fn broadcast_to_repeats<E: Element>() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[33], &[7, 33]),
        (&[7, 1], &[7, 33]),
        (&[1, 1], &[3, 7, 33]),
        (&[], &[2, 3]),
        (&[5, 1, 3], &[2, 5, 4, 3]),
        (&[7, 33], &[7, 33]),
        // Per-channel blocks (batch-norm statistics), filled by repeating rows.
        (&[1, 4, 1, 1], &[3, 4, 5, 2]),
        (&[4, 1, 1], &[3, 4, 5, 2]),
        (&[5, 2], &[3, 4, 5, 2]),
    ];
    for (i, &(from, to)) in cases.iter().enumerate() {
        let x = randn::<E>(from, i as u64);
        let b = x.broadcast_to(to);
        assert_eq!(b.shape(), to);
        let want = gather(&x, to, |idx| unravel(broadcast_source(idx, from), from));
        assert_eq!(values(&b), want, "{from:?} → {to:?}");
    }
    // A transposed [1, 7] column broadcast to [7, 33].
    let col = randn::<E>(&[1, 7], 9).t();
    let want = gather(&col, &[7, 33], |i| vec![i[0], 0]);
    assert_eq!(values(&col.broadcast_to(&[7, 33])), want);
}

#[test]
fn broadcast_to_repeats_f32() {
    broadcast_to_repeats::<f32>();
}

#[test]
fn broadcast_to_repeats_f64() {
    broadcast_to_repeats::<f64>();
}

fn concat_joins<E: Element>() {
    let a = randn::<E>(&[2, 3, 5], 1);
    let b = randn::<E>(&[2, 4, 5], 2);
    let c = randn::<E>(&[5, 1, 2], 3).permute(&[2, 1, 0]); // [2, 1, 5], strided
    let j = Tensor::concat(&[a.clone(), b.clone(), c.clone()], 1);
    assert_eq!(j.shape(), &[2, 8, 5]);
    let expect: Vec<f64> = (0..80)
        .map(|flat| {
            let i = unravel(flat, &[2, 8, 5]);
            let (part, r) = match i[1] {
                0..=2 => (&a, i[1]),
                3..=6 => (&b, i[1] - 3),
                _ => (&c, i[1] - 7),
            };
            values(part)[ravel(&[i[0], r, i[2]], part.shape())]
        })
        .collect();
    assert_eq!(values(&j), expect);
    // Along the first and last axes.
    let j0 = Tensor::concat(&[a.clone(), a.clone()], 0);
    assert_eq!(values(&j0), [values(&a), values(&a)].concat());
    let j2 = Tensor::concat(&[a.clone(), a.narrow(2, 1, 2)], 2);
    assert_eq!(j2.shape(), &[2, 3, 7]);
    assert_eq!(values(&j2.narrow(2, 5, 2)), values(&a.narrow(2, 1, 2)));
    assert_eq!(values(&j2.narrow(2, 0, 5)), values(&a));
}

#[test]
fn concat_joins_f32() {
    concat_joins::<f32>();
}

#[test]
fn concat_joins_f64() {
    concat_joins::<f64>();
}

#[test]
fn constructors_fill_and_sample() {
    let x = Tensor::<f32>::from_vec((0..6).map(|v| v as f32).collect(), &[2, 3]);
    assert_eq!(x.narrow(1, 1, 1).to_vec(), vec![1.0, 4.0]);
    assert_eq!(Tensor::<f64>::full(&[2, 2], 1.5).to_vec(), vec![1.5; 4]);
    assert!(Tensor::<f32>::zeros(&[0, 3]).is_empty());
    // Seeded sampling is reproducible and has roughly the asked-for moments.
    let a = randn::<f64>(&[10_000], 7);
    assert_eq!(a, randn::<f64>(&[10_000], 7));
    let mean = a.mean().item();
    let var = a.square().mean().item() - mean * mean;
    assert!(
        mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
        "{mean} {var}"
    );
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let u = Tensor::<f32>::rand_uniform(&[10_000], -2.0, 3.0, &mut rng);
    assert!(u.to_vec().iter().all(|&v| (-2.0..3.0).contains(&v)));
    assert!((u.mean().item() - 0.5).abs() < 0.1);
    assert_eq!(x.cast::<f64>().to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

#[test]
fn make_mut_copies_on_write() {
    let a = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let view = a.t();
    let mut b = a.clone();
    b.make_mut()[0] = 9.0;
    assert_eq!(b.to_vec(), vec![9.0, 2.0, 3.0, 4.0]);
    assert_eq!(a.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(view.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    // A strided view is made row-major first, so the slice is in logical order.
    let mut t = a.t();
    t.make_mut()[1] = 7.0;
    assert_eq!(t.to_vec(), vec![1.0, 7.0, 2.0, 4.0]);
    // A row-major window of a larger shared buffer.
    let mut row = a.narrow(0, 1, 1);
    row.make_mut()[0] = 5.0;
    assert_eq!(row.to_vec(), vec![5.0, 4.0]);
    assert_eq!(a.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(view.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
}
