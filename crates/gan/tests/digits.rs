//! The bundled 8x8 digits load as documented, and the CSV parser rejects every malformed row
//! with a message naming the line.

use gantry_gan::data::digits::{DataError, Digits};

/// A valid row: pixel `i` is `i % 17`, then `label`.
fn row(label: u32) -> String {
    let mut fields: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
    fields.push(label.to_string());
    fields.join(",")
}

fn problem(result: Result<Digits, DataError>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bundled_digits_have_the_documented_shape_range_and_classes() {
    let digits = Digits::load().unwrap();
    assert_eq!(digits.images.shape(), &[1797, 1, 8, 8]);
    assert_eq!(digits.labels.len(), 1797);
    let pixels = digits.images.to_vec();
    let lo = pixels.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = pixels.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert_eq!((lo, hi), (-1.0, 1.0));
    // The first image's top row is 0,0,5,13,9,1,0,0 in the file.
    let expected: Vec<f32> = [0, 0, 5, 13, 9, 1, 0, 0]
        .iter()
        .map(|&v| 2.0 * v as f32 / 16.0 - 1.0)
        .collect();
    assert_eq!(&pixels[..8], &expected[..]);
    assert_eq!(&digits.labels[..3], &[0, 1, 2]);
    let mut counts = [0usize; 10];
    for &label in &digits.labels {
        counts[usize::from(label)] += 1;
    }
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

#[test]
fn parses_rows_with_or_without_final_newline_and_with_crlf() {
    let text = format!("{}\n{}", row(3), row(9));
    let digits = Digits::parse_csv(text.as_bytes()).unwrap();
    assert_eq!(digits.images.shape(), &[2, 1, 8, 8]);
    assert_eq!(digits.labels, vec![3, 9]);
    assert_eq!(digits.images.to_vec()[16], 1.0); // pixel 16 holds 16
    let crlf = format!("{}\r\n{}\r\n", row(3), row(9));
    assert_eq!(
        Digits::parse_csv(crlf.as_bytes()).unwrap().labels,
        vec![3, 9]
    );
    let spaced = row(4).replace(',', ", ");
    assert_eq!(
        Digits::parse_csv(spaced.as_bytes()).unwrap().labels,
        vec![4]
    );
}

#[test]
fn a_row_with_the_wrong_number_of_columns_names_its_line() {
    let text = format!("{}\n{},0\n", row(1), row(2));
    let message = problem(Digits::parse_csv(text.as_bytes()));
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("expected 65"), "{message}");
    assert!(message.contains("found 66"), "{message}");
    let short = "1,2,3\n";
    assert!(problem(Digits::parse_csv(short.as_bytes())).contains("found 3"));
}

#[test]
fn out_of_range_pixels_and_labels_are_rejected() {
    let pixel = format!("{}\n{}", row(0), row(0).replacen("0,", "17,", 1));
    let message = problem(Digits::parse_csv(pixel.as_bytes()));
    assert!(message.contains("line 2, column 1"), "{message}");
    assert!(
        message.contains("pixel value 17 is outside 0..=16"),
        "{message}"
    );

    let label = row(10);
    let message = problem(Digits::parse_csv(label.as_bytes()));
    assert!(
        message.contains("line 1: label 10 is outside 0..=9"),
        "{message}"
    );
    let huge = row(999_999_999);
    assert!(problem(Digits::parse_csv(huge.as_bytes())).contains("outside 0..=9"));
}

#[test]
fn non_integers_are_rejected_with_the_offending_text() {
    for bad in ["1.5", "-1", "+1", "", "x", "1e3", "9999999999"] {
        let text = row(5).replacen("0,", &format!("{bad},"), 1);
        let message = problem(Digits::parse_csv(text.as_bytes()));
        assert!(message.contains("line 1, column 1"), "{bad}: {message}");
        assert!(
            message.contains("is not a non-negative integer"),
            "{bad}: {message}"
        );
    }
    let label = format!("{}7.0", "0,".repeat(64));
    let message = problem(Digits::parse_csv(label.as_bytes()));
    assert!(message.contains("line 1, column 65: \"7.0\""), "{message}");
}

#[test]
fn empty_input_and_blank_lines_are_rejected() {
    assert!(problem(Digits::parse_csv(b"")).contains("holds no rows"));
    assert!(problem(Digits::parse_csv(b"\n")).contains("line 1: empty line"));
    let blank = format!("{}\n\n{}\n", row(1), row(2));
    let message = problem(Digits::parse_csv(blank.as_bytes()));
    assert!(message.contains("line 2: empty line"), "{message}");
}

#[test]
fn errors_name_their_source() {
    let error = Digits::parse_csv(b"1,2\n").unwrap_err();
    assert_eq!(error.origin(), "digits CSV");
    assert!(
        error.to_string().starts_with("digits CSV: line 1:"),
        "{error}"
    );
}
