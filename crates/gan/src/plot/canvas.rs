//! What every picture shares: the embedded font, the canvas, tick labels, and the atomic PNG
//! write.

use std::fmt::Display;
use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Labels, PlotError};

/// The family name under which the embedded font is registered with plotters.
pub(super) const FONT: &str = "sans-serif";

/// DejaVu Sans cut down to Latin, Greek and a few math symbols (30 KB); see `data/README.md`.
const FONT_BYTES: &[u8] = include_bytes!("../../data/fonts/DejaVuSans-subset.ttf");

/// The largest width or height of a picture, so a mistaken argument cannot ask for gigabytes.
pub(super) const MAX_SIDE: u32 = 16_384;

/// Size of tick labels and legend text, in pixels.
pub(super) const LABEL_SIZE: u32 = 15;

/// Size of axis descriptions, in pixels.
pub(super) const DESC_SIZE: u32 = 16;

/// Height of the strip above a chart that holds its title.
const TITLE_HEIGHT: u32 = 34;

/// The gray of the light grid lines, close to the white background so data stays in front.
pub(super) const GRID_LIGHT: RGBColor = RGBColor(236, 236, 236);

/// The gray of the grid lines at labelled ticks.
pub(super) const GRID_BOLD: RGBColor = RGBColor(208, 208, 208);

/// A drawing area on the RGB buffer being painted.
pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A chart with real-valued axes on the buffer being painted.
pub(super) type Chart<'a> =
    ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Margin around a chart, in pixels.
pub(super) const MARGIN: u32 = 14;

/// Width of the strip left of a chart that holds the y tick labels and description.
pub(super) const Y_LABEL_AREA: u32 = 66;

/// Height of the strip below a chart that holds the x tick labels and description.
pub(super) const X_LABEL_AREA: u32 = 50;

/// Draws the axes of `chart`: tick marks with short labels, the axis descriptions of
/// `labels`, and (when `grid`) light grid lines behind the data.
pub(super) fn draw_axes(chart: &mut Chart, labels: &Labels, grid: bool) -> Result<(), PlotError> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let (x_label, y_label) = (tick_label(x.end - x.start), tick_label(y.end - y.start));
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(8)
        .y_labels(8)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .axis_style(BLACK)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .max_light_lines(2)
        .set_all_tick_mark_size(5);
    if !labels.x.is_empty() {
        mesh.x_desc(labels.x);
    }
    if !labels.y.is_empty() {
        mesh.y_desc(labels.y);
    }
    if !grid {
        mesh.disable_mesh();
    }
    mesh.draw().map_err(render_error)
}

/// Paints a `width` × `height` picture with `draw` on a white canvas and saves it as PNG.
pub(super) fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    register_font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(render_error)?;
    }
    write_png(path, &rgb, width, height)
}

/// Registers the embedded font once per process (plotters keeps fonts in a global table).
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Render(
            "the embedded font could not be parsed".into(),
        ))
    }
}

/// Turns any drawing error into a [`PlotError::Render`].
pub(super) fn render_error(error: impl Display) -> PlotError {
    PlotError::Render(error.to_string())
}

/// Draws `title` centred in a strip at the top of `root`, and returns the area below it
/// (all of `root` when the title is empty).
pub(super) fn below_title<'a>(root: &Area<'a>, title: &str) -> Result<Area<'a>, PlotError> {
    if title.is_empty() {
        return Ok(root.clone());
    }
    let (strip, body) = root.split_vertically(TITLE_HEIGHT);
    let (width, height) = strip.dim_in_pixel();
    let style = TextStyle::from((FONT, 20).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    strip
        .draw_text(title, &style, (width as i32 / 2, height as i32 / 2))
        .map_err(render_error)?;
    Ok(body)
}

/// The extra height a title adds to a picture.
pub(super) fn title_height(title: &str) -> u32 {
    if title.is_empty() {
        0
    } else {
        TITLE_HEIGHT
    }
}

/// A tick-label formatter for an axis spanning `span`: as few decimals as tell the ticks
/// apart, a true minus sign, exponents only for very large or very small values, and an exact
/// "0" where rounding noise of the tick computation would print `-2.8e-17`.
pub(super) fn tick_label(span: f64) -> impl Fn(&f64) -> String {
    // Plotters places at most 8 labels, so ticks are at least this far apart.
    let step = span.abs() / 8.0;
    let step_exponent = step.log10().floor();
    move |&v| {
        if v.abs() <= span.abs() * 1e-9 {
            return "0".to_string();
        }
        let text = if (v.abs() >= 1e6 && step >= 1e3) || v.abs() < 1e-3 {
            // Enough mantissa digits to resolve one step at this magnitude.
            let digits = (v.abs().log10().floor() - step_exponent + 1.0).clamp(0.0, 8.0) as usize;
            let full = format!("{v:.digits$e}");
            let (mantissa, exponent) = full.split_once('e').unwrap_or((&full, "0"));
            format!("{}e{exponent}", trim_zeros(mantissa))
        } else {
            let decimals = (1.0 - step_exponent).clamp(0.0, 10.0) as usize;
            trim_zeros(&format!("{v:.decimals$}")).to_string()
        };
        text.replace('-', "\u{2212}")
    }
}

/// `"2.500"` → `"2.5"`, `"3.000"` → `"3"`; integers are left alone.
fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// An RGB triple as a plotters colour.
pub(super) fn color(rgb: [u8; 3]) -> RGBColor {
    RGBColor(rgb[0], rgb[1], rgb[2])
}

/// Encodes an RGB buffer as PNG and writes it atomically to `path`.
pub(super) fn write_png(path: &Path, rgb: &[u8], width: u32, height: u32) -> Result<(), PlotError> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(rgb, width, height, ExtendedColorType::Rgb8)
        .map_err(render_error)?;
    write_atomically(path, &png)
}

/// Writes `bytes` to `<path>.tmp` beside `path`, then renames it over `path`: a reader sees
/// the old file or the new one, never a partial write.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let Some(name) = path.file_name() else {
        return Err(PlotError::InvalidInput(format!(
            "{} does not name a file",
            path.display()
        )));
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    if let Err(error) = fs::write(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(PlotError::Io { path: tmp, error });
    }
    fs::rename(&tmp, path).map_err(|error| {
        let _ = fs::remove_file(&tmp);
        PlotError::Io {
            path: path.to_path_buf(),
            error,
        }
    })
}
