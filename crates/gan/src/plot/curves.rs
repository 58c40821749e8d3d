//! Line plots of values against a step: loss curves, distances, learning rates.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{
    below_title, color, draw_axes, render_error, render_png, title_height, FONT, LABEL_SIZE,
    MARGIN, X_LABEL_AREA, Y_LABEL_AREA,
};
use super::{Labels, PlotError};

/// Size of a line plot without its title, in pixels.
const WIDTH: u32 = 820;
const HEIGHT: u32 = 500;

/// One named curve: `(x, y)` points joined in the order given.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The legend entry; an empty name leaves the curve out of the legend.
    pub name: String,
    /// The points, usually `(step, value)`. A point with a NaN or infinite coordinate is not
    /// drawn and breaks the line, so a loss that diverged shows as a gap, not a spike.
    pub points: Vec<(f64, f64)>,
    /// The line colour (RGB); see [`super::PALETTE`].
    pub color: [u8; 3],
}

/// Saves `curves` as a line plot of 820 × 500 pixels (34 more with a title): axes scaled to
/// hold every finite point (with 5% room above and below), tick labels, a light grid and a
/// legend in the upper right.
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be written; any curves, even none, can be drawn.
pub fn line_plot(
    curves: &[Curve],
    labels: &Labels,
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    let finite = || {
        curves
            .iter()
            .flat_map(|c| c.points.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let x_range = span(finite().map(|p| p.0), 0.0);
    let y_range = span(finite().map(|p| p.1), 0.05);
    let height = title_height(labels.title) + HEIGHT;
    render_png(path.as_ref(), (WIDTH, height), |root| {
        let body = below_title(root, labels.title)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(render_error)?;
        draw_axes(&mut chart, labels, true)?;
        for curve in curves {
            let style = color(curve.color).stroke_width(2);
            let runs = curve
                .points
                .split(|(x, y)| !(x.is_finite() && y.is_finite()))
                .filter(|run| !run.is_empty())
                .map(|run| PathElement::new(run.to_vec(), style));
            let drawn = chart.draw_series(runs).map_err(render_error)?;
            if !curve.name.is_empty() {
                drawn
                    .label(curve.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
        }
        if curves.iter().any(|c| !c.name.is_empty()) {
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
    })
}

/// The smallest and largest of `values`, widened by `pad` of their distance on each side;
/// `(lo - 0.5, lo + 0.5)` for a single value and `(0, 1)` for none.
fn span(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo < hi && (hi - lo).is_finite() {
        let room = (hi - lo) * pad;
        (lo - room, hi + room)
    } else if lo.is_finite() && lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (0.0, 1.0)
    }
}
