//! `chunlei keys`: API keys.

use std::process::ExitCode;

use anyhow::Context;
use chunlei_http::PartyId;
use chunlei_http::auth::{Role, new_key};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once, alone on standard output.
    Create(CreateArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What the key may do.
    #[arg(long, value_enum)]
    role: RoleName,
    /// The merchant a `merchant` key acts for.
    #[arg(long, value_name = "ID")]
    merchant: Option<String>,
    /// The bank a `bank` key acts for.
    #[arg(long, value_name = "ID")]
    bank: Option<String>,
    #[arg(long, default_value = crate::DEFAULT_DB, env = "CHUNLEI_DB")]
    db: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum RoleName {
    /// Runs the platform: reads and writes everything.
    Operator,
    /// A back-office system: reads and writes everything.
    Integration,
    /// Reads one merchant's accounts and their transfers (needs --merchant).
    Merchant,
    /// Reads one bank's accounts and their transfers (needs --bank).
    Bank,
}

pub fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Create(args) => create(args),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let role = role(&args)?;
    let store = crate::open_store_for_admin(&args.db)?;
    let (key, record) = new_key(&role);
    store
        .insert_api_key(&record)
        .context("cannot store the key")?;
    println!("{key}");
    eprintln!(
        "created {} key {} in {}; it is printed above and cannot be shown again",
        role.name(),
        record.key_id,
        store.url()
    );
    Ok(ExitCode::SUCCESS)
}

/// The role the arguments describe; a party id goes with merchant and bank keys only.
fn role(args: &CreateArgs) -> anyhow::Result<Role> {
    let party = |flag: &str, id: &str| {
        PartyId::parse(id).map_err(|reason| anyhow::anyhow!("--{flag} {reason}"))
    };
    match (args.role, args.merchant.as_deref(), args.bank.as_deref()) {
        (RoleName::Operator, None, None) => Ok(Role::Operator),
        (RoleName::Integration, None, None) => Ok(Role::Integration),
        (RoleName::Merchant, Some(id), None) => Ok(Role::Merchant(party("merchant", id)?)),
        (RoleName::Bank, None, Some(id)) => Ok(Role::Bank(party("bank", id)?)),
        (RoleName::Merchant, None, _) => anyhow::bail!("a merchant key needs --merchant ID"),
        (RoleName::Bank, _, None) => anyhow::bail!("a bank key needs --bank ID"),
        (RoleName::Merchant, Some(_), Some(_)) => anyhow::bail!("a merchant key takes no --bank"),
        (RoleName::Bank, Some(_), Some(_)) => anyhow::bail!("a bank key takes no --merchant"),
        (RoleName::Operator | RoleName::Integration, _, _) => {
            anyhow::bail!("an operator or integration key takes neither --merchant nor --bank")
        }
    }
}
