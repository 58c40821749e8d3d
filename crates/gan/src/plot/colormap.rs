//! The viridis colour map: dark blue through green to yellow.

/// The viridis colour of `t` in `[0, 1]` (values outside are clamped; NaN maps to 0).
///
/// Viridis (van der Walt and Smith, matplotlib 2015) is perceptually uniform, so equal steps
/// of the critic's value look like equal steps of colour, and it stays readable in grayscale
/// and for colour-blind readers. This is a degree-6 polynomial fit per channel (Matt Zucker's
/// fit of the matplotlib table, released CC0), within about 1% of the table.
pub fn viridis(t: f32) -> [u8; 3] {
    const C: [[f32; 3]; 7] = [
        [0.277_727_3, 0.005_407_345, 0.334_099_8],
        [0.105_093_04, 1.404_613_5, 1.384_590_2],
        [-0.330_861_8, 0.214_847_56, 0.095_095_16],
        [-4.634_230_5, -5.799_101, -19.332_441],
        [6.228_27, 14.179_933, 56.690_55],
        [4.776_385, -13.745_145, -65.353_035],
        [-5.435_456, 4.645_852_6, 26.312_435],
    ];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let mut rgb = [0u8; 3];
    for (channel, out) in rgb.iter_mut().enumerate() {
        // Horner's rule, from the highest power down.
        let v = C.iter().rev().fold(0.0, |acc, c| acc * t + c[channel]);
        *out = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    rgb
}
