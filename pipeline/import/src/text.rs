//! How cell and header text is folded before it is compared: both the table reader (headers)
//! and the matcher (unit and account names) fold the same way.

/// Full-width ASCII (U+FF01..U+FF5E) to ASCII, the ideographic space to a space.
pub(crate) fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        })
        .collect()
}

/// A blank as people type them in spreadsheets: whitespace, the ideographic space, a BOM or a
/// zero-width space.
pub(crate) fn is_blank_char(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}' || c == '\u{200b}'
}
