//! A sound literal prefilter: skip records that cannot match a query before parsing them.
//!
//! A query's filters often pin a field to a few literal values (`event.action IN
//! ("StopLogging", …)`). For fields the pipeline copies verbatim from the record (see
//! [`verbatim_field`]), a record can only match if its JSON text spells one of those values
//! — either as the literal bytes, or with some of the value's characters written as JSON
//! escapes (`\u0053topLogging` is also `StopLogging`). So a record may be skipped only when
//!
//! * for some clause, none of its literals occurs in the text, **and**
//! * the text holds no escape sequence that decodes to a character of that clause's
//!   literals.
//!
//! The second condition is what keeps the filter sound on real CloudTrail, where escapes are
//! common but harmless: AWS writes `=` and `&` as `\u003d` and `\u0026` (session tokens,
//! console URLs), and policy documents are full of `\"`. Those decode to characters that do
//! not occur in API names, so they do not block skipping; an escape that could spell part of
//! a literal does. Escapes are scanned left to right exactly as a JSON parser reads them; in
//! text that is not valid JSON an unknown escape counts as "could be anything".
//!
//! The check is a necessary condition only: a record that passes is parsed and the query's
//! filter decides. Records inside `lookup-events` output are JSON strings embedded in JSON
//! (escaped twice), so the caller never judges such a container by its outer text.

use aho_corasick::AhoCorasick;

/// ECS fields whose value is a string copied verbatim from the CloudTrail record (or, for
/// ECS documents read back, the document's own field): a record whose field equals a literal
/// spells that literal in its text. Derived or rewritten fields (`event.outcome`,
/// `user.name`, `cloud.service.name`, …) are not listed and never produce patterns.
pub fn verbatim_field(name: &str) -> bool {
    matches!(
        name,
        "event.action"
            | "event.provider"
            | "cloud.region"
            | "source.address"
            | "user_agent.original"
            | "aws.cloudtrail.event_category"
            | "aws.cloudtrail.event_type"
            | "aws.cloudtrail.error_code"
            | "aws.cloudtrail.recipient_account_id"
            | "aws.cloudtrail.user_identity.type"
            | "aws.cloudtrail.user_identity.arn"
            | "aws.cloudtrail.user_identity.access_key_id"
    )
}

/// A conjunction of clauses; each clause is a set of literals of which every record that can
/// match contains at least one (decoded).
#[derive(Clone)]
pub struct Prefilter {
    clauses: Vec<Clause>,
}

#[derive(Clone)]
struct Clause {
    literals: Vec<String>,
    finder: AhoCorasick,
    /// ASCII characters used by the literals (bit `c` set for character `c`).
    ascii: u128,
    /// Whether some literal has a non-ASCII character.
    non_ascii: bool,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clauses: Vec<&Vec<String>> = self.clauses.iter().map(|c| &c.literals).collect();
        f.debug_struct("Prefilter")
            .field("clauses", &clauses)
            .finish()
    }
}

/// Which characters the escapes of a text can decode to.
#[derive(Default, Clone, Copy)]
struct Escapes {
    ascii: u128,
    non_ascii: bool,
    /// An escape a JSON parser would reject: assume it could be anything.
    unknown: bool,
}

impl Prefilter {
    /// `None` when no clause constrains anything (an empty literal is contained in every
    /// text, so its clause is dropped; so is a clause without literals).
    pub fn new(clauses: Vec<Vec<String>>) -> Option<Prefilter> {
        let mut out: Vec<Clause> = Vec::new();
        for mut literals in clauses {
            literals.sort();
            literals.dedup();
            if literals.is_empty() || literals.iter().any(String::is_empty) {
                continue;
            }
            if out.iter().any(|c| c.literals == literals) {
                continue;
            }
            let mut ascii = 0u128;
            let mut non_ascii = false;
            for ch in literals.iter().flat_map(|l| l.chars()) {
                if ch.is_ascii() {
                    ascii |= 1u128 << (ch as u32);
                } else {
                    non_ascii = true;
                }
            }
            let finder = AhoCorasick::new(&literals).ok()?;
            out.push(Clause {
                literals,
                finder,
                ascii,
                non_ascii,
            });
        }
        // Longer shortest literals are usually rarer: try them first to fail fast.
        out.sort_by_key(|c| {
            std::cmp::Reverse(c.literals.iter().map(String::len).min().unwrap_or(0))
        });
        (!out.is_empty()).then_some(Prefilter { clauses: out })
    }

    /// The clauses' literals, most selective first (for explain output and tests).
    pub fn clauses(&self) -> Vec<Vec<String>> {
        self.clauses.iter().map(|c| c.literals.clone()).collect()
    }

    /// False only if no record in `text` can satisfy the clauses (see the module docs).
    pub fn may_match(&self, text: &[u8]) -> bool {
        let mut escapes: Option<Escapes> = None;
        for c in &self.clauses {
            if c.finder.is_match(text) {
                continue;
            }
            let e = *escapes.get_or_insert_with(|| scan_escapes(text));
            let hidden = e.unknown || (e.ascii & c.ascii) != 0 || (e.non_ascii && c.non_ascii);
            if !hidden {
                return false;
            }
        }
        true
    }
}

/// Decodes every escape sequence's target character, reading escapes as a JSON parser does
/// (a backslash always starts an escape inside a string, and valid JSON has none outside).
fn scan_escapes(text: &[u8]) -> Escapes {
    let mut e = Escapes::default();
    let mut at = 0;
    while let Some(off) = memchr::memchr(b'\\', &text[at..]) {
        let i = at + off;
        let Some(&kind) = text.get(i + 1) else {
            e.unknown = true;
            break;
        };
        let decoded: Option<u32> = match kind {
            b'"' => Some(b'"' as u32),
            b'\\' => Some(b'\\' as u32),
            b'/' => Some(b'/' as u32),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n' as u32),
            b'r' => Some(b'\r' as u32),
            b't' => Some(b'\t' as u32),
            b'u' => text
                .get(i + 2..i + 6)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok()),
            _ => None,
        };
        match decoded {
            Some(c) if c < 128 => e.ascii |= 1u128 << c,
            Some(_) => e.non_ascii = true,
            None => e.unknown = true,
        }
        at = i + if kind == b'u' { 6 } else { 2 };
        if at >= text.len() {
            break;
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Prefilter {
        Prefilter::new(vec![
            vec![
                "ec2.amazonaws.com".into(),
                "cloudtrail.amazonaws.com".into(),
            ],
            vec!["StopLogging".into(), "DeleteTrail".into()],
        ])
        .unwrap()
    }

    #[test]
    fn literal_presence_in_every_clause() {
        let p = seed();
        let hit = br#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}"#;
        assert!(p.may_match(hit));
        let other_action =
            br#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging"}"#;
        assert!(!p.may_match(other_action));
        let other_source = br#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteTrail"}"#;
        assert!(!p.may_match(other_source));
    }

    #[test]
    fn harmless_escapes_do_not_block_skipping() {
        let p = seed();
        let t = br#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","x":"a\u003d\u003d\u0026b \"q\" \\ \/"}"#;
        assert!(!p.may_match(t));
    }

    #[test]
    fn escapes_that_could_spell_a_literal_keep_the_record() {
        let p = seed();
        // `\u0053` is `S`: the record is StopLogging.
        let t = br#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"\u0053topLogging"}"#;
        assert!(p.may_match(t));
        // `\u002e` is `.`, a character of the provider literals.
        let t = br#"{"eventSource":"cloudtrail\u002eamazonaws.com","eventName":"StopLogging"}"#;
        assert!(p.may_match(t));
        // An invalid escape could be anything.
        let t = br#"{"eventSource":"x","eventName":"\qStopLogging"}"#;
        assert!(p.may_match(t));
        // A truncated one too.
        assert!(p.may_match(b"{\"eventName\":\"Stop\\"));
    }

    #[test]
    fn escaped_backslash_is_not_an_escape_of_what_follows() {
        // `\\u0053` is a backslash then the text `u0053`: no `S` is hidden.
        let p = Prefilter::new(vec![vec!["S3".into()]]).unwrap();
        assert!(!p.may_match(br#"{"a":"\\u0053x"}"#));
        // But `\\\u0053` is a backslash then an escaped `S`.
        assert!(p.may_match(br#"{"a":"\\\u00533"}"#));
    }

    #[test]
    fn non_ascii_literals() {
        let p = Prefilter::new(vec![vec!["Zürich".into()]]).unwrap();
        assert!(p.may_match("{\"a\":\"Zürich\"}".as_bytes()));
        assert!(p.may_match(br#"{"a":"Z\u00fcrich"}"#));
        assert!(!p.may_match(br#"{"a":"Zurich \u003d"}"#));
    }

    #[test]
    fn empty_and_trivial_clauses_are_dropped() {
        assert!(Prefilter::new(vec![]).is_none());
        assert!(Prefilter::new(vec![vec![]]).is_none());
        assert!(Prefilter::new(vec![vec!["".into(), "x".into()]]).is_none());
        let p = Prefilter::new(vec![vec!["a".into()], vec!["a".into()]]).unwrap();
        assert_eq!(p.clauses().len(), 1);
    }

    /// Encodes `s` as a JSON string body, writing each character either plainly or as one of
    /// its valid escapes, chosen by `choice`.
    fn encode(s: &str, mut choice: impl FnMut() -> u32) -> String {
        let mut out = String::new();
        for ch in s.chars() {
            let must_escape = ch == '"' || ch == '\\' || (ch as u32) < 0x20;
            let mut units = [0u16; 2];
            let units = ch.encode_utf16(&mut units);
            match (must_escape, choice() % 3) {
                (false, 0) => out.push(ch),
                (_, 1) => {
                    for u in units.iter() {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
                _ => {
                    for u in units.iter() {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
            }
        }
        out
    }

    /// Soundness on generated encodings: whenever a record's field decodes to a literal of
    /// every clause, `may_match` is true, however the field is escaped — checked against
    /// serde_json's own decoding.
    #[test]
    fn never_skips_a_matching_record_whatever_its_escapes() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u32
        };
        let actions = [
            "StopLogging",
            "DeleteTrail",
            "Zürich/\"x\"",
            "a\\b",
            "tab\there",
        ];
        let sources = ["cloudtrail.amazonaws.com", "ec2.amazonaws.com"];
        for round in 0..2000 {
            let action = actions[round % actions.len()];
            let source = sources[round % sources.len()];
            let p = Prefilter::new(vec![
                vec![action.to_string(), "Other".into()],
                vec![source.to_string()],
            ])
            .unwrap();
            let text = format!(
                r#"{{"eventSource":"{}","eventName":"{}","k":"{}"}}"#,
                encode(source, &mut next),
                encode(action, &mut next),
                encode("v=1&w<2>", &mut next)
            );
            let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(v["eventName"], action, "{text}");
            assert_eq!(v["eventSource"], source, "{text}");
            assert!(p.may_match(text.as_bytes()), "skipped a match: {text}");
        }
    }
}
