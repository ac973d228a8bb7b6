//! Payment codes (付款码): `9`, sixteen random digits from the OS CSPRNG, and a Luhn check
//! digit; eighteen digits a scanner gun types and a person can read aloud.

use std::io::Cursor;

use qrcode::QrCode;

use crate::auth::secrets::random_digits;

/// The Luhn check digit for `payload` (digits only).
pub fn luhn_digit(payload: &str) -> u32 {
    let sum: u32 = payload
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

pub fn new_code() -> String {
    let payload = format!("9{}", random_digits(16));
    let check = luhn_digit(&payload);
    format!("{payload}{check}")
}

/// Eighteen digits, starting with 9, with a valid check digit: typos fail here, before
/// any lookup.
pub fn is_well_formed(code: &str) -> bool {
    code.len() == 18
        && code.starts_with('9')
        && code.chars().all(|c| c.is_ascii_digit())
        && code[17..].parse::<u32>().ok() == Some(luhn_digit(&code[..17]))
}

/// Digits only: scanner guns and people add spaces.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

pub fn qr_svg(text: &str) -> Option<String> {
    let qr = QrCode::new(text.as_bytes()).ok()?;
    Some(
        qr.render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

/// The QR as an `<svg>` element to place inside a page (no XML declaration).
pub fn qr_svg_inline(text: &str) -> Option<String> {
    qr_svg(text).map(|svg| svg_element(&svg).to_owned())
}

/// An SVG document's `<svg>` element, without the XML declaration before it.
pub fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let qr = QrCode::new(text.as_bytes()).ok()?;
    let image = qr
        .render::<image::Luma<u8>>()
        .min_dimensions(300, 300)
        .build();
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_the_textbook_example() {
        // 7992739871 has check digit 3 (the standard example).
        assert_eq!(luhn_digit("7992739871"), 3);
    }

    #[test]
    fn codes_are_eighteen_digits_with_a_check() {
        for _ in 0..100 {
            let code = new_code();
            assert!(is_well_formed(&code), "{code}");
        }
        let code = new_code();
        let last = code.chars().last().unwrap().to_digit(10).unwrap();
        let wrong = format!("{}{}", &code[..17], (last + 1) % 10);
        assert!(!is_well_formed(&wrong));
        assert!(!is_well_formed("812345678901234567"));
        assert!(!is_well_formed("9123"));
    }

    #[test]
    fn qr_forms_render() {
        let code = new_code();
        assert!(qr_svg(&code).unwrap().starts_with("<?xml"));
        assert!(qr_png(&code).unwrap().starts_with(b"\x89PNG"));
    }
}
