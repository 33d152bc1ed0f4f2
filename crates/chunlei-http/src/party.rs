//! `PartyId`: the id of a merchant or bank as accounts and API keys carry it.

/// A merchant's or bank's id: 1 to [`PartyId::LEN_MAX`] characters of `[A-Za-z0-9_-]`, so
/// that it is safe in logs, URLs and file names without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PartyId(String);

impl PartyId {
    pub const LEN_MAX: usize = 64;

    /// The reason is a sentence fragment to follow the name of the field.
    pub fn parse(text: &str) -> Result<PartyId, &'static str> {
        if text.is_empty() {
            return Err("must not be empty");
        }
        if text.len() > PartyId::LEN_MAX {
            return Err("must be at most 64 characters");
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("may contain only letters A-Z and a-z, digits, '_' and '-'");
        }
        Ok(PartyId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
