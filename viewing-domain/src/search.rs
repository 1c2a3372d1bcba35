//! Finding catalog items by title (SPEC §10 search, §12 import matching): the key titles are
//! compared under, and what a title search asks and finds.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::catalog::ItemKind;
use crate::external::ExternalIds;

/// English articles a title key does not start with.
const ARTICLES: [&str; 3] = ["the ", "a ", "an "];

/// The key a title is searched and matched by: case, accents and punctuation ignored.
///
/// Lowercase; accents removed (`Amélie` → `amelie`); `&` read as `and`; apostrophes dropped
/// (`Schindler's` → `schindlers`); every other run of characters that are not letters or digits
/// one space; no leading "the", "a" or "an" unless nothing else is left. So `The Matrix`,
/// `matrix` and `MATRIX!` share the key `matrix`, and `Léon: The Professional` is
/// `leon the professional`.
pub fn title_key(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    let mut gap = false;
    let word = |key: &mut String, gap: &mut bool, text: &mut dyn Iterator<Item = char>| {
        if *gap && !key.is_empty() {
            key.push(' ');
        }
        *gap = false;
        key.extend(text);
    };
    for c in title.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`') {
            continue;
        }
        if c == '&' {
            gap = true;
            word(&mut key, &mut gap, &mut "and".chars());
            gap = true;
        } else if c.is_alphanumeric() {
            word(&mut key, &mut gap, &mut c.to_lowercase());
        } else {
            gap = true;
        }
    }
    for article in ARTICLES {
        if let Some(rest) = key.strip_prefix(article) {
            return rest.to_owned();
        }
    }
    key
}

/// What a title search asks of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleQuery {
    /// The [`title_key`] looked for; never empty.
    pub key: String,
    /// Only movies or only shows; `None`: both.
    pub kind: Option<ItemKind>,
    /// Only movies released this year (shows carry no year in the catalog and are not
    /// narrowed).
    pub year: Option<i32>,
    /// Only titles whose key is `key`; else also those whose key starts with it.
    pub exact: bool,
    /// At most this many hits.
    pub limit: u32,
}

/// A movie or show a [`TitleQuery`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleHit {
    /// Movie or show.
    pub kind: ItemKind,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its title.
    pub title: String,
    /// A movie's release year.
    pub year: Option<i32>,
    /// Its external ids.
    pub external_ids: ExternalIds,
}

/// The order hits are given in: titles whose key is the query's first, then shorter keys, then
/// by title and id (so every store answers alike).
pub fn rank(query_key: &str, hits: &mut [(String, TitleHit)]) {
    hits.sort_by(|(a_key, a), (b_key, b)| {
        (a_key != query_key)
            .cmp(&(b_key != query_key))
            .then(a_key.chars().count().cmp(&b_key.chars().count()))
            .then_with(|| a.title.cmp(&b.title))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_accents_punctuation_and_articles_are_ignored() {
        for (title, key) in [
            ("The Matrix", "matrix"),
            ("MATRIX!", "matrix"),
            ("Léon: The Professional", "leon the professional"),
            ("Amélie", "amelie"),
            ("Schindler's List", "schindlers list"),
            ("Law & Order: SVU", "law and order svu"),
            ("  Se7en  ", "se7en"),
            ("The", "the"),
            ("A Quiet Place", "quiet place"),
            ("Anora", "anora"),
            ("Ｔｏｋｙｏ", "tokyo"),
            ("千と千尋の神隠し", "千と千尋の神隠し"),
            ("...", ""),
        ] {
            assert_eq!(title_key(title), key, "{title:?}");
        }
    }

    #[test]
    fn exact_keys_rank_first_then_shorter_ones() {
        let hit = |title: &str, n: u128| {
            (
                title_key(title),
                TitleHit {
                    kind: ItemKind::Movie,
                    id: uuid::Uuid::from_u128(n),
                    title: title.to_owned(),
                    year: None,
                    external_ids: ExternalIds::new(),
                },
            )
        };
        let mut hits = vec![
            hit("Matrix Reloaded", 1),
            hit("The Matrix Resurrections", 2),
            hit("The Matrix", 3),
            hit("Matrix", 4),
        ];
        rank("matrix", &mut hits);
        let titles: Vec<&str> = hits.iter().map(|(_, h)| h.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Matrix",
                "The Matrix",
                "Matrix Reloaded",
                "The Matrix Resurrections"
            ]
        );
    }

    proptest! {
        #[test]
        fn a_key_has_no_outer_or_double_spaces_and_no_punctuation(title in "\\PC{0,40}") {
            let key = title_key(&title);
            prop_assert!(!key.starts_with(' ') && !key.ends_with(' '), "{:?}", key);
            prop_assert!(!key.contains("  "), "{:?}", key);
            prop_assert!(key.chars().all(|c| c == ' ' || c.is_alphanumeric()), "{:?}", key);
        }

        #[test]
        fn ascii_case_and_punctuation_do_not_change_a_key(
            words in proptest::collection::vec("[a-zA-Z0-9]{1,8}", 1..5),
            sep in "[ .,:;!?()-]{1,3}",
        ) {
            let plain = words.join(" ");
            let noisy = words.join(&sep).to_uppercase();
            prop_assert_eq!(title_key(&plain), title_key(&noisy));
        }
    }
}
