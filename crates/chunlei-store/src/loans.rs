//! Stored loans (migration 6): the loan book's records as rows of both backends, described once
//! as [`Table`]s like the settlement book's.

use chunlei_ledger::CivilDate;
use chunlei_lending::loans::{
    LoanBook, LoanKeys, LoanNeeds, LoanRecord, Op, OpKind, spec_from_text, spec_text,
};
use chunlei_lending::servicing::Status;

use crate::StoreError;
use crate::codec;
use crate::settlement::{Cell, Cells, Kind, LoadRows, Table, TableRows};

use Kind::{Int, OptText, Text};

pub(crate) const LOANS: Table = Table {
    name: "loans",
    mutable_from: 10,
    columns: &[
        ("loan_id", Text),
        ("seq", Int),
        ("application_id", Text),
        ("merchant_id", Text),
        ("bank_id", Text),
        ("spec", Text),
        ("principal", Int),
        ("platform_part", Int),
        ("disbursed_on", Text),
        ("disbursed_at", Int),
        ("ops", Int),
        ("status", Text),
        ("outstanding", Int),
        ("as_of", Text),
    ],
};

/// Where `status` is among [`LOANS`]' columns.
const STATUS_COLUMN: usize = 11;

/// Inserted only: a loan's history never changes.
pub(crate) const LOAN_OPS: Table = Table {
    name: "loan_ops",
    mutable_from: 9,
    columns: &[
        ("loan_id", Text),
        ("n", Int),
        ("kind", Text),
        ("on_day", Text),
        ("to_day", OptText),
        ("at", Int),
        ("amount", Int),
        ("taken", Int),
        ("reference", Text),
    ],
};

/// `open`, `closed` or `written_off`: what the `status` column holds.
pub(crate) fn status_word(status: Status) -> &'static str {
    match status {
        Status::Active | Status::InArrears => "open",
        Status::Closed => "closed",
        Status::WrittenOff => "written_off",
    }
}

fn int(v: u64) -> Cell {
    Cell::Int(codec::u64_to_i64(v))
}

fn text(v: &str) -> Cell {
    Cell::Text(v.to_owned())
}

fn loan_row(r: &LoanRecord) -> Vec<Cell> {
    let summary = r.loan.summary();
    vec![
        text(&r.id),
        int(r.seq),
        text(&r.application_id),
        text(&r.merchant_id),
        text(&r.bank_id),
        text(&spec_text(&r.spec)),
        int(r.spec.principal().get()),
        int(r.platform_part.get()),
        text(&r.spec.disbursed_on().to_string()),
        int(r.disbursed_at),
        int(r.ops.len() as u64),
        text(status_word(summary.status)),
        int(summary.outstanding.total().get()),
        text(&summary.as_of.to_string()),
    ]
}

fn op_row(loan_id: &str, n: usize, op: &Op) -> Vec<Cell> {
    let to = match op.kind {
        OpKind::Holiday { to } | OpKind::InterestFree { to } => text(&to.to_string()),
        OpKind::Payment | OpKind::DueCollection | OpKind::Withheld | OpKind::WriteOff => {
            Cell::NullText
        }
    };
    vec![
        text(loan_id),
        int(n as u64),
        text(op.kind.as_str()),
        text(&op.on.to_string()),
        to,
        int(op.at),
        int(op.amount.get()),
        int(op.taken.get()),
        text(&op.reference),
    ]
}

/// The rows a group's loan changes write.
#[derive(Debug, Default)]
pub(crate) struct LoanRows {
    pub loans: TableRows,
    pub ops: Vec<Vec<Cell>>,
    /// `(bank_id, dimension, key, lent)`, added to the stored usage.
    pub usage: Vec<Vec<Cell>>,
}

/// Adds usage rows to what is stored.
pub(crate) const USAGE_INSERT: &str =
    "INSERT INTO loan_usage (bank_id, dimension, key, lent) VALUES ";
pub(crate) const USAGE_ADD: &str =
    " ON CONFLICT (bank_id, dimension, key) DO UPDATE SET lent = loan_usage.lent + excluded.lent";

impl LoanRows {
    pub(crate) fn new(book: &LoanBook, changed: &LoanKeys) -> Result<LoanRows, StoreError> {
        let mut rows = LoanRows::default();
        let missing = |id: &str| StoreError::Corrupt(format!("changed loan {id} missing"));
        for id in &changed.created {
            let record = book.loans.get(id).ok_or_else(|| missing(id))?;
            rows.loans.inserts.push(loan_row(record));
            for (i, op) in record.ops.iter().enumerate() {
                rows.ops.push(op_row(id, i + 1, op));
            }
        }
        for (id, from) in &changed.grown {
            if changed.created.contains(id) {
                continue;
            }
            let record = book.loans.get(id).ok_or_else(|| missing(id))?;
            rows.loans.updates.push(loan_row(record));
            for (i, op) in record.ops.iter().enumerate().skip(*from) {
                rows.ops.push(op_row(id, i + 1, op));
            }
        }
        rows.usage = changed
            .usage
            .iter()
            .map(|((bank, dimension, key), lent)| {
                vec![text(bank), text(dimension), text(key), int(*lent)]
            })
            .collect();
        Ok(rows)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.loans.inserts.is_empty()
            && self.loans.updates.is_empty()
            && self.ops.is_empty()
            && self.usage.is_empty()
    }
}

fn date(c: &mut Cells<'_>) -> Result<CivilDate, StoreError> {
    let t = c.text()?;
    CivilDate::parse(&t).map_err(|e| StoreError::Corrupt(format!("loan date {t}: {e}")))
}

/// A loan from its row and its history's rows (in any order), replayed.
pub(crate) fn loan_from(row: &[Cell], mut ops: Vec<Vec<Cell>>) -> Result<LoanRecord, StoreError> {
    let mut c = Cells::new(&LOANS, row);
    let id = c.text()?;
    let seq = c.u64()?;
    let application_id = c.text()?;
    let merchant_id = c.text()?;
    let bank_id = c.text()?;
    let spec =
        spec_from_text(&c.text()?).map_err(|e| StoreError::Corrupt(format!("loan {id}: {e}")))?;
    let _principal = c.u64()?;
    let platform_part = c.fen()?;
    let _disbursed_on = c.text()?;
    let disbursed_at = c.u64()?;
    ops.sort_by_key(|r| match r.get(1) {
        Some(Cell::Int(n)) => *n,
        _ => i64::MAX,
    });
    let mut history = Vec::with_capacity(ops.len());
    for (i, row) in ops.iter().enumerate() {
        let mut c = Cells::new(&LOAN_OPS, row);
        let _loan = c.text()?;
        let n = c.u64()?;
        if n != i as u64 + 1 {
            return Err(StoreError::Corrupt(format!(
                "loan {id}: op {n} out of order"
            )));
        }
        let kind = c.text()?;
        let on = date(&mut c)?;
        let to = c
            .opt_text()?
            .map(|t| CivilDate::parse(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("loan {id}: {e}")))?;
        let kind = match (kind.as_str(), to) {
            ("payment", None) => OpKind::Payment,
            ("due_collection", None) => OpKind::DueCollection,
            ("withheld", None) => OpKind::Withheld,
            ("write_off", None) => OpKind::WriteOff,
            ("holiday", Some(to)) => OpKind::Holiday { to },
            ("interest_free", Some(to)) => OpKind::InterestFree { to },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "loan {id}: op {n} kind {kind}"
                )));
            }
        };
        history.push(Op {
            kind,
            on,
            at: c.u64()?,
            amount: c.fen()?,
            taken: c.fen()?,
            reference: c.text()?,
        });
    }
    let loan = LoanRecord::rebuild(&spec, &history)
        .map_err(|e| StoreError::Corrupt(format!("loan {id}: {e}")))?;
    Ok(LoanRecord {
        id,
        seq,
        application_id,
        merchant_id,
        bank_id,
        spec,
        platform_part,
        disbursed_at,
        ops: history,
        loan,
    })
}

/// Reads loans with their histories from any backend's rows.
pub(crate) fn read_loans(
    loader: &mut dyn LoadRows,
    rows: Vec<Vec<Cell>>,
) -> Result<Vec<LoanRecord>, StoreError> {
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|r| match r.first() {
            Some(Cell::Text(id)) => Some(id.clone()),
            _ => None,
        })
        .collect();
    let mut ops: std::collections::HashMap<String, Vec<Vec<Cell>>> =
        std::collections::HashMap::new();
    for row in loader.rows_where(&LOAN_OPS, "loan_id", &ids)? {
        if let Some(Cell::Text(id)) = row.first() {
            ops.entry(id.clone()).or_default().push(row);
        }
    }
    rows.iter()
        .map(|row| {
            let id = match row.first() {
                Some(Cell::Text(id)) => id.as_str(),
                _ => "",
            };
            loan_from(row, ops.remove(id).unwrap_or_default())
        })
        .collect()
}

/// Loads what loan commands need: the loans named, the loans of the applications named, and
/// the highest loan number.
pub(crate) fn load_loans(
    loader: &mut dyn LoadRows,
    loans: &mut LoanBook,
    needs: &LoanNeeds,
) -> Result<(), StoreError> {
    let mut rows = loader.rows(&LOANS, &needs.loans)?;
    let applications: Vec<String> = needs
        .applications
        .iter()
        .filter(|a| !loans.by_application.contains_key(*a))
        .cloned()
        .collect();
    rows.extend(loader.rows_where(&LOANS, "application_id", &applications)?);
    rows.retain(|r| !matches!(r.first(), Some(Cell::Text(id)) if loans.loans.contains_key(id)));
    rows.sort_by_key(|r| r.first().map(cell_key));
    rows.dedup_by(|a, b| a.first() == b.first());
    for record in read_loans(loader, rows)? {
        loans.insert(record);
    }
    let last = loader.scalar("SELECT COALESCE(MAX(seq), 0) FROM loans")?;
    loans.last_seq = loans.last_seq.max(codec::i64_to_u64(last));
    Ok(())
}

fn cell_key(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Static(t) => (*t).to_owned(),
        Cell::Int(_) | Cell::NullInt | Cell::NullText => String::new(),
    }
}

/// Loads the open loans of `merchants` (for withholding from their settlements), when any loan
/// is open at all.
pub(crate) fn load_open_loans_of(
    loader: &mut dyn LoadRows,
    loans: &mut LoanBook,
    merchants: &[String],
) -> Result<(), StoreError> {
    if merchants.is_empty()
        || loader.scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM loans WHERE status = 'open' LIMIT 1) AS o",
        )? == 0
    {
        return Ok(());
    }
    let mut rows = loader.rows_where(&LOANS, "merchant_id", merchants)?;
    rows.retain(|r| {
        matches!(r.get(STATUS_COLUMN), Some(Cell::Text(s)) if s == "open")
            && !matches!(r.first(), Some(Cell::Text(id)) if loans.loans.contains_key(id))
    });
    for record in read_loans(loader, rows)? {
        loans.insert(record);
    }
    Ok(())
}
