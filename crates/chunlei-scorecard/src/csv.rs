//! A small CSV reader (RFC 4180) for application files: fields separated by commas, records by
//! LF or CRLF; a field in double quotes may hold commas, line breaks and doubled quotes (`""`
//! for `"`). The first record is the header.
//!
//! Written by hand because a scorecard needs only this, and so that every error names the line
//! it is on. Unlike the import reader of the binary it stops at the first malformed record:
//! a model trained on a file with a broken row would silently be trained on less data.

use std::collections::HashMap;

use crate::Error;

/// The most columns a file may have; a wider file is more likely a mistake than data.
pub const COLUMNS_MAX: usize = 1_000;
/// The most data rows a file may have, so that a wrong file fails before it fills memory.
pub const ROWS_MAX: usize = 2_000_000;

/// A whole CSV file: the header and every data row, each with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    columns: Vec<String>,
    index: HashMap<String, usize>,
    rows: Vec<Row>,
}

/// One data row: its fields in header order and the line (from 1) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub rows_max: usize,
    pub columns_max: usize,
}

impl Table {
    /// Reads a whole file. Blank lines are skipped; a leading byte order mark is ignored.
    pub fn parse(bytes: &[u8]) -> Result<Table, Error> {
        Table::parse_with(
            bytes,
            Limits {
                rows_max: ROWS_MAX,
                columns_max: COLUMNS_MAX,
            },
        )
    }

    pub(crate) fn parse_with(bytes: &[u8], limits: Limits) -> Result<Table, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
            Error::NotUtf8 { line, offset }
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = Reader {
            chars: text.chars().peekable(),
            line: 1,
        };
        let (_, columns) = reader.next_record()?.ok_or(Error::EmptyFile)?;
        if columns.len() > limits.columns_max {
            return Err(Error::TooManyColumns {
                max: limits.columns_max,
            });
        }
        let mut index = HashMap::with_capacity(columns.len());
        for (position, name) in columns.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(Error::EmptyColumnName {
                    position: position + 1,
                });
            }
            if index.insert(name.clone(), position).is_some() {
                return Err(Error::DuplicateColumn(name.clone()));
            }
        }
        let mut rows = Vec::new();
        while let Some((line, fields)) = reader.next_record()? {
            if fields.len() != columns.len() {
                return Err(Error::RaggedRow {
                    line,
                    expected: columns.len(),
                    found: fields.len(),
                });
            }
            if rows.len() == limits.rows_max {
                return Err(Error::TooManyRows {
                    max: limits.rows_max,
                });
            }
            rows.push(Row { line, fields });
        }
        if rows.is_empty() {
            return Err(Error::EmptyFile);
        }
        Ok(Table {
            columns,
            index,
            rows,
        })
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The position of a column, or an error that lists the columns there are.
    pub fn column(&self, name: &str) -> Result<usize, Error> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| Error::MissingColumn {
                column: name.to_owned(),
                available: self.columns.join(", "),
            })
    }

    /// The table with only the rows (by position from 0) that `keep` accepts, for a split
    /// into training and test rows. Each row keeps its line.
    pub fn filter_rows(&self, mut keep: impl FnMut(usize) -> bool) -> Table {
        Table {
            columns: self.columns.clone(),
            index: self.index.clone(),
            rows: self
                .rows
                .iter()
                .enumerate()
                .filter(|(at, _)| keep(*at))
                .map(|(_, row)| row.clone())
                .collect(),
        }
    }

    /// Row `row` as a record that a scorecard can score.
    pub fn record(&self, row: usize) -> Option<TableRecord<'_>> {
        self.rows
            .get(row)
            .map(|row| TableRecord { table: self, row })
    }
}

/// One row of a [`Table`] seen as a record (column name → value).
#[derive(Debug, Clone, Copy)]
pub struct TableRecord<'t> {
    table: &'t Table,
    row: &'t Row,
}

impl TableRecord<'_> {
    pub fn line(&self) -> usize {
        self.row.line
    }
}

impl crate::Record for TableRecord<'_> {
    fn value(&self, column: &str) -> Option<&str> {
        let position = *self.table.index.get(column)?;
        self.row.fields.get(position).map(String::as_str)
    }
}

struct Reader<'t> {
    chars: std::iter::Peekable<std::str::Chars<'t>>,
    /// The line the next character is on.
    line: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    /// The next record that is not a blank line, with the line it starts on.
    fn next_record(&mut self) -> Result<Option<(usize, Vec<String>)>, Error> {
        while self.chars.peek().is_some() {
            let line = self.line;
            let fields = self.record()?;
            let blank = fields.len() == 1 && fields.first().is_some_and(|f| f.is_empty());
            if !blank {
                return Ok(Some((line, fields)));
            }
        }
        Ok(None)
    }

    /// Reads up to and including the end of the record.
    fn record(&mut self) -> Result<Vec<String>, Error> {
        let mut fields = Vec::new();
        loop {
            let field = if self.chars.peek() == Some(&'"') {
                self.next();
                self.quoted()?
            } else {
                self.unquoted()?
            };
            fields.push(field);
            match self.next() {
                Some(',') => {}
                None | Some('\n') => return Ok(fields),
                Some('\r') if self.chars.peek() == Some(&'\n') => {
                    self.next();
                    return Ok(fields);
                }
                Some(c) => {
                    return Err(self.syntax(format!("unexpected {c:?} after a quoted field")));
                }
            }
        }
    }

    /// Reads an unquoted field, leaving the separator or line end unread.
    fn unquoted(&mut self) -> Result<String, Error> {
        let mut field = String::new();
        while let Some(&c) = self.chars.peek() {
            match c {
                ',' | '\n' => break,
                '\r' => {
                    let mut ahead = self.chars.clone();
                    ahead.next();
                    if ahead.peek() == Some(&'\n') {
                        break;
                    }
                    field.push(c);
                }
                '"' => {
                    return Err(self.syntax(
                        "a double quote inside an unquoted field (quote the whole field and double the quote)"
                            .to_owned(),
                    ));
                }
                _ => field.push(c),
            }
            self.next();
        }
        Ok(field)
    }

    /// Reads a quoted field after its opening quote, through its closing quote.
    fn quoted(&mut self) -> Result<String, Error> {
        let start = self.line;
        let mut field = String::new();
        loop {
            match self.next() {
                None => {
                    return Err(Error::CsvSyntax {
                        line: start,
                        message: "a quoted field is not closed before the end of the file"
                            .to_owned(),
                    });
                }
                Some('"') if self.chars.peek() == Some(&'"') => {
                    self.next();
                    field.push('"');
                }
                Some('"') => return Ok(field),
                Some(c) => field.push(c),
            }
        }
    }

    fn syntax(&self, message: String) -> Error {
        Error::CsvSyntax {
            line: self.line,
            message,
        }
    }
}

#[cfg(test)]
mod tests;
