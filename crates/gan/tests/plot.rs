//! Every plot writes a PNG that decodes back with the documented size and the expected
//! pixels, and bad input is an error, not a panic.
//!
//! Set `GANTRY_PLOT_DIR=/some/folder` to keep the pictures there and look at them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use gantry_gan::data::digits::Digits;
use gantry_gan::plot::{
    heatmap, image_grid, line_plot, scatter, viridis, Bounds, Curve, Field, Labels, PlotError,
    Series, PALETTE,
};
use gantry_tensor::Tensor;
use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The folder a test writes its pictures to: `$GANTRY_PLOT_DIR` if set (and kept), else a
/// fresh temp folder removed when the test ends.
struct OutDir {
    path: PathBuf,
    keep: bool,
}

impl OutDir {
    fn new() -> OutDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let (path, keep) = match std::env::var_os("GANTRY_PLOT_DIR") {
            Some(dir) => (PathBuf::from(dir), true),
            None => {
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let name = format!("gantry-plot-{}-{n}", std::process::id());
                (std::env::temp_dir().join(name), false)
            }
        };
        std::fs::create_dir_all(&path).unwrap();
        OutDir { path, keep }
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn open(path: &PathBuf) -> RgbImage {
    image::open(path).unwrap().to_rgb8()
}

fn px(img: &RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: i32) -> bool {
    a.iter()
        .zip(&b)
        .all(|(&a, &b)| (i32::from(a) - i32::from(b)).abs() <= tolerance)
}

/// Dark pixels (text, axes) inside a rectangle.
fn dark_pixels(img: &RgbImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> usize {
    y.flat_map(|y| x.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| px(img, x, y).iter().all(|&c| c < 100))
        .count()
}

/// Points of the 8-Gaussian ring (radius 2, σ 0.02 as in the WGAN-GP toy data, or wider).
fn ring(n: usize, sigma: f32, rng: &mut StdRng) -> Vec<f32> {
    (0..n)
        .flat_map(|_| {
            let k = rng.gen_range(0..8) as f32 * std::f32::consts::FRAC_PI_4;
            let (u1, u2): (f32, f32) = (rng.gen_range(1e-7..1.0), rng.gen());
            // Box-Muller: a standard normal pair from two uniforms.
            let (r, angle) = ((-2.0 * u1.ln()).sqrt(), std::f32::consts::TAU * u2);
            let (gx, gy) = (r * angle.cos(), r * angle.sin());
            [2.0 * k.cos() + sigma * gx, 2.0 * k.sin() + sigma * gy]
        })
        .collect()
}

// ---------------------------------------------------------------- image_grid

#[test]
fn grid_places_each_image_in_its_tile_at_scale() {
    // Five 3x2 gray images; image k's pixel p holds a distinct value in [-1, 1].
    let values: Vec<f32> = (0..30).map(|i| i as f32 / 29.0 * 2.0 - 1.0).collect();
    let images = Tensor::from_vec(values.clone(), &[5, 1, 3, 2]);
    let dir = OutDir::new();
    let path = dir.join("grid_small.png");
    image_grid(&images, 3, 4, &path).unwrap();
    let img = open(&path);
    // 3 columns of 2·4 pixels and 4 separators of 2; 2 rows of 3·4 and 3 separators.
    assert_eq!(img.dimensions(), (3 * 8 + 4 * 2, 2 * 12 + 3 * 2));
    let gray = |v: f32| {
        let b = ((v + 1.0) * 127.5).round() as u8;
        [b, b, b]
    };
    // Image 4 sits in row 1, column 1; its pixel (y 2, x 1) is values[4·6 + 2·2 + 1].
    let (left, top) = (2 + (2 * 4 + 2), 2 + (3 * 4 + 2));
    for (dx, dy) in [(0, 0), (3, 3), (1, 2)] {
        let at = px(&img, left + 4 + dx, top + 8 + dy);
        assert_eq!(at, gray(values[4 * 6 + 2 * 2 + 1]));
    }
    assert_eq!(px(&img, left, top), gray(values[24]));
    // Separators and the unused last cell are the separator colour, not gray.
    let separator = px(&img, 0, 0);
    assert!(separator[2] > separator[0], "{separator:?}");
    assert_eq!(px(&img, 1 + 2 * 10, 14 + 6), separator);
    assert_eq!(px(&img, left - 1, top + 5), separator);
}

#[test]
fn grid_draws_rgb_and_marks_non_finite_values() {
    let mut values = vec![-1.0f32; 2 * 3 * 4];
    values[0] = 1.0; // image 0, red channel, pixel 0
    values[4 + 1] = 1.0; // image 0, green channel, pixel 1
    values[12] = f32::NAN; // image 1, red channel, pixel 0
    values[12 + 4 + 3] = 7.0; // image 1, green, pixel 3: clamped to 255
    let images = Tensor::from_vec(values, &[2, 3, 2, 2]);
    let dir = OutDir::new();
    let path = dir.join("grid_rgb.png");
    image_grid(&images, 8, 1, &path).unwrap();
    let img = open(&path);
    assert_eq!(img.dimensions(), (2 * 2 + 3 * 2, 2 + 2 * 2));
    assert_eq!(px(&img, 2, 2), [255, 0, 0]);
    assert_eq!(px(&img, 3, 2), [0, 255, 0]);
    assert_eq!(px(&img, 6, 2), [255, 0, 255]); // NaN: magenta
    assert_eq!(px(&img, 7, 3), [0, 255, 0]);
}

#[test]
fn grid_rejects_bad_input_without_panicking() {
    let dir = OutDir::new();
    let path = dir.join("never.png");
    let bad = |images: Tensor<f32>, cols, scale| image_grid(&images, cols, scale, &path);
    assert!(matches!(
        bad(Tensor::zeros(&[4, 8, 8]), 2, 1),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(matches!(
        bad(Tensor::zeros(&[4, 2, 8, 8]), 2, 1),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(matches!(
        bad(Tensor::zeros(&[0, 1, 8, 8]), 2, 1),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(matches!(
        bad(Tensor::zeros(&[4, 1, 8, 8]), 0, 1),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(matches!(
        bad(Tensor::zeros(&[4, 1, 8, 8]), 2, 0),
        Err(PlotError::InvalidInput(_))
    ));
    let huge = bad(Tensor::zeros(&[4, 1, 8, 8]), 4, usize::MAX / 2);
    assert!(huge
        .unwrap_err()
        .to_string()
        .contains("larger than 16384 pixels"));
    assert!(!path.exists());

    let missing = dir.join("no-such-folder").join("grid.png");
    let error = image_grid(&Tensor::zeros(&[1, 1, 2, 2]), 1, 1, &missing).unwrap_err();
    assert!(matches!(error, PlotError::Io { .. }), "{error}");
    assert!(error.to_string().contains("grid.png.tmp"), "{error}");
}

#[test]
fn writing_replaces_the_file_atomically_and_leaves_no_temporary() {
    let dir = OutDir::new();
    let path = dir.join("grid_replaced.png");
    std::fs::write(&path, b"old contents").unwrap();
    image_grid(&Tensor::zeros(&[1, 1, 2, 2]), 1, 1, &path).unwrap();
    assert_eq!(open(&path).dimensions(), (6, 6));
    assert!(!dir.join("grid_replaced.png.tmp").exists());
}

#[test]
fn bundled_digits_make_a_readable_grid() {
    let digits = Digits::load().unwrap();
    let first: Vec<f32> = digits.images.to_vec()[..64 * 64].to_vec();
    let images = Tensor::from_vec(first, &[64, 1, 8, 8]);
    let dir = OutDir::new();
    let path = dir.join("digits_grid.png");
    image_grid(&images, 8, 4, &path).unwrap();
    let img = open(&path);
    assert_eq!(img.dimensions(), (8 * 32 + 9 * 2, 8 * 32 + 9 * 2));
    // Digit 0's top-left pixel is background (-1): black.
    assert_eq!(px(&img, 2, 2), [0, 0, 0]);
}

// ---------------------------------------------------------------- scatter

#[test]
fn scatter_draws_each_series_where_its_points_are() {
    let data = [1.0f32, 1.0, 5.0, 5.0]; // the second point lies outside the bounds
    let samples = [-1.0f32, -1.0];
    let series = [
        Series {
            name: "data",
            points: &data,
            color: [200, 0, 0],
            radius: 6,
        },
        Series {
            name: "",
            points: &samples,
            color: [0, 0, 200],
            radius: 6,
        },
    ];
    let dir = OutDir::new();
    let path = dir.join("scatter_small.png");
    scatter(&series, Bounds::square(2.0), &Labels::default(), &path).unwrap();
    let img = open(&path);
    assert_eq!(img.dimensions(), (634, 618));
    // The plotting area is the 540-pixel square right of the 14 + 66 pixel margin and label
    // strip and below the 14-pixel margin; x = 1 lies 3/4 of the way across.
    let to_px = |x: f32, y: f32| {
        (
            80 + ((x + 2.0) / 4.0 * 540.0) as u32,
            14 + ((2.0 - y) / 4.0 * 540.0) as u32,
        )
    };
    let (x, y) = to_px(1.0, 1.0);
    let red = px(&img, x, y);
    assert!(red[0] > 150 && red[1] < 120 && red[2] < 120, "{red:?}");
    let (x, y) = to_px(-1.0, -1.0);
    let blue = px(&img, x, y);
    assert!(blue[2] > 150 && blue[0] < 120, "{blue:?}");
    // Far from any point: background or grid, not a marker colour.
    let (x, y) = to_px(0.5, -1.5);
    assert!(px(&img, x, y).iter().all(|&c| c > 200));
    // Tick labels in the left strip and under the x axis mean the font rendered.
    assert!(dark_pixels(&img, 0..78, 14..554) > 40);
    assert!(dark_pixels(&img, 80..620, 560..600) > 40);
}

#[test]
fn scatter_with_a_title_is_taller_and_rendering_is_deterministic() {
    let mut rng = StdRng::seed_from_u64(0);
    let points = ring(200, 0.05, &mut rng);
    let series = [Series {
        name: "data",
        points: &points,
        color: PALETTE[0],
        radius: 3,
    }];
    let labels = Labels {
        title: "ring of 8",
        x: "x",
        y: "y",
    };
    let dir = OutDir::new();
    let (a, b) = (dir.join("scatter_a.png"), dir.join("scatter_b.png"));
    scatter(&series, Bounds::square(3.0), &labels, &a).unwrap();
    scatter(&series, Bounds::square(3.0), &labels, &b).unwrap();
    assert_eq!(open(&a).dimensions(), (634, 618 + 34));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The title is centred in the top strip.
    assert!(dark_pixels(&open(&a), 250..384, 0..34) > 50);
}

#[test]
fn scatter_rejects_bad_input() {
    let dir = OutDir::new();
    let path = dir.join("never.png");
    let odd = [1.0f32, 2.0, 3.0];
    let one = Series {
        name: "odd",
        points: &odd,
        color: [0, 0, 0],
        radius: 2,
    };
    let error = scatter(&[one], Bounds::square(1.0), &Labels::default(), &path).unwrap_err();
    assert!(error.to_string().contains("not x, y pairs"), "{error}");
    let zero = Series {
        points: &odd[..2],
        radius: 0,
        ..one
    };
    assert!(scatter(&[zero], Bounds::square(1.0), &Labels::default(), &path).is_err());
    for bounds in [
        Bounds::square(0.0),
        Bounds::square(f32::NAN),
        Bounds {
            x_min: 1.0,
            x_max: -1.0,
            y_min: 0.0,
            y_max: 1.0,
        },
        Bounds {
            x_min: -f32::MAX,
            x_max: f32::MAX,
            y_min: 0.0,
            y_max: 1.0,
        },
    ] {
        let error = scatter(&[], bounds, &Labels::default(), &path).unwrap_err();
        assert!(matches!(error, PlotError::InvalidInput(_)), "{bounds:?}");
    }
    assert!(!path.exists());
}

// ---------------------------------------------------------------- heatmap

#[test]
fn viridis_matches_the_matplotlib_table() {
    // matplotlib's viridis at 0, 0.25, 0.5, 0.75 and 1.
    let table = [
        (0.0, [68, 1, 84]),
        (0.25, [59, 82, 139]),
        (0.5, [33, 145, 140]),
        (0.75, [94, 201, 98]),
        (1.0, [253, 231, 37]),
    ];
    for (t, rgb) in table {
        assert!(
            close(viridis(t), rgb, 6),
            "viridis({t}) = {:?}, not {rgb:?}",
            viridis(t)
        );
    }
    assert_eq!(viridis(-3.0), viridis(0.0));
    assert_eq!(viridis(f32::NAN), viridis(0.0));
    assert_eq!(viridis(9.0), viridis(1.0));
}

#[test]
fn cell_centers_run_left_to_right_then_bottom_to_top() {
    let b = Bounds {
        x_min: 0.0,
        x_max: 4.0,
        y_min: -1.0,
        y_max: 1.0,
    };
    assert_eq!(
        b.cell_centers(2, 2),
        vec![1.0, -0.5, 3.0, -0.5, 1.0, 0.5, 3.0, 0.5]
    );
}

#[test]
fn heatmap_colours_cells_by_value_and_draws_the_overlay() {
    let bounds = Bounds::square(2.0);
    // Bottom-left 0, bottom-right 1, top-left 2, top-right 3.
    let values = [0.0f32, 1.0, 2.0, 3.0];
    let field = Field {
        values: &values,
        nx: 2,
        ny: 2,
        bounds,
        name: "critic",
    };
    let point = [1.0f32, -1.0];
    let overlay = [Series {
        name: "sample",
        points: &point,
        color: [255, 0, 0],
        radius: 5,
    }];
    let dir = OutDir::new();
    let path = dir.join("heatmap_small.png");
    heatmap(&field, &overlay, &Labels::default(), &path).unwrap();
    let img = open(&path);
    assert_eq!(img.dimensions(), (752, 618));
    let to_px = |x: f32, y: f32| {
        (
            80 + ((x + 2.0) / 4.0 * 540.0) as u32,
            14 + ((2.0 - y) / 4.0 * 540.0) as u32,
        )
    };
    let at = |x, y| {
        let (px_x, px_y) = to_px(x, y);
        px(&img, px_x, px_y)
    };
    assert_eq!(at(-1.5, -1.5), viridis(0.0));
    assert_eq!(at(-1.5, 1.5), viridis(2.0 / 3.0));
    assert_eq!(at(1.5, 1.5), viridis(1.0));
    let red = at(1.0, -1.0); // translucent red over the purple-blue of value 1
    assert!(red[0] > 150 && red[1] < 100 && red[2] < 100, "{red:?}");
    // The colour bar right of the map runs from viridis(0) at the bottom to viridis(1) at the top.
    assert!(close(px(&img, 634 + 6 + 11, 16), viridis(1.0), 8));
    assert!(close(px(&img, 634 + 6 + 11, 14 + 538), viridis(0.0), 8));
    // Its tick labels rendered.
    assert!(dark_pixels(&img, 664..752, 14..554) > 100);
}

#[test]
fn heatmap_handles_constant_and_non_finite_fields() {
    let bounds = Bounds::square(1.0);
    let dir = OutDir::new();
    let path = dir.join("heatmap_flat.png");
    let flat = [0.5f32; 4];
    let field = Field {
        values: &flat,
        nx: 2,
        ny: 2,
        bounds,
        name: "",
    };
    heatmap(&field, &[], &Labels::default(), &path).unwrap();
    let holes = [f32::NAN, 1.0, f32::INFINITY, 2.0];
    let field = Field {
        values: &holes,
        nx: 2,
        ny: 2,
        bounds,
        name: "",
    };
    heatmap(&field, &[], &Labels::default(), &path).unwrap();
    let img = open(&path);
    assert_eq!(px(&img, 100, 500), [150, 150, 150]); // the NaN cell, bottom left
    let nothing = [f32::NAN; 4];
    let field = Field {
        values: &nothing,
        nx: 2,
        ny: 2,
        bounds,
        name: "",
    };
    heatmap(&field, &[], &Labels::default(), &path).unwrap();
}

#[test]
fn heatmap_rejects_mismatched_grids() {
    let dir = OutDir::new();
    let path = dir.join("never.png");
    let values = [0.0f32; 5];
    for (nx, ny) in [(2, 2), (0, 5), (usize::MAX, 2)] {
        let field = Field {
            values: &values,
            nx,
            ny,
            bounds: Bounds::square(1.0),
            name: "",
        };
        let error = heatmap(&field, &[], &Labels::default(), &path).unwrap_err();
        assert!(matches!(error, PlotError::InvalidInput(_)), "{error}");
    }
    assert!(!path.exists());
}

// ---------------------------------------------------------------- line_plot

#[test]
fn line_plot_draws_curves_with_gaps_and_a_legend() {
    let mut d_loss: Vec<(f64, f64)> = (0..500)
        .map(|s| (s as f64, (-(s as f64) / 100.0).exp() + 0.1))
        .collect();
    d_loss[250].1 = f64::NAN;
    let g_loss: Vec<(f64, f64)> = (0..500)
        .map(|s| (s as f64, 0.5 + s as f64 / 1000.0))
        .collect();
    let curves = [
        Curve {
            name: "critic".into(),
            points: d_loss,
            color: [214, 39, 40],
        },
        Curve {
            name: "generator".into(),
            points: g_loss,
            color: [31, 119, 180],
        },
        Curve {
            name: "empty".into(),
            points: vec![],
            color: [0, 0, 0],
        },
    ];
    let labels = Labels {
        title: "losses",
        x: "step",
        y: "loss",
    };
    let dir = OutDir::new();
    let path = dir.join("curves_small.png");
    line_plot(&curves, &labels, &path).unwrap();
    let img = open(&path);
    assert_eq!(img.dimensions(), (820, 534));
    let count = |rgb: [u8; 3]| img.pixels().filter(|p| close(p.0, rgb, 30)).count();
    assert!(count([214, 39, 40]) > 500, "critic curve missing");
    assert!(count([31, 119, 180]) > 500, "generator curve missing");
    assert!(dark_pixels(&img, 0..80, 34..480) > 100);
}

#[test]
fn line_plot_accepts_degenerate_input() {
    let dir = OutDir::new();
    let path = dir.join("curves_degenerate.png");
    line_plot(&[], &Labels::default(), &path).unwrap();
    let single = Curve {
        name: String::new(),
        points: vec![(3.0, 2.0)],
        color: [0, 0, 0],
    };
    line_plot(&[single], &Labels::default(), &path).unwrap();
    let wild = Curve {
        name: "wild".into(),
        points: vec![
            (0.0, f64::INFINITY),
            (1.0, -1e300),
            (2.0, 1e300),
            (f64::NAN, 0.0),
        ],
        color: [0, 0, 0],
    };
    line_plot(&[wild], &Labels::default(), &path).unwrap();
    assert_eq!(open(&path).dimensions(), (820, 500));
    for points in [
        vec![(0.0, 1.0), (1.0, 1.0 + 1e-12)],
        vec![(0.0, -1e30), (1e300, 1e30)],
        vec![(-1e-200, 0.0), (1e-200, 1e-300)],
    ] {
        let curve = Curve {
            name: "extreme".into(),
            points,
            color: [0, 0, 0],
        };
        line_plot(&[curve], &Labels::default(), &path).unwrap();
    }
}

#[test]
fn any_text_and_extreme_bounds_draw_without_panicking() {
    let dir = OutDir::new();
    let path = dir.join("text.png");
    let labels = Labels {
        title: "∑ 步 🙂 \t\n tab",
        x: "",
        y: "a\nb",
    };
    let points = [0.0f32, 0.0];
    let series = [Series {
        name: "名前",
        points: &points,
        color: [0, 0, 0],
        radius: 1,
    }];
    for bounds in [
        Bounds::square(1e-30),
        Bounds::square(1e30),
        Bounds {
            x_min: 1e6,
            x_max: 1e6 + 1.0,
            y_min: -1.0,
            y_max: 1.0,
        },
    ] {
        scatter(&series, bounds, &labels, &path).unwrap();
    }
}

// ---------------------------------------------------------------- the pictures of a GAN run

#[test]
fn pictures_of_a_toy_run() {
    let mut rng = StdRng::seed_from_u64(7);
    let dir = OutDir::new();
    let data = ring(1000, 0.02, &mut rng);
    // A generator that has found six of the eight modes, blurrily.
    let samples: Vec<f32> = ring(3000, 0.15, &mut rng)
        .chunks_exact(2)
        .filter(|p| p[1] > -1.0 || p[0] > 1.0)
        .flatten()
        .copied()
        .collect();
    let series = [
        Series {
            name: "data",
            points: &data,
            color: [90, 90, 90],
            radius: 2,
        },
        Series {
            name: "generated",
            points: &samples,
            color: PALETTE[1],
            radius: 2,
        },
    ];
    let labels = Labels {
        title: "WGAN-GP on the 8-Gaussian ring, step 2000",
        x: "x₁",
        y: "x₂",
    };
    scatter(
        &series,
        Bounds::square(3.0),
        &labels,
        dir.join("toy_scatter.png"),
    )
    .unwrap();
    // Below the title strip, the plotting area is the 540-pixel square of the other
    // scatter plots, here for [−3, 3]².
    let to_px = |x: f32, y: f32| {
        (
            80 + ((x + 3.0) / 6.0 * 540.0) as u32,
            14 + 34 + ((3.0 - y) / 6.0 * 540.0) as u32,
        )
    };
    let mode = |k: usize| {
        let a = k as f32 * std::f32::consts::FRAC_PI_4;
        (2.0 * a.cos(), 2.0 * a.sin())
    };
    // Modes 5 and 6 (at 225° and 270°) are the two the generator missed.
    let missed = |k: usize| k == 5 || k == 6;
    let img = open(&dir.join("toy_scatter.png"));
    for k in 0..8 {
        let (x, y) = mode(k);
        let (px_x, px_y) = to_px(x, y);
        let c = px(&img, px_x, px_y);
        if missed(k) {
            assert!(
                close(c, [90, 90, 90], 40),
                "mode {k}: data grey expected, {c:?}"
            );
        } else {
            assert!(
                close(c, PALETTE[1], 40),
                "mode {k}: generated colour expected, {c:?}"
            );
        }
    }

    let bounds = Bounds::square(3.0);
    let (nx, ny) = (120, 120);
    let centers = bounds.cell_centers(nx, ny);
    let critic: Vec<f32> = centers
        .chunks_exact(2)
        .map(|p| {
            let nearest = (0..8)
                .map(|k| {
                    let a = k as f32 * std::f32::consts::FRAC_PI_4;
                    (p[0] - 2.0 * a.cos()).hypot(p[1] - 2.0 * a.sin())
                })
                .fold(f32::INFINITY, f32::min);
            1.5 - nearest
        })
        .collect();
    let field = Field {
        values: &critic,
        nx,
        ny,
        bounds,
        name: "critic D(x)",
    };
    let overlay = [
        Series {
            name: "data",
            points: &data,
            color: [255, 255, 255],
            radius: 2,
        },
        Series {
            name: "generated",
            points: &samples,
            color: [255, 80, 60],
            radius: 2,
        },
    ];
    let labels = Labels {
        title: "critic at step 2000",
        x: "x₁",
        y: "x₂",
    };
    heatmap(&field, &overlay, &labels, dir.join("toy_heatmap.png")).unwrap();
    // The critic's colour scale runs from its lowest value (viridis(0)) to its highest; at
    // the centre, far from every point, the cell's own value shows.
    let img = open(&dir.join("toy_heatmap.png"));
    let (lo, hi) = critic
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let (cx, cy) = to_px(0.01, 0.01);
    let cell = critic[(ny / 2) * nx + nx / 2];
    let expected = viridis((cell - lo) / (hi - lo));
    let centre = px(&img, cx, cy);
    assert!(close(centre, expected, 8), "{centre:?} vs {expected:?}");
    // At a covered mode the generated points (drawn last) are red over the critic's colour;
    // at a missed mode there are white data points only.
    let redness = |c: [u8; 3]| i32::from(c[0]) - i32::from(c[2]);
    for k in 0..8 {
        let (x, y) = mode(k);
        let (px_x, px_y) = to_px(x, y);
        let c = px(&img, px_x, px_y);
        if missed(k) {
            assert!(
                c.iter().all(|&v| v > 200),
                "mode {k}: white expected, {c:?}"
            );
        } else {
            assert!(
                c[0] > 200 && redness(c) > 100,
                "mode {k}: red expected, {c:?}"
            );
        }
    }

    let steps = 0..2000;
    let noise = |rng: &mut StdRng| rng.gen_range(-0.05..0.05);
    let d: Vec<(f64, f64)> = steps
        .clone()
        .map(|s| {
            (
                s as f64,
                -3.0 * (-(s as f64) / 400.0).exp() - 0.2 + noise(&mut rng),
            )
        })
        .collect();
    let g: Vec<(f64, f64)> = steps
        .clone()
        .map(|s| {
            (
                s as f64,
                1.5 * (-(s as f64) / 600.0).exp() + 0.1 + noise(&mut rng),
            )
        })
        .collect();
    let gp: Vec<(f64, f64)> = steps
        .map(|s| {
            (
                s as f64,
                0.8 * (-(s as f64) / 150.0).exp() + noise(&mut rng).abs(),
            )
        })
        .collect();
    let curves = [
        Curve {
            name: "critic loss".into(),
            points: d,
            color: PALETTE[3],
        },
        Curve {
            name: "generator loss".into(),
            points: g,
            color: PALETTE[0],
        },
        Curve {
            name: "gradient penalty (λ = 10)".into(),
            points: gp,
            color: PALETTE[2],
        },
    ];
    let labels = Labels {
        title: "WGAN-GP losses",
        x: "step",
        y: "loss",
    };
    line_plot(&curves, &labels, dir.join("toy_losses.png")).unwrap();
    // Each curve is drawn, and at the first steps the critic's loss (about −3.2) lies below
    // the penalty (about 0.8), which lies below the generator's loss (about 1.6): image rows
    // grow downwards.
    let img = open(&dir.join("toy_losses.png"));
    let rows_of = |rgb: [u8; 3]| -> Vec<u32> {
        let mut rows: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| close(p.0, rgb, 30))
            .map(|(x, y, _)| (x, y))
            .collect();
        rows.sort_unstable();
        rows.into_iter().take(20).map(|(_, y)| y).collect()
    };
    let first_row = |rgb: [u8; 3]| {
        let rows = rows_of(rgb);
        assert!(rows.len() == 20, "curve {rgb:?} missing");
        rows.iter().sum::<u32>() / 20
    };
    let (d, gp, g) = (
        first_row(PALETTE[3]),
        first_row(PALETTE[2]),
        first_row(PALETTE[0]),
    );
    assert!(
        d > gp && gp > g,
        "rows: critic {d}, penalty {gp}, generator {g}"
    );
}
