//! PNG pictures of a GAN's progress: sample grids, scatter plots, critic heat maps, loss curves.
//!
//! Read in this order: [`image_grid`] (pure pixel copying), then [`scatter()`],
//! [`heatmap()`] and [`line_plot`], which draw axes, tick labels and legends with the
//! `plotters` crate.
//!
//! Text is drawn with a font embedded in the library (a subset of DejaVu Sans, see
//! `data/README.md`), rasterised by `ab_glyph`: no system font or font library is needed, and
//! the same inputs give the same pixels on every machine.
//!
//! Every function writes its PNG atomically (to `<path>.tmp` in the same folder, then renamed
//! over `path`), so a viewer refreshing the file during training never sees half a picture,
//! and returns a [`PlotError`] for bad input instead of panicking.

mod canvas;
mod colormap;
mod curves;
mod grid;
mod heatmap;
pub mod report;
mod scatter;

use std::fmt;
use std::path::PathBuf;

pub use colormap::viridis;
pub use curves::{line_plot, Curve};
pub use grid::image_grid;
pub use heatmap::{heatmap, Field};
pub use scatter::{scatter, Series};

/// Ten distinct colours (Tableau 10, as in matplotlib's default cycle), for series and curves.
pub const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// A rectangle of the plane: the visible region of a scatter plot or heat map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Left edge.
    pub x_min: f32,
    /// Right edge.
    pub x_max: f32,
    /// Bottom edge.
    pub y_min: f32,
    /// Top edge.
    pub y_max: f32,
}

impl Bounds {
    /// The square `[-half_width, half_width]²`, centred on the origin like the toy mixtures.
    pub fn square(half_width: f32) -> Bounds {
        Bounds {
            x_min: -half_width,
            x_max: half_width,
            y_min: -half_width,
            y_max: half_width,
        }
    }

    /// The centres of an `nx` × `ny` grid of equal cells covering the bounds, as interleaved
    /// `x, y` pairs (the layout of an `[nx * ny, 2]` tensor), in the order [`heatmap()`] reads
    /// its values: left to right within a row, rows from bottom (`y_min`) to top.
    ///
    /// Evaluate a critic on these points and pass its outputs to [`heatmap()`] as
    /// [`Field::values`].
    pub fn cell_centers(&self, nx: usize, ny: usize) -> Vec<f32> {
        let (dx, dy) = (self.width() / nx as f32, self.height() / ny as f32);
        (0..ny)
            .flat_map(|j| {
                (0..nx).flat_map(move |i| {
                    [
                        self.x_min + (i as f32 + 0.5) * dx,
                        self.y_min + (j as f32 + 0.5) * dy,
                    ]
                })
            })
            .collect()
    }

    fn width(&self) -> f32 {
        self.x_max - self.x_min
    }

    fn height(&self) -> f32 {
        self.y_max - self.y_min
    }

    fn contains(&self, x: f32, y: f32) -> bool {
        (self.x_min..=self.x_max).contains(&x) && (self.y_min..=self.y_max).contains(&y)
    }

    fn check(&self) -> Result<(), PlotError> {
        let corners = [self.x_min, self.x_max, self.y_min, self.y_max];
        let rectangle = corners.iter().all(|v| v.is_finite())
            && self.x_min < self.x_max
            && self.y_min < self.y_max
            && self.width().is_finite()
            && self.height().is_finite();
        if rectangle {
            Ok(())
        } else {
            Err(PlotError::InvalidInput(format!(
                "bounds {self:?} are not a finite rectangle with min < max"
            )))
        }
    }
}

/// The texts around a chart; an empty string leaves that text out.
#[derive(Clone, Copy, Debug, Default)]
pub struct Labels<'a> {
    /// Drawn centred above the chart, e.g. `"WGAN-GP, step 2000"`.
    pub title: &'a str,
    /// Drawn under the x axis, e.g. `"step"`.
    pub x: &'a str,
    /// Drawn beside the y axis, e.g. `"loss"`.
    pub y: &'a str,
}

/// Why a picture could not be made or saved.
#[derive(Debug)]
pub enum PlotError {
    /// The input cannot be drawn (wrong tensor shape, mismatched lengths, empty bounds, ...).
    InvalidInput(String),
    /// The drawing library or the PNG encoder failed.
    Render(String),
    /// The file could not be written.
    Io {
        /// The file being written (the temporary `.tmp` file or the final path).
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::InvalidInput(problem) => write!(f, "cannot plot: {problem}"),
            PlotError::Render(problem) => write!(f, "rendering failed: {problem}"),
            PlotError::Io { path, error } => {
                write!(f, "{}: cannot write: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlotError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}
