//! Scatter plots of points in the plane: generated samples over the data.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{
    below_title, color, draw_axes, render_error, render_png, title_height, Chart, FONT, LABEL_SIZE,
    MARGIN, X_LABEL_AREA, Y_LABEL_AREA,
};
use super::{Bounds, Labels, PlotError};

/// Side of the square plotting area of [`scatter()`] and [`super::heatmap()`], in pixels.
pub(super) const PLOT_SIDE: u32 = 540;

/// The largest marker radius accepted, in pixels.
const MAX_RADIUS: u32 = 32;

/// Opacity of a marker: overlapping markers darken, so the density of a cloud stays visible.
const MARKER_OPACITY: f64 = 0.6;

/// One set of points drawn with one marker.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// The legend entry; an empty name leaves the series out of the legend.
    pub name: &'a str,
    /// Interleaved coordinates `x0, y0, x1, y1, ...`: the row-major layout of an `[n, 2]`
    /// tensor, so `tensor.to_vec()` can be passed as it is. Points outside the bounds, or
    /// with a NaN or infinite coordinate, are not drawn; the legend counts those outside.
    pub points: &'a [f32],
    /// The marker colour (RGB); see [`super::PALETTE`].
    pub color: [u8; 3],
    /// The marker radius in pixels, 1 to 32; 2 or 3 suit a few thousand samples.
    pub radius: u32,
}

impl Series<'_> {
    pub(super) fn check(&self) -> Result<(), PlotError> {
        if self.points.len() % 2 == 1 {
            return Err(PlotError::InvalidInput(format!(
                "series {:?} has {} coordinates, not x, y pairs",
                self.name,
                self.points.len()
            )));
        }
        if !(1..=MAX_RADIUS).contains(&self.radius) {
            return Err(PlotError::InvalidInput(format!(
                "series {:?} has marker radius {}, outside 1..={MAX_RADIUS}",
                self.name, self.radius
            )));
        }
        Ok(())
    }
}

/// Saves a scatter plot of `series` (drawn in order, so later ones lie on top) over the
/// region `bounds`, as a PNG of 634 × 618 pixels (34 more with a title).
///
/// The plotting area is a 540-pixel square, so when `bounds` spans as much in x as in y
/// (e.g. [`Bounds::square`]) circles look round and distances are true. Axes carry tick marks
/// and labels and a light grid; a legend in the upper right lists the named series.
///
/// Typical use: the real data in gray, then the generator's samples in colour on top.
///
/// # Errors
/// [`PlotError::InvalidInput`] for bounds that are not a finite rectangle, an odd number of
/// coordinates or a marker radius outside 1..=32; [`PlotError::Io`] if the file cannot be
/// written.
pub fn scatter(
    series: &[Series],
    bounds: Bounds,
    labels: &Labels,
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    bounds.check()?;
    for s in series {
        s.check()?;
    }
    let width = MARGIN + Y_LABEL_AREA + PLOT_SIDE + MARGIN;
    let height = title_height(labels.title) + MARGIN + PLOT_SIDE + X_LABEL_AREA + MARGIN;
    render_png(path.as_ref(), (width, height), |root| {
        let body = below_title(root, labels.title)?;
        let mut chart = square_chart(&body, bounds)?;
        draw_axes(&mut chart, labels, true)?;
        draw_points(&mut chart, series, bounds, false)
    })
}

/// A chart over `bounds` whose plotting area is a `PLOT_SIDE` square in the top left of `area`
/// (after the margin and the y label strip).
pub(super) fn square_chart<'a>(
    area: &super::canvas::Area<'a>,
    bounds: Bounds,
) -> Result<Chart<'a>, PlotError> {
    ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            f64::from(bounds.x_min)..f64::from(bounds.x_max),
            f64::from(bounds.y_min)..f64::from(bounds.y_max),
        )
        .map_err(render_error)
}

/// Draws each series' points inside `bounds` as translucent discs, then the legend if any
/// series has a name. With `outline`, each disc gets a thin dark ring, so markers stay
/// visible over a coloured background of any brightness.
pub(super) fn draw_points(
    chart: &mut Chart,
    series: &[Series],
    bounds: Bounds,
    outline: bool,
) -> Result<(), PlotError> {
    for s in series {
        let fill = color(s.color).mix(MARKER_OPACITY).filled();
        let ring = BLACK.mix(0.5).stroke_width(1);
        let pairs = s.points.chunks_exact(2).map(|p| (p[0], p[1]));
        let inside: Vec<(f64, f64)> = pairs
            .clone()
            .filter(|&(x, y)| bounds.contains(x, y))
            .map(|(x, y)| (f64::from(x), f64::from(y)))
            .collect();
        let outside = pairs
            .filter(|&(x, y)| !bounds.contains(x, y) && x.is_finite() && y.is_finite())
            .count();
        let radius = s.radius;
        if outline {
            chart
                .draw_series(inside.iter().map(|&p| Circle::new(p, radius + 1, ring)))
                .map_err(render_error)?;
        }
        let drawn = chart
            .draw_series(inside.into_iter().map(|p| Circle::new(p, radius, fill)))
            .map_err(render_error)?;
        if !s.name.is_empty() {
            let label = if outside > 0 {
                format!("{} ({outside} outside)", s.name)
            } else {
                s.name.to_string()
            };
            // A ring around the swatch keeps pale colours visible on the white legend.
            let (swatch, r) = (color(s.color).filled(), radius.clamp(3, 6));
            drawn.label(label).legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + Circle::new((0, 0), r, swatch)
                    + Circle::new((0, 0), r, ring)
            });
        }
    }
    if series.iter().any(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(150, 150, 150))
            .label_font((FONT, LABEL_SIZE))
            .draw()
            .map_err(render_error)?;
    }
    Ok(())
}
