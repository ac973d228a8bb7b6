//! Code 128 (set C) barcodes of payment codes, for the 1D scanner guns many village shops
//! have: an even number of digits packs two to a symbol, so 18 digits make a short code
//! that reads from a phone screen. And the goods' own barcodes (EAN-13, EAN-8, UPC-A),
//! which the same guns read off a bottle of oil.

/// Bar and space widths of the symbols 0–105, in modules (each symbol is 11 wide).
const PATTERNS: [&str; 106] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
];
const START_C: usize = 105;
const STOP: &str = "2331112";
/// Blank modules either side, which scanners need to find the code.
const QUIET: u32 = 10;

/// The symbols of `digits` in set C: start, pairs, check symbol; none for an odd count
/// or anything but digits.
fn symbols(digits: &str) -> Option<Vec<usize>> {
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let pairs = digits
        .as_bytes()
        .chunks(2)
        .map(|p| usize::from(p[0] - b'0') * 10 + usize::from(p[1] - b'0'));
    let mut out = vec![START_C];
    out.extend(pairs);
    let check = out
        .iter()
        .enumerate()
        .map(|(at, value)| at.max(1) * value)
        .sum::<usize>()
        % 103;
    out.push(check);
    Some(out)
}

/// The barcode as an `<svg>` element (black bars on white, scalable), or none for input
/// that set C cannot carry.
pub fn svg(digits: &str) -> Option<String> {
    let widths = symbols(digits)?
        .into_iter()
        .map(|s| PATTERNS[s])
        .chain(std::iter::once(STOP))
        .flat_map(|p| p.bytes().map(|b| u32::from(b - b'0')))
        .collect::<Vec<_>>();
    let total: u32 = widths.iter().sum::<u32>() + 2 * QUIET;
    let mut bars = String::new();
    let mut x = QUIET;
    for (at, width) in widths.into_iter().enumerate() {
        // Bars and spaces alternate, a bar first.
        if at % 2 == 0 {
            bars.push_str(&format!(
                r#"<rect x="{x}" y="0" width="{width}" height="40"/>"#
            ));
        }
        x += width;
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="barcode" viewBox="0 0 {total} 40" preserveAspectRatio="none" role="img" aria-label="条形码"><rect width="{total}" height="40" fill="#fff"/><g fill="#000">{bars}</g></svg>"##
    ))
}

/// An EAN-13, EAN-8 or UPC-A number with its check digit right: from the right, the
/// digits before the check weigh 3, 1, 3, …, and the check makes the sum a multiple of 10.
pub fn is_product_barcode(text: &str) -> bool {
    if !matches!(text.len(), 8 | 12 | 13) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = text
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 1 { 3 } else { 1 })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_is_eleven_modules_and_unlike_the_others() {
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let width: u32 = pattern.bytes().map(|b| u32::from(b - b'0')).sum();
            assert_eq!(width, 11, "symbol {value}");
            assert_eq!(PATTERNS.iter().filter(|p| *p == pattern).count(), 1);
        }
    }

    #[test]
    fn set_c_packs_digit_pairs_and_ends_with_its_check() {
        // The check: (105 + 1·10 + 2·20 + 3·30) mod 103 = 245 mod 103 = 39.
        assert_eq!(symbols("102030"), Some(vec![105, 10, 20, 30, 39]));
        assert_eq!(symbols("123"), None);
        assert_eq!(symbols("12a4"), None);
        let svg = svg("912345678901234563").expect("a barcode");
        // Start, nine pairs, the check and the stop: 11 symbols of 3 bars, the stop 4.
        assert_eq!(svg.matches("<rect x=").count(), 11 * 3 + 4);
    }

    #[test]
    fn product_barcodes_need_their_check_digit() {
        // An EAN-13 (690–699: registered in China), an EAN-8, a UPC-A.
        for good in ["6948195800019", "96385074", "036000291452"] {
            assert!(super::is_product_barcode(good), "{good}");
        }
        for bad in ["6948195800018", "694819580001", "69481958000a9", ""] {
            assert!(!super::is_product_barcode(bad), "{bad}");
        }
    }
}
