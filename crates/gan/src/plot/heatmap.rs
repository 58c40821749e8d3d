//! Heat maps of a function over the plane: what a critic thinks of every point.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{
    below_title, color, draw_axes, render_error, render_png, tick_label, title_height, Area, Chart,
    DESC_SIZE, FONT, LABEL_SIZE, MARGIN, X_LABEL_AREA, Y_LABEL_AREA,
};
use super::colormap::viridis;
use super::scatter::{draw_points, square_chart, PLOT_SIDE};
use super::{Bounds, Labels, PlotError, Series};

/// Gap between the map's margin and the colour bar, in pixels.
const BAR_GAP: u32 = 6;

/// Width of the colour bar.
const BAR_WIDTH: u32 = 22;

/// Width of the strip right of the colour bar for its tick labels and name.
const BAR_LABEL_AREA: u32 = 76;

/// The colour of a cell whose value is NaN or infinite: a neutral gray outside viridis.
const NON_FINITE_RGB: [u8; 3] = [150, 150, 150];

/// Values of a function on a regular grid of cells over a rectangle of the plane.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    /// `nx * ny` values, in the order of [`Bounds::cell_centers`]: `values[j * nx + i]`
    /// belongs to the cell in column `i` (from the left) and row `j` (from the bottom).
    pub values: &'a [f32],
    /// Number of cells across.
    pub nx: usize,
    /// Number of cells up.
    pub ny: usize,
    /// The rectangle the cells tile.
    pub bounds: Bounds,
    /// What the values are, written along the colour bar (e.g. `"critic D(x)"`); may be empty.
    pub name: &'a str,
}

impl Field<'_> {
    fn check(&self) -> Result<(), PlotError> {
        self.bounds.check()?;
        match self.nx.checked_mul(self.ny) {
            Some(cells) if cells > 0 && cells == self.values.len() => Ok(()),
            _ => Err(PlotError::InvalidInput(format!(
                "a field of {}x{} cells needs {} values, got {}",
                self.nx,
                self.ny,
                self.nx.saturating_mul(self.ny),
                self.values.len()
            ))),
        }
    }

    /// The value at the cell holding the fractions `fx`, `fy` in `[0, 1)` of the way across
    /// and up the bounds.
    fn at(&self, fx: f64, fy: f64) -> f32 {
        let i = ((fx * self.nx as f64) as usize).min(self.nx - 1);
        let j = ((fy * self.ny as f64) as usize).min(self.ny - 1);
        self.values[j * self.nx + i]
    }

    /// The smallest and largest finite values, widened to a non-empty interval.
    fn range(&self) -> (f64, f64) {
        let finite = self.values.iter().filter(|v| v.is_finite());
        let lo = finite.clone().fold(f32::INFINITY, |a, &b| a.min(b));
        let hi = finite.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        match (f64::from(lo), f64::from(hi)) {
            (lo, hi) if lo < hi => (lo, hi),
            (lo, _) if lo.is_finite() => (lo - 0.5, lo + 0.5),
            _ => (0.0, 1.0), // no finite value at all
        }
    }
}

/// Saves a heat map of `field` in the viridis colours (dark blue = smallest value, yellow =
/// largest), with the points of `overlay` drawn on top and a colour bar with ticks at the
/// right, as a PNG of 752 × 618 pixels (34 more with a title).
///
/// The map fills a 540-pixel square, as in [`super::scatter()`], so a scatter plot and a heat
/// map of the same bounds line up. The colour scale runs from the smallest to the largest
/// finite value; NaN or infinite cells are gray.
///
/// Typical use: a critic evaluated at `bounds.cell_centers(nx, ny)`, with the real data and
/// the generator's samples on top, shows where the critic pushes the generator.
///
/// # Errors
/// [`PlotError::InvalidInput`] when `values` does not hold `nx * ny` (at least one) values,
/// for bad bounds, or for a bad overlay series (see [`super::scatter()`]); [`PlotError::Io`] if
/// the file cannot be written.
pub fn heatmap(
    field: &Field,
    overlay: &[Series],
    labels: &Labels,
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    field.check()?;
    for s in overlay {
        s.check()?;
    }
    let map_width = MARGIN + Y_LABEL_AREA + PLOT_SIDE + MARGIN;
    let width = map_width + BAR_GAP + BAR_WIDTH + BAR_LABEL_AREA + MARGIN;
    let height = title_height(labels.title) + MARGIN + PLOT_SIDE + X_LABEL_AREA + MARGIN;
    let (lo, hi) = field.range();
    render_png(path.as_ref(), (width, height), |root| {
        let body = below_title(root, labels.title)?;
        let (map_area, bar_area) = body.split_horizontally(map_width);

        let mut map = square_chart(&map_area, field.bounds)?;
        paint(&map, |fx, fy| {
            let v = field.at(fx, fy);
            if v.is_finite() {
                viridis(((f64::from(v) - lo) / (hi - lo)) as f32)
            } else {
                NON_FINITE_RGB
            }
        })?;
        draw_axes(&mut map, labels, false)?;
        draw_points(&mut map, overlay, field.bounds, true)?;

        let bar = colour_bar(&bar_area, lo, hi, field.name)?;
        paint(&bar, |_, fy| viridis(fy as f32))
    })
}

/// The colour bar: a chart from `lo` (bottom) to `hi` (top) whose plotting area is aligned
/// with the map's, with ticks and `name` on its right.
fn colour_bar<'a>(area: &Area<'a>, lo: f64, hi: f64, name: &str) -> Result<Chart<'a>, PlotError> {
    let mut bar = ChartBuilder::on(area)
        .margin_top(MARGIN)
        .margin_bottom(MARGIN + X_LABEL_AREA)
        .margin_left(BAR_GAP)
        .margin_right(MARGIN)
        .right_y_label_area_size(BAR_LABEL_AREA)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(render_error)?;
    let value_label = tick_label(hi - lo);
    let mut mesh = bar.configure_mesh();
    mesh.disable_mesh()
        .disable_x_axis()
        .y_labels(7)
        .y_label_formatter(&value_label)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .axis_style(BLACK)
        .set_all_tick_mark_size(5);
    if !name.is_empty() {
        mesh.y_desc(name);
    }
    mesh.draw().map_err(render_error)?;
    Ok(bar)
}

/// Colours every pixel of `chart`'s plotting area with `rgb_at(fx, fy)`, where `fx`, `fy` in
/// `[0, 1)` say how far across and up the area the pixel's centre lies. Painting pixels,
/// rather than one rectangle per cell, leaves no seams between cells.
fn paint(chart: &Chart, rgb_at: impl Fn(f64, f64) -> [u8; 3]) -> Result<(), PlotError> {
    let canvas = chart.plotting_area().strip_coord_spec();
    let (width, height) = canvas.dim_in_pixel();
    for py in 0..height {
        let fy = (f64::from(height - 1 - py) + 0.5) / f64::from(height);
        for px in 0..width {
            let fx = (f64::from(px) + 0.5) / f64::from(width);
            canvas
                .draw_pixel((px as i32, py as i32), &color(rgb_at(fx, fy)))
                .map_err(render_error)?;
        }
    }
    Ok(())
}
