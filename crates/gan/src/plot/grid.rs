//! A tiled grid of images: the standard picture of a generator's samples.

use std::path::Path;

use gantry_tensor::Tensor;

use super::canvas::{write_png, MAX_SIDE};
use super::PlotError;

/// Width in pixels of the lines between and around tiles.
const SEPARATOR: usize = 2;

/// The separator colour: a dim blue-gray, distinct from any gray an image can hold, so the
/// tiles stay apart even when their backgrounds are black or white.
const SEPARATOR_RGB: [u8; 3] = [72, 84, 112];

/// The colour of a NaN or infinite value: magenta, which a gray image never contains, so a
/// diverged generator shows at a glance.
const NON_FINITE_RGB: [u8; 3] = [255, 0, 255];

/// Saves `images` as one PNG: a grid of `cols` tiles per row, each pixel enlarged to a
/// `scale` × `scale` block (nearest neighbour, so 8x8 digits stay crisp at `scale = 4`).
///
/// `images` has shape `[n, 1, h, w]` (gray) or `[n, 3, h, w]` (RGB) with values in `[-1, 1]`,
/// the range of a tanh generator; a value `v` becomes the byte `round((v + 1) · 127.5)`,
/// clamped to 0..=255, and a non-finite value is drawn magenta. Tiles are placed row by row,
/// separated and framed by 2-pixel blue-gray lines; unused cells of the last row stay
/// blue-gray. With `c = min(cols, n)` columns and `r = ceil(n / c)` rows the picture is
/// `c·w·scale + 2(c + 1)` pixels wide and `r·h·scale + 2(r + 1)` high.
///
/// # Errors
/// [`PlotError::InvalidInput`] for another shape, no pixels, `cols` or `scale` of 0, or a
/// picture over 16384 pixels on a side; [`PlotError::Io`] if the file cannot be written.
pub fn image_grid(
    images: &Tensor<f32>,
    cols: usize,
    scale: usize,
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    let &[n, channels, h, w] = images.shape() else {
        return Err(PlotError::InvalidInput(format!(
            "image_grid needs a tensor of shape [n, 1 or 3, h, w], got {:?}",
            images.shape()
        )));
    };
    if channels != 1 && channels != 3 {
        return Err(PlotError::InvalidInput(format!(
            "image_grid needs 1 (gray) or 3 (RGB) channels, got shape {:?}",
            images.shape()
        )));
    }
    if n == 0 || h == 0 || w == 0 {
        return Err(PlotError::InvalidInput(format!(
            "image_grid got no pixels to draw: shape {:?}",
            images.shape()
        )));
    }
    if cols == 0 || scale == 0 {
        return Err(PlotError::InvalidInput(format!(
            "image_grid needs cols ≥ 1 and scale ≥ 1, got cols = {cols}, scale = {scale}"
        )));
    }
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let side = |count: usize, len: usize| -> Option<u32> {
        let pixels = count
            .checked_mul(len)?
            .checked_mul(scale)?
            .checked_add(SEPARATOR * (count + 1))?;
        u32::try_from(pixels).ok().filter(|&p| p <= MAX_SIDE)
    };
    let (Some(width), Some(height)) = (side(cols, w), side(rows, h)) else {
        return Err(PlotError::InvalidInput(format!(
            "a grid of {n} images of {h}x{w} pixels, {cols} per row, at scale {scale} would \
             be larger than {MAX_SIDE} pixels on a side"
        )));
    };

    let values = images.to_vec();
    let (width_px, height_px) = (width as usize, height as usize);
    let mut rgb: Vec<u8> = SEPARATOR_RGB
        .iter()
        .copied()
        .cycle()
        .take(width_px * height_px * 3)
        .collect();
    let plane = h * w;
    for (k, image) in values.chunks_exact(channels * plane).enumerate() {
        let left = SEPARATOR + (k % cols) * (w * scale + SEPARATOR);
        let top = SEPARATOR + (k / cols) * (h * scale + SEPARATOR);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let source = (y / scale) * w + x / scale;
                let pixel = if channels == 1 {
                    to_gray(image[source])
                } else {
                    let c = [
                        image[source],
                        image[plane + source],
                        image[2 * plane + source],
                    ];
                    if c.iter().all(|v| v.is_finite()) {
                        c.map(to_byte)
                    } else {
                        NON_FINITE_RGB
                    }
                };
                let at = ((top + y) * width_px + left + x) * 3;
                rgb[at..at + 3].copy_from_slice(&pixel);
            }
        }
    }
    write_png(path.as_ref(), &rgb, width, height)
}

fn to_gray(v: f32) -> [u8; 3] {
    if v.is_finite() {
        [to_byte(v); 3]
    } else {
        NON_FINITE_RGB
    }
}

/// `[-1, 1]` to `0..=255`, clamping values outside.
fn to_byte(v: f32) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}
