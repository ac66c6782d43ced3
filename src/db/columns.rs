//! Aggregated rows sent column by column (one array per column, as both databases aggregate
//! most cheaply), read back row by row into serde row types (tuples). Each database's arrays
//! are a [`Column`]: `pg_arrays` for PostgreSQL's binary arrays, `json_columns` for SQLite's
//! JSON arrays.

use chrono::Datelike;
use serde::de::value::{BorrowedStrDeserializer, Error, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// One column's values, read in row order where they lie.
pub(super) trait Column<'de> {
    /// Whether every value has been read.
    fn done(&mut self) -> Result<bool, Error>;

    /// The next row's value.
    fn next(&mut self) -> Result<Value<'de>, Error>;
}

/// The rows of `columns`, the first column deciding how many (each must have as many values).
pub(super) fn rows<'de, T: DeserializeOwned, C: Column<'de>>(
    columns: &mut [C],
    capacity: usize,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::with_capacity(capacity);
    if columns.is_empty() {
        return Ok(out);
    }
    while !columns[0].done()? {
        let mut read = 0;
        out.push(T::deserialize(Row {
            columns: &mut *columns,
            read: &mut read,
        })?);
        if read != columns.len() {
            return Err(de::Error::custom("a row type with fewer fields than columns"));
        }
    }
    for c in columns.iter_mut() {
        if !c.done()? {
            return Err(de::Error::custom("columns of different lengths"));
        }
    }
    Ok(out)
}

/// A row, read as a sequence (the row types are tuples).
struct Row<'c, C> {
    columns: &'c mut [C],
    read: &'c mut usize,
}

impl<'de, C: Column<'de>> Deserializer<'de> for Row<'_, C> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, C: Column<'de>> SeqAccess<'de> for Row<'_, C> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        let Some(column) = self.columns.get_mut(*self.read) else {
            return Ok(None);
        };
        *self.read += 1;
        if column.done()? {
            return Err(de::Error::custom("columns of different lengths"));
        }
        seed.deserialize(column.next()?).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.columns.len() - *self.read)
    }
}

/// One value of either database, presented to the row types as serde_json would present it:
/// numbers, text, dates as `YYYY-MM-DD`.
pub(super) enum Value<'de> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'de str),
    /// Text that had to be decoded or built (escaped JSON text, a PostgreSQL instant).
    Owned(String),
    /// A PostgreSQL date, written out only when read.
    Date(chrono::NaiveDate),
}

impl<'de> Deserializer<'de> for Value<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(n) => visitor.visit_i64(n),
            Value::Float(x) => visitor.visit_f64(x),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Owned(s) => visitor.visit_string(s),
            Value::Date(day) => match u32::try_from(day.year()) {
                // Written by hand: chrono's formatter cost more than the rest of the field.
                Ok(year @ 0..=9999) => {
                    let mut text = [b'0'; 10];
                    for (at, n, width) in [(0, year, 4), (5, day.month(), 2), (8, day.day(), 2)] {
                        for i in 0..width {
                            text[at + width - 1 - i] = b'0' + (n / 10u32.pow(i as u32) % 10) as u8;
                        }
                    }
                    (text[4], text[7]) = (b'-', b'-');
                    visitor.visit_str(std::str::from_utf8(&text).map_err(de::Error::custom)?)
                }
                _ => visitor.visit_str(&day.format("%Y-%m-%d").to_string()),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    /// The stored enums are their text.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::Str(s) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s)),
            Value::Owned(s) => visitor.visit_enum(StringDeserializer::<Error>::new(s)),
            _ => Err(de::Error::custom("an enum that is not text")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}
