//! SPEC §9 "Plain text", as properties: whatever text a client sends — markup hidden under up
//! to 8 layers of entity encoding, control characters, right-to-left scripts, emoji, ordinary
//! `&` and `<` — what is kept contains no HTML element however often it is entity-decoded, and
//! plain text comes through as typed.

use adapters_http::sanitize::plain_text;
use proptest::prelude::*;

/// Pieces of text a careless client or an attacker sends.
const PLAIN: &[&str] = &[
    "Tom & Jerry",
    "a < b",
    "5 > 3",
    "AT&T",
    "Amélie Poulain",
    "שלום עולם",
    "مرحبا بالعالم",
    "🎬🍿",
    "👨‍👩‍👧‍👦 family",
    "naïve café",
    " ",
    "x",
    "100% \"quoted\" 'single'",
];
const MARKUP: &[&str] = &[
    "<script>alert(1)</script>",
    "<b>bold</b>",
    "<img src=x onerror=alert(1)>",
    "<!-- comment -->",
    "<a href=\"javascript:alert(1)\">link</a>",
    "<svg/onload=alert(1)>",
    "</textarea><iframe src=//evil>",
    "<",
    "<style>x{}</style>",
];
const CONTROL: &[&str] = &["\u{0}", "\u{7}", "\u{1b}[31m", "\r\n", "\t", "\u{7f}"];

/// One entity-encoding layer, as a careless escaper writes it (`&`, `<`, `>`, quotes), in one
/// of three spellings.
fn encode(text: &str, style: u8) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match (c, style % 3) {
            ('&', 0 | 1) => out.push_str("&amp;"),
            ('&', _) => out.push_str("&#38;"),
            ('<', 0) => out.push_str("&lt;"),
            ('<', 1) => out.push_str("&#60;"),
            ('<', _) => out.push_str("&#x3c;"),
            ('>', 0) => out.push_str("&gt;"),
            ('>', 1) => out.push_str("&#62;"),
            ('>', _) => out.push_str("&#x3E;"),
            ('"', _) => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(PLAIN).prop_map(str::to_owned),
        3 => (prop::sample::select(MARKUP), 0u8..=8, any::<u8>()).prop_map(|(m, depth, style)| {
            (0..depth).fold(m.to_owned(), |t, i| encode(&t, style.wrapping_add(i)))
        }),
        1 => prop::sample::select(CONTROL).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9 .,!?'-]{0,12}",
    ]
}

/// The text made of 1–6 pieces.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..6).prop_map(|p| p.concat())
}

/// An HTML element or comment opening: `<` followed by a letter, `/`, `!` or `?`.
fn has_markup(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || b"/!?".contains(&w[1])))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn kept_text_never_decodes_to_markup(raw in text()) {
        let kept = plain_text(&raw);
        prop_assert!(kept.is_some(), "refused {raw:?}");
        let kept = kept.unwrap_or_default();
        let mut decoded = kept.clone();
        for layer in 0..=10 {
            prop_assert!(!has_markup(&decoded), "{raw:?} kept as {kept:?}: markup after {layer} decodings: {decoded:?}");
            prop_assert!(!decoded.chars().any(char::is_control), "control character kept: {decoded:?}");
            decoded = html_escape::decode_html_entities(&decoded).into_owned();
        }
        // Cleaning what was kept changes nothing.
        prop_assert_eq!(plain_text(&kept), Some(kept.clone()));
    }

    #[test]
    fn plain_text_comes_through_as_typed(
        pieces in prop::collection::vec(prop::sample::select(PLAIN), 1..6)
    ) {
        let raw = pieces.concat();
        prop_assert_eq!(plain_text(&raw), Some(raw));
    }
}

#[test]
fn the_issue_s_four_times_escaped_script_is_not_kept_live() {
    let raw =
        "&amp;amp;amp;lt;script&amp;amp;amp;gt;alert(1)&amp;amp;amp;lt;/script&amp;amp;amp;gt;Dark";
    let kept = plain_text(raw).unwrap_or_default();
    assert_eq!(kept, "Dark");
}

#[test]
fn the_property_catches_a_cleaner_that_peels_one_layer_only() {
    // What the cleaner did before: one decode of `&lt;`/`&gt;`/`&amp;` per round, four rounds.
    let one_layer = |s: &str| {
        let mut t = s.to_owned();
        for _ in 0..4 {
            t = t
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
        }
        t
    };
    let raw = (0..8).fold("<script>x</script>".to_owned(), |t, i| encode(&t, i));
    let mut decoded = one_layer(&raw);
    let mut found = false;
    for _ in 0..=10 {
        found |= has_markup(&decoded);
        decoded = html_escape::decode_html_entities(&decoded).into_owned();
    }
    assert!(
        found,
        "the markup check must see what a weaker cleaner keeps"
    );
}
