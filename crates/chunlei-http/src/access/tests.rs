use chunlei_ledger::{Account, Fen, Owner, OwnerKind, Transfer};

use super::{Action, authorize};
use crate::PartyId;
use crate::auth::{Credential, Principal, Role};

fn principal(role: Role) -> Principal {
    Principal {
        role,
        credential: Credential::ApiKey {
            key_id: "0123456789ab".into(),
        },
    }
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).expect("valid party id")
}

fn owner(kind: OwnerKind, id: &str) -> Owner {
    Owner {
        kind,
        id: id.into(),
    }
}

fn account(owner: Owner) -> Account {
    Account {
        owner,
        ..Account::new(7, 1, 1)
    }
}

/// The code `authorize` answers with, or "allowed".
fn decide(role: &Role, action: &Action<'_>) -> &'static str {
    match authorize(&principal(role.clone()), action) {
        Ok(()) => "allowed",
        Err(error) => error.status_and_code().1,
    }
}

#[test]
fn only_platform_roles_create_and_read_the_metrics() {
    let roles = [
        Role::Operator,
        Role::Integration,
        Role::Merchant(party("m")),
        Role::Bank(party("b")),
    ];
    let expected = ["allowed", "allowed", "forbidden", "forbidden"];
    for (role, expected) in roles.iter().zip(expected) {
        assert_eq!(decide(role, &Action::CreateAccounts), expected, "{role:?}");
        assert_eq!(decide(role, &Action::CreateTransfers), expected, "{role:?}");
        assert_eq!(decide(role, &Action::ReadMetrics), expected, "{role:?}");
    }
}

#[test]
fn accounts_are_read_by_the_platform_and_their_owner_only() {
    let accounts = [
        account(Owner::platform()),
        account(owner(OwnerKind::Merchant, "m")),
        account(owner(OwnerKind::Merchant, "other")),
        account(owner(OwnerKind::Bank, "m")),
        account(owner(OwnerKind::Bank, "b")),
    ];
    let table: [(Role, [&str; 5]); 4] = [
        (Role::Operator, ["allowed"; 5]),
        (Role::Integration, ["allowed"; 5]),
        (
            Role::Merchant(party("m")),
            [
                "not_found",
                "allowed",
                "not_found",
                "not_found",
                "not_found",
            ],
        ),
        (
            Role::Bank(party("b")),
            [
                "not_found",
                "not_found",
                "not_found",
                "not_found",
                "allowed",
            ],
        ),
    ];
    for (role, expected) in &table {
        for (account, expected) in accounts.iter().zip(expected) {
            assert_eq!(
                decide(role, &Action::ReadAccount(account)),
                *expected,
                "{role:?} {account:?}"
            );
        }
    }
}

#[test]
fn transfers_are_read_by_the_owner_of_either_account() {
    let transfer = Transfer::new(9, 1, 2, Fen::ZERO);
    let mine = owner(OwnerKind::Merchant, "m");
    let theirs = owner(OwnerKind::Merchant, "other");
    let platform = Owner::platform();
    let read = |debit: Option<&Owner>, credit: Option<&Owner>| {
        let action = Action::ReadTransfer {
            transfer: &transfer,
            debit_owner: debit,
            credit_owner: credit,
        };
        decide(&Role::Merchant(party("m")), &action)
    };
    assert_eq!(read(Some(&mine), Some(&theirs)), "allowed");
    assert_eq!(read(Some(&platform), Some(&mine)), "allowed");
    assert_eq!(read(Some(&platform), Some(&theirs)), "not_found");
    assert_eq!(read(None, None), "not_found");
    let action = Action::ReadTransfer {
        transfer: &transfer,
        debit_owner: None,
        credit_owner: None,
    };
    assert_eq!(decide(&Role::Operator, &action), "allowed");
}

#[test]
fn merchants_are_written_and_listed_by_the_platform_and_read_by_themselves() {
    let roles = [
        Role::Operator,
        Role::Integration,
        Role::Merchant(party("m-1")),
        Role::Merchant(party("m-2")),
        Role::Bank(party("m-1")),
    ];
    let own = chunlei_settlement::MerchantId::parse("m-1").expect("valid id");
    let writes = ["allowed", "allowed", "forbidden", "forbidden", "forbidden"];
    let reads = ["allowed", "allowed", "allowed", "not_found", "not_found"];
    for ((role, write), read) in roles.iter().zip(writes).zip(reads) {
        assert_eq!(decide(role, &Action::WriteMerchant), write, "{role:?}");
        assert_eq!(decide(role, &Action::ListMerchants), write, "{role:?}");
        assert_eq!(decide(role, &Action::ReadMerchant(&own)), read, "{role:?}");
    }
}
