//! Aggregated rows sent column by column (one array per column, as both databases aggregate
//! most cheaply), read back row by row into serde row types (tuples). Each database's arrays
//! are a [`Column`]: `pg_arrays` for PostgreSQL's binary arrays, `json_columns` for SQLite's
//! JSON arrays.

use serde::de::value::Error;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// One column's values, read in row order where they lie.
pub(super) trait Column<'de> {
    type Value: Deserializer<'de, Error = Error>;

    /// Whether every value has been read.
    fn done(&mut self) -> Result<bool, Error>;

    /// The next row's value.
    fn next(&mut self) -> Result<Self::Value, Error>;
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
