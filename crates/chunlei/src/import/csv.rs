//! A small CSV reader (RFC 4180): fields separated by commas, records by LF or CRLF; a field
//! in double quotes may hold commas, line breaks and doubled quotes (`""` for `"`).
//!
//! Written by hand because it is all an import needs; what matters here is that every record
//! keeps the line it starts on, so that a report can point at it, and that one malformed
//! record is reported without hiding the others.

/// One record, or why it could not be read, with the line (from 1) it starts on.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Result<Vec<String>, String>,
}

/// Splits `text` into records. Blank lines are skipped.
pub fn records(text: &str) -> Vec<Record> {
    let mut reader = Reader {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut records = Vec::new();
    while reader.chars.peek().is_some() {
        let line = reader.line;
        let fields = reader.record();
        if let Ok(fields) = &fields
            && fields.len() == 1
            && fields[0].is_empty()
        {
            continue;
        }
        records.push(Record { line, fields });
    }
    records
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

    /// Reads up to and including the end of the record. On a syntax error the rest of the
    /// physical line is skipped, so reading resumes at the next record.
    fn record(&mut self) -> Result<Vec<String>, String> {
        let mut fields = Vec::new();
        loop {
            let field = match self.chars.peek() {
                Some('"') => {
                    self.next();
                    self.quoted()
                }
                _ => self.unquoted(),
            };
            let field = match field {
                Ok(field) => field,
                Err(message) => {
                    self.skip_line();
                    return Err(message);
                }
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
                    self.skip_line();
                    return Err(format!("unexpected {c:?} after a quoted field"));
                }
            }
        }
    }

    /// An unquoted field, up to (not including) the comma or line end after it.
    fn unquoted(&mut self) -> Result<String, String> {
        let mut field = String::new();
        while let Some(&c) = self.chars.peek() {
            match c {
                ',' | '\n' => break,
                '\r' if self.is_crlf() => break,
                '"' => return Err("a quote inside an unquoted field; quote the whole field".into()),
                _ => {
                    field.push(c);
                    self.next();
                }
            }
        }
        Ok(field)
    }

    /// A quoted field after its opening quote, through its closing quote.
    fn quoted(&mut self) -> Result<String, String> {
        let start = self.line;
        let mut field = String::new();
        loop {
            match self.next() {
                Some('"') if self.chars.peek() == Some(&'"') => {
                    self.next();
                    field.push('"');
                }
                Some('"') => return Ok(field),
                Some(c) => field.push(c),
                None => {
                    return Err(format!(
                        "the quoted field that starts on line {start} is never closed"
                    ));
                }
            }
        }
    }

    fn is_crlf(&self) -> bool {
        let mut ahead = self.chars.clone();
        ahead.next() == Some('\r') && ahead.next() == Some('\n')
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.next() {
            if c == '\n' {
                break;
            }
        }
    }
}
