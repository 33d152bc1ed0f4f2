//! `chunlei ledger verify`: recompute balances from transfers and report every difference.

use std::process::ExitCode;

pub fn run(db: &str) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(db)?;
    let violations = store.verify()?;
    if violations.is_empty() {
        println!(
            "ledger ok: every balance matches its transfers, debits equal credits per ledger, no limit crossed"
        );
        return Ok(ExitCode::SUCCESS);
    }
    for violation in &violations {
        println!("violation: {violation}");
    }
    println!("violations={}", violations.len());
    Ok(ExitCode::FAILURE)
}
