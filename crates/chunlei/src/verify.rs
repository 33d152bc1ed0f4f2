//! `chunlei ledger verify`: recompute balances from transfers and report every difference.

use std::process::ExitCode;

pub fn run(db: &str) -> anyhow::Result<ExitCode> {
    let url = chunlei_store::DbUrl::parse(db)?;
    let violations = chunlei_store::Store::verify_at(&url)
        .map_err(|e| anyhow::anyhow!("cannot verify {url}: {e}"))?;
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
