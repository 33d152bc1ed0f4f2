//! The PostgreSQL backend.

use crate::sqlite::SqliteReads;
use crate::writer::{WriteBackend, WriteTx};
use crate::{StoreError, StoreOptions};

pub(crate) struct PostgresWriter;

impl WriteBackend for PostgresWriter {
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, StoreError> {
        Err(StoreError::BadUrl("PostgreSQL support is not built yet".into()))
    }

    fn sole_writer(&self) -> bool {
        false
    }
}

pub(crate) fn open(_conninfo: &str, _options: &StoreOptions) -> Result<(PostgresWriter, SqliteReads), StoreError> {
    Err(StoreError::BadUrl("PostgreSQL support is not built yet".into()))
}
