//! Aggregated rows as SQLite sends them: one JSON array per column (`json_group_array(column)`),
//! read back through [`super::columns`] into serde row types. SQLite builds a flat array per
//! column for about 60% of what one array of row arrays (`json_array(…)` per row) costs it: the
//! source's 100,000 tasks, 48–52 ms against 82–85 ms (`sqlite3` timer). The values are scalars
//! (numbers, text, null), so each column is scanned where it lies, one value per row.

use super::columns::Value;
use serde::de::value::Error;
use serde::de::{self, DeserializeOwned};

/// The rows of JSON arrays of scalars, one per column; `rows` of them, as the database counted
/// (the vector's size: any other number of values is read as well).
pub fn decode<T: DeserializeOwned>(arrays: &[&str], rows: usize) -> Result<Vec<T>, Error> {
    let mut columns = arrays.iter().map(|a| column(a)).collect::<Result<Vec<_>, _>>()?;
    // A count beyond what the text could hold is not believed.
    let most = arrays.first().map_or(0, |a| a.len() / 2);
    let rows = super::columns::rows(&mut columns, rows.min(most))?;
    for c in &mut columns {
        c.end()?;
    }
    Ok(rows)
}

struct Column<'de> {
    text: &'de str,
    at: usize,
    first: bool,
}

fn column(text: &str) -> Result<Column<'_>, Error> {
    let mut c = Column {
        text,
        at: 0,
        first: true,
    };
    c.expect(b'[')?;
    Ok(c)
}

fn broken(what: &str) -> Error {
    de::Error::custom(format!("JSON column: {what}"))
}

impl<'de> Column<'de> {
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at) {
            if !b.is_ascii_whitespace() {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn expect(&mut self, want: u8) -> Result<(), Error> {
        match self.peek() {
            Some(b) if b == want => {
                self.at += 1;
                Ok(())
            }
            _ => Err(broken(&format!("expected `{}`", want as char))),
        }
    }

    /// The closing bracket and nothing after it.
    fn end(&mut self) -> Result<(), Error> {
        self.expect(b']')?;
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(broken("text after the array")),
        }
    }

    /// The bytes from `self.at` while `keep` holds.
    fn run(&mut self, keep: impl Fn(u8) -> bool) -> &'de str {
        let start = self.at;
        let bytes = self.text.as_bytes();
        while bytes.get(self.at).is_some_and(|&b| keep(b)) {
            self.at += 1;
        }
        // Only ASCII bytes are kept, so both ends are character boundaries.
        &self.text[start..self.at]
    }

    /// A number: an integer read digit by digit (the ids, most of what a column holds), anything
    /// else parsed as a float.
    fn number(&mut self) -> Result<Value<'de>, Error> {
        let bytes = self.text.as_bytes();
        let negative = bytes.get(self.at) == Some(&b'-');
        let first = self.at + usize::from(negative);
        let (mut at, mut n) = (first, Some(0u64));
        while let Some(d) = bytes.get(at).filter(|d| d.is_ascii_digit()) {
            n = n.and_then(|n| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
            at += 1;
        }
        let integer = match n {
            _ if at == first || matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) => None,
            Some(n) if negative => 0i64.checked_sub_unsigned(n),
            Some(n) => i64::try_from(n).ok(),
            None => None,
        };
        if let Some(n) = integer {
            self.at = at;
            return Ok(Value::Int(n));
        }
        let number = self.run(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'));
        number.parse::<f64>().map(Value::Float).map_err(|_| broken("a number"))
    }

    /// A string from its opening quote: borrowed when it has no escapes.
    fn string(&mut self) -> Result<Value<'de>, Error> {
        let start = self.at;
        self.at += 1;
        let bytes = self.text.as_bytes();
        let mut escaped = false;
        loop {
            let stop = bytes
                .get(self.at..)
                .and_then(|rest| rest.iter().position(|&b| b == b'"' || b == b'\\'))
                .ok_or_else(|| broken("a string cut short"))?;
            self.at += stop;
            if bytes[self.at] == b'"' {
                break;
            }
            escaped = true;
            self.at += 2;
        }
        self.at += 1;
        let quoted = self
            .text
            .get(start..self.at)
            .ok_or_else(|| broken("a string cut short"))?;
        if escaped {
            let text: String = serde_json::from_str(quoted).map_err(|e| broken(&e.to_string()))?;
            Ok(Value::Owned(text))
        } else {
            Ok(Value::Str(&quoted[1..quoted.len() - 1]))
        }
    }
}

impl<'de> super::columns::Column<'de> for Column<'de> {
    fn done(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b']') => Ok(true),
            Some(_) => Ok(false),
            None => Err(broken("an array cut short")),
        }
    }

    fn next(&mut self) -> Result<Value<'de>, Error> {
        if !std::mem::take(&mut self.first) {
            self.expect(b',')?;
        }
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'n') if self.text[self.at..].starts_with("null") => {
                self.at += 4;
                Ok(Value::Null)
            }
            Some(b't') if self.text[self.at..].starts_with("true") => {
                self.at += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.text[self.at..].starts_with("false") => {
                self.at += 5;
                Ok(Value::Bool(false))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(broken("a value that is not a scalar")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn rows_come_back_from_json_columns() {
        type Row = (
            i64,
            Option<i64>,
            String,
            Option<crate::db::Day>,
            f64,
            entity::TaskStatus,
        );
        let rows: Vec<Row> = decode(
            &[
                "[7,-3,9223372036854775807]",
                "[null, 42 ,0]",
                r#"["Zoë","","say \"hi\"\n\u0000\ud83d\ude00 \\"]"#,
                r#"["2026-11-28",null,"0987-06-05"]"#,
                "[1,2.5,-1e3]",
                r#"["COMPLETE","PENDING","\u0050ENDING"]"#,
            ],
            3,
        )
        .expect("decodes");
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).map(crate::db::Day);
        use entity::TaskStatus::{Complete, Pending};
        assert_eq!(
            rows,
            vec![
                (7, None, "Zoë".into(), day(2026, 11, 28), 1.0, Complete),
                (-3, Some(42), String::new(), None, 2.5, Pending),
                (
                    i64::MAX,
                    Some(0),
                    "say \"hi\"\n\0😀 \\".into(),
                    day(987, 6, 5),
                    -1000.0,
                    Pending
                ),
            ]
        );
    }

    #[test]
    fn empty_results_and_damage() {
        let none: Vec<(i64, String)> = decode(&["[]", " [ ] "], 0).expect("no rows");
        assert!(none.is_empty());
        assert!(decode::<(entity::TaskStatus,)>(&[r#"["NOT_A_STATUS"]"#], 1).is_err());
        assert!(
            decode::<(entity::TaskStatus,)>(&["[1]"], 1).is_err(),
            "an enum from a number"
        );
        assert!(decode::<(i64, i64)>(&["[1]", "[]"], 1).is_err(), "ragged columns");
        assert!(
            decode::<(i64, i64)>(&["[]", "[1]"], 1).is_err(),
            "ragged columns, first shorter"
        );
        assert!(decode::<(i64,)>(&["[1,2"], 1).is_err(), "cut short");
        assert!(decode::<(String,)>(&[r#"["abc]"#], 1).is_err(), "a string cut short");
        assert!(
            decode::<(String,)>(&[r#"["a\"]"#], 1).is_err(),
            "an escaped quote is not the end"
        );
        assert!(decode::<(i64,)>(&["[1]", "[1]"], 1).is_err(), "a column left unread");
        assert!(decode::<(i64, i64)>(&["[1]"], 1).is_err(), "a field with no column");
        assert!(decode::<(i64,)>(&["[[1]]"], 1).is_err(), "not a scalar");
        assert!(decode::<(i64,)>(&["[1] x"], 1).is_err(), "text after the array");
        assert!(decode::<(i64,)>(&["[1 2]"], 1).is_err(), "no comma");
        assert!(decode::<(i64,)>(&["1"], 1).is_err(), "not an array");
        assert!(decode::<(i64,)>(&["[nul]"], 1).is_err(), "a broken null");
        assert!(decode::<(i64,)>(&["[--1]"], 1).is_err(), "a broken number");
        assert!(decode::<(i64,)>(&["[-]"], 1).is_err(), "a sign alone");
        let edges: Vec<(i64, f64)> = decode(
            &[
                "[-9223372036854775808,0,-0,12]",
                "[9223372036854775808,-9223372036854775809,1E2,0.5e-1]",
            ],
            4,
        )
        .expect("integers at the edges, and floats");
        assert_eq!(
            edges,
            vec![
                (i64::MIN, 9.223372036854776e18),
                (0, -9.223372036854776e18),
                (0, 100.0),
                (12, 0.05)
            ]
        );
        assert!(decode::<(i64,)>(&["[\"\\"], 1).is_err(), "an escape at the end");
    }

    #[test]
    fn a_wrong_count_reads_the_same_rows() {
        let arrays = ["[1,2,3]", r#"["a","b","c"]"#];
        let want: Vec<(i64, String)> = decode(&arrays, 3).expect("decodes");
        for count in [0, 1, 2, 4, usize::MAX] {
            let rows: Vec<(i64, String)> = decode(&arrays, count).expect("decodes");
            assert_eq!(rows, want, "read with a count of {count}");
            assert!(
                rows.capacity() <= arrays[0].len(),
                "a count beyond the text is not allocated"
            );
        }
    }
}
