//! External ids (SPEC §10): how other services name the content the catalog holds. Imports,
//! media servers and metadata providers name content by *their* ids; the catalog keeps them so
//! it can find its own item again.

use std::collections::BTreeMap;
use std::fmt;

use crate::values::ValidationError;

/// A service that names catalog content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// The Movie Database: digits.
    Tmdb,
    /// IMDb: `tt` and 5 to 10 digits.
    Imdb,
    /// TheTVDB: digits.
    Tvdb,
    /// Trakt: digits.
    Trakt,
    /// TVmaze: digits.
    Tvmaze,
}

impl Provider {
    /// Every provider, in the order the stores keep their columns.
    pub const ALL: [Provider; 5] = [
        Provider::Tmdb,
        Provider::Imdb,
        Provider::Tvdb,
        Provider::Trakt,
        Provider::Tvmaze,
    ];

    /// The lowercase name on the wire (`externalIds` keys) and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Tmdb => "tmdb",
            Provider::Imdb => "imdb",
            Provider::Tvdb => "tvdb",
            Provider::Trakt => "trakt",
            Provider::Tvmaze => "tvmaze",
        }
    }

    /// The field a refused value of this provider is named by.
    pub fn field(self) -> &'static str {
        match self {
            Provider::Tmdb => "externalIds.tmdb",
            Provider::Imdb => "externalIds.imdb",
            Provider::Tvdb => "externalIds.tvdb",
            Provider::Trakt => "externalIds.trakt",
            Provider::Tvmaze => "externalIds.tvmaze",
        }
    }

    /// The provider named by [`Provider::as_str`], or `None`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether `value` has this provider's shape: `tt` + 5–10 digits for IMDb, 1–12 digits
    /// for the others.
    pub fn accepts(self, value: &str) -> bool {
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        match self {
            Provider::Imdb => value.strip_prefix("tt").is_some_and(|d| digits(d, 5, 10)),
            _ => digits(value, 1, 12),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The external ids of one catalog item: at most one per provider, each of its provider's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalIds(BTreeMap<Provider, String>);

impl ExternalIds {
    /// No external id.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the id `provider` gives the item, refusing a value not of its shape (the error
    /// names `externalIds.<provider>`).
    pub fn insert(&mut self, provider: Provider, value: &str) -> Result<(), ValidationError> {
        if !provider.accepts(value) {
            let shape = match provider {
                Provider::Imdb => "tt followed by 5 to 10 digits",
                _ => "1 to 12 digits",
            };
            return Err(ValidationError::new(
                provider.field(),
                format!("must be {shape}"),
            ));
        }
        self.0.insert(provider, value.to_owned());
        Ok(())
    }

    /// These ids and `provider`'s `value` (see [`ExternalIds::insert`]).
    pub fn with(mut self, provider: Provider, value: &str) -> Result<Self, ValidationError> {
        self.insert(provider, value)?;
        Ok(self)
    }

    /// The id `provider` gives the item.
    pub fn get(&self, provider: Provider) -> Option<&str> {
        self.0.get(&provider).map(String::as_str)
    }

    /// Every id, in provider order.
    pub fn iter(&self) -> impl Iterator<Item = (Provider, &str)> {
        self.0.iter().map(|(p, v)| (*p, v.as_str()))
    }

    /// No id at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These ids with `newer`'s laid over them: a provider both name takes `newer`'s value,
    /// one only these name keeps its own (what a refresh from a provider does).
    pub fn overlaid(&self, newer: &ExternalIds) -> ExternalIds {
        let mut out = self.clone();
        out.0.extend(newer.0.iter().map(|(p, v)| (*p, v.clone())));
        out
    }

    /// What a store's `Conflict` says when one of these ids is already held by `holder`, another
    /// item of the same `kind` (`movie`, `show`, `season`, `episode`).
    pub fn held_by(&self, kind: &str, holder: &str) -> String {
        let named = self
            .iter()
            .map(|(p, v)| format!("{p} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("an external id of this {kind} ({named}) is held by {kind} {holder}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked_per_provider() {
        assert!(Provider::Imdb.accepts("tt0133093"));
        assert!(Provider::Imdb.accepts("tt12345"));
        assert!(!Provider::Imdb.accepts("tt1234"));
        assert!(!Provider::Imdb.accepts("tt12345678901"));
        assert!(!Provider::Imdb.accepts("0133093"));
        assert!(Provider::Tmdb.accepts("603"));
        assert!(!Provider::Tmdb.accepts(""));
        assert!(!Provider::Tvdb.accepts("1234567890123"));
        assert!(!Provider::Trakt.accepts("12a"));
        assert!(!Provider::Tvmaze.accepts("-1"));
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_refused_and_named() {
        let ids = ExternalIds::new()
            .with(Provider::Imdb, "tt0133093")
            .and_then(|i| i.with(Provider::Tmdb, "603"));
        assert_eq!(
            ids.as_ref().ok().and_then(|i| i.get(Provider::Tmdb)),
            Some("603")
        );
        let bad = ExternalIds::new().with(Provider::Imdb, "603");
        assert_eq!(bad.err().map(|e| e.field), Some("externalIds.imdb"));
        assert_eq!(Provider::parse("netflix"), None);
    }
}
