//! CSV that opens correctly in a spreadsheet: UTF-8 with a byte-order mark, every cell quoted,
//! quotes doubled, and cells that a spreadsheet would run as a formula neutralised.

/// A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One cell, quoted; a would-be formula gets a leading apostrophe (shown as text, not run).
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// One line of cells, CRLF-terminated (RFC 4180).
pub fn line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut out = cells
        .into_iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

pub const BOM: &str = "\u{feff}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_formulas() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("say \"hi\", twice"), "\"say \"\"hi\"\", twice\"");
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for bad in ["+1", "-2+3", "@SUM(A1)", "\tx"] {
            assert!(cell(bad).starts_with("\"'"), "{bad}");
        }
        assert_eq!(cell("Ünïcode ✓"), "\"Ünïcode ✓\"");
        assert_eq!(line(["a", "b"]), "\"a\",\"b\"\r\n");
    }
}
