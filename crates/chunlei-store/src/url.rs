//! Database URLs: `sqlite://PATH` or `postgres://…`.

use std::path::PathBuf;

use crate::StoreError;

#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    /// A libpq-style URL, passed to the driver as given.
    Postgres(String),
}

impl DbUrl {
    pub fn parse(text: &str) -> Result<DbUrl, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "sqlite:// needs a file path, e.g. sqlite://chunlei.db".into(),
                ));
            }
            Ok(DbUrl::Sqlite(PathBuf::from(path)))
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(text.to_owned()))
        } else {
            Err(StoreError::BadUrl(format!(
                "{}: expected sqlite://PATH or postgres://…",
                DbUrl::redact(text)
            )))
        }
    }

    /// The URL with any password replaced, for logs and messages.
    pub fn redact(text: &str) -> String {
        let Some((scheme, rest)) = text.split_once("://") else {
            return text.to_owned();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                format!("{scheme}://{user}:***@{host}")
            }
            None => text.to_owned(),
        }
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DbUrl::Postgres(url) => write!(f, "{}", DbUrl::redact(url)),
        }
    }
}
