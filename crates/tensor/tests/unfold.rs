//! `unfold` (im2col) and `fold` (col2im) against direct loops written from PyTorch's
//! `F.unfold` definition, for strides, padding, dilation and non-square windows, and the
//! property that `fold` is the adjoint of `unfold`.

mod common;

use common::{assert_within, eps, for_each_tap, grid, inner, randn, values};
use gantry_tensor::{ColumnLayout, Element, Tensor, Window2d};
use proptest::prelude::*;

fn window(
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> Window2d {
    Window2d {
        kernel,
        stride,
        padding,
        dilation,
    }
}

/// The image shapes and windows tried: DCGAN's k4 s2 p1, odd and non-square sizes,
/// strides larger than the kernel, dilation, windows that see only padding.
fn cases() -> Vec<([usize; 4], Window2d)> {
    vec![
        ([2, 3, 7, 5], Window2d::square(3, 1, 1)),
        ([1, 1, 28, 28], Window2d::square(4, 2, 1)),
        ([2, 3, 14, 14], Window2d::square(4, 2, 1)),
        ([3, 2, 7, 7], Window2d::square(4, 2, 1)),
        ([1, 2, 7, 5], window([2, 3], [1, 2], [0, 1], [2, 1])),
        ([2, 2, 9, 8], window([3, 2], [3, 2], [2, 0], [1, 3])),
        ([1, 2, 11, 11], Window2d::square(2, 3, 0)),
        ([1, 1, 1, 1], Window2d::square(1, 1, 0)),
        ([1, 1, 1, 1], Window2d::square(3, 1, 1)),
        ([1, 1, 3, 3], Window2d::square(3, 1, 2)),
        ([2, 1, 5, 33], window([1, 4], [1, 3], [0, 2], [1, 2])),
        // Stride 2 adds taps j, j + 1 as pairs: odd kernel widths, odd image widths, padding
        // wider than the kernel (pairs with one tap, or none, inside).
        ([1, 2, 9, 9], Window2d::square(3, 2, 1)),
        ([2, 1, 8, 7], window([2, 5], [1, 2], [0, 2], [1, 1])),
        ([1, 1, 5, 6], window([3, 2], [2, 2], [1, 3], [1, 1])),
        ([1, 1, 4, 9], window([1, 6], [1, 2], [0, 1], [1, 1])),
        ([4, 8, 16, 16], Window2d::square(3, 1, 1)), // large enough for the parallel path
    ]
}

fn unfold_matches_definition<E: Element>() {
    for (s, (image, win)) in cases().into_iter().enumerate() {
        let [n, c, h, w] = image;
        let [oh, ow] = grid(h, w, &win);
        let cols_shape = [n, c * win.kernel[0] * win.kernel[1], oh * ow];
        let x = randn::<E>(&image, s as u64);
        // The same image stored as [N, H, W, C] and permuted: a strided input.
        let x_nhwc = randn::<E>(&[n, h, w, c], s as u64 + 50).permute(&[0, 3, 1, 2]);
        for x in [x, x_nhwc] {
            let xv = values(&x);
            let mut want = vec![0.0; cols_shape.iter().product()];
            for_each_tap(image, &win, |col, pix| want[col] = xv[pix]);
            let got = x.unfold(&win);
            assert_eq!(got.shape(), &cols_shape, "unfold {image:?} {win:?}");
            assert_eq!(values(&got), want, "unfold {image:?} {win:?}");
        }
    }
}

#[test]
fn unfold_matches_definition_f32() {
    unfold_matches_definition::<f32>();
}

#[test]
fn unfold_matches_definition_f64() {
    unfold_matches_definition::<f64>();
}

fn fold_matches_definition<E: Element>() {
    for (s, (image, win)) in cases().into_iter().enumerate() {
        let [n, c, h, w] = image;
        let [oh, ow] = grid(h, w, &win);
        let ckk = c * win.kernel[0] * win.kernel[1];
        let cols = randn::<E>(&[n, ckk, oh * ow], s as u64);
        // Columns stored as [N, L, C·kh·kw] and transposed: a strided input.
        let cols_t = randn::<E>(&[n, oh * ow, ckk], s as u64 + 50).t();
        for cols in [cols, cols_t] {
            let cv = values(&cols);
            let count: usize = image.iter().product();
            let (mut want, mut abs) = (vec![0.0; count], vec![0.0; count]);
            for_each_tap(image, &win, |col, pix| {
                want[pix] += cv[col];
                abs[pix] += cv[col].abs();
            });
            let taps = (win.kernel[0] * win.kernel[1]) as f64;
            let tol: Vec<f64> = abs.iter().map(|a| (taps + 1.0) * eps::<E>() * a).collect();
            let got = cols.fold([h, w], &win);
            assert_eq!(got.shape(), &image, "fold {image:?} {win:?}");
            assert_within(
                &values(&got),
                &want,
                &tol,
                &format!("fold {image:?} {win:?}"),
            );
        }
    }
}

#[test]
fn fold_matches_definition_f32() {
    fold_matches_definition::<f32>();
}

#[test]
fn fold_matches_definition_f64() {
    fold_matches_definition::<f64>();
}

#[test]
fn windows_that_do_not_fit_are_errors() {
    let x = Tensor::<f32>::zeros(&[1, 1, 2, 2]);
    let e = x.try_unfold(&Window2d::square(3, 1, 0)).unwrap_err();
    assert!(e.to_string().starts_with("unfold: window"), "{e}");
    assert!(
        e.to_string().contains("does not fit an input of 2x2"),
        "{e}"
    );
    for bad in [
        window([0, 1], [1, 1], [0, 0], [1, 1]),
        window([1, 1], [0, 1], [0, 0], [1, 1]),
        window([2, 2], [1, 1], [0, 0], [1, 0]),
    ] {
        assert!(x.try_unfold(&bad).is_err(), "{bad:?}");
        assert!(Tensor::<f32>::zeros(&[1, 1, 4])
            .try_fold([2, 2], &bad)
            .is_err());
    }
    let e = Tensor::<f32>::zeros(&[2, 3, 4]).try_unfold(&Window2d::square(1, 1, 0));
    assert_eq!(
        e.unwrap_err().to_string(),
        "unfold: expected [N, C, H, W], got [2, 3, 4]"
    );
    // 9 positions for a 3x3 window over 5x5, but only 8 columns given.
    let e = Tensor::<f32>::zeros(&[1, 9, 8]).try_fold([5, 5], &Window2d::square(3, 1, 0));
    assert_eq!(
        e.unwrap_err().to_string(),
        "fold: columns [1, 9, 8] do not match a 3x3 window over 5x5 (9 positions)"
    );
}

/// Any window that fits an image of at most 2x5x9x9 (from 4 channels, batched unfold
/// splits its work by channel).
fn image_and_window() -> impl Strategy<Value = ([usize; 4], Window2d)> {
    (
        (1usize..=2, 1usize..=5, 1usize..=9, 1usize..=9),
        (
            [1usize..=4, 1..=4],
            [1usize..=3, 1..=3],
            [0usize..=2, 0..=2],
            [1usize..=2, 1..=2],
        ),
    )
        .prop_map(|((n, c, h, w), (kernel, stride, padding, dilation))| {
            ([n, c, h, w], window(kernel, stride, padding, dilation))
        })
        .prop_filter("window must fit", |&([_, _, h, w], win)| {
            (0..2).all(|a| {
                let size = [h, w][a] + 2 * win.padding[a];
                size > win.dilation[a] * (win.kernel[a] - 1)
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// ⟨fold(a), b⟩ = ⟨a, unfold(b)⟩ in f64: fold is the adjoint of unfold.
    #[test]
    fn fold_is_adjoint_of_unfold((image, win) in image_and_window(), seed in any::<u64>()) {
        let [n, c, h, w] = image;
        let [oh, ow] = grid(h, w, &win);
        let a = randn::<f64>(&[n, c * win.kernel[0] * win.kernel[1], oh * ow], seed);
        let b = randn::<f64>(&image, seed ^ 0x5eed);
        let (lhs, scale) = inner(&a.fold([h, w], &win), &b);
        let (rhs, _) = inner(&a, &b.unfold(&win));
        prop_assert!((lhs - rhs).abs() <= 1e-12 * (scale + 1.0), "{} vs {}", lhs, rhs);
    }

    /// The batched layout `[C·kh·kw, N·L]` holds exactly PyTorch's columns `[N, C·kh·kw, L]`
    /// with the image axis moved inside, and its fold gives the same bits as the per-image
    /// fold (each pixel sums its taps in the same order).
    #[test]
    fn batched_columns_are_the_per_image_columns_reordered(
        (image, win) in image_and_window(),
        seed in any::<u64>(),
    ) {
        let [n, c, h, w] = image;
        let [oh, ow] = grid(h, w, &win);
        let (ckk, l) = (c * win.kernel[0] * win.kernel[1], oh * ow);
        let x = randn::<f32>(&image, seed);
        let reordered = |per_image: &Tensor<f32>| {
            per_image.permute(&[1, 0, 2]).reshape(&[ckk, n * l])
        };
        prop_assert_eq!(
            x.unfold_as(&win, ColumnLayout::Batched),
            reordered(&x.unfold(&win))
        );
        let cols = randn::<f32>(&[n, ckk, l], seed ^ 0xc015);
        prop_assert_eq!(
            reordered(&cols).fold_as([h, w], &win, ColumnLayout::Batched),
            cols.fold([h, w], &win)
        );
    }
}

/// Batched unfold above the parallel threshold (work split by channel) at a DCGAN size:
/// PyTorch's columns reordered, as in the property above.
#[test]
fn large_batched_columns_are_the_per_image_columns_reordered() {
    let win = Window2d::square(4, 2, 1);
    let x = randn::<f32>(&[8, 16, 14, 14], 7);
    let per_image = x.unfold(&win);
    assert!(per_image.len() >= 1 << 16);
    assert_eq!(
        x.unfold_as(&win, ColumnLayout::Batched),
        per_image.permute(&[1, 0, 2]).reshape(&[16 * 16, 8 * 49])
    );
}

#[test]
fn batched_columns_of_the_wrong_shape_are_errors() {
    let win = Window2d::square(3, 1, 0);
    // 9 positions per image over 5x5: 20 columns are not a whole number of images.
    let e = Tensor::<f32>::zeros(&[9, 20]).try_fold_as([5, 5], &win, ColumnLayout::Batched);
    assert_eq!(
        e.unwrap_err().to_string(),
        "fold: columns [9, 20] do not match a 3x3 window over 5x5 (9 positions per image, batched layout)"
    );
    let e = Tensor::<f32>::zeros(&[1, 9, 9]).try_fold_as([5, 5], &win, ColumnLayout::Batched);
    assert_eq!(
        e.unwrap_err().to_string(),
        "fold: expected [C*kh*kw, N*L] columns, got [1, 9, 9]"
    );
}
