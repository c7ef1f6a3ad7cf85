//! A fast structural check of JSON text the prefilter lets the scan skip.
//!
//! The prefilter ([`crate::prefilter`]) skips lines, files and records that cannot match the
//! query without parsing them. Skipping must not change what the scan *reports*: a corrupt
//! file skipped unparsed would never be named, and the count of records read would depend
//! on the query. So before anything is skipped it is checked here, in one pass and without
//! allocating: it must be well-formed JSON that every later step accepts, and it must hold
//! only plain CloudTrail records (objects with one of the record keys at their top level,
//! which the pipeline always turns into a document). The check also counts the records, as
//! the reader would split them, so the summary can say how many were skipped.
//!
//! The check is one-sided. "Yes" means the full path would read exactly this many records
//! and reject none; "no" only means "read it normally", so anything unusual — escapes in
//! keys, exponents, surrogate escapes, deep nesting, wrapper and container shapes other than
//! `Records` and arrays, very large records — is simply not skipped, and the normal path
//! parses it and reports what is wrong with it.

use crate::limits::Limits;

/// The version of the check's rules, saved with its verdicts (`crate::check_cache`): bump it
/// whenever a change here can turn a verdict, so verdicts saved by an earlier build are not
/// trusted.
pub(crate) const RULES_VERSION: u32 = 1;
/// Objects and arrays deeper than this are not skipped, but read normally.
pub(crate) const MAX_DEPTH: u32 = 64;
/// Records nested deeper than this are rejected, by every path alike (serde_json's own
/// limit, 128, is never reached; the fast path's skipping parser has none).
pub(crate) const MAX_NESTING: u32 = 100;

/// Whether `text` has more than `limit` `{` and `[` bytes (strings included): an upper
/// bound on its nesting depth. Cheap — 64 bytes at a time, one comparison each (`[` is `{`
/// with the 0x20 bit clear, and no other byte is), which vectorizes — so every record pays
/// it and only those with many brackets get the real depth check.
pub(crate) fn many_brackets(text: &[u8], limit: usize) -> bool {
    let mut n = 0usize;
    let mut chunks = text.chunks_exact(64);
    for chunk in &mut chunks {
        n += chunk
            .iter()
            .map(|&b| ((b | 0x20) == b'{') as u8)
            .sum::<u8>() as usize;
        if n > limit {
            return true;
        }
    }
    n += chunks
        .remainder()
        .iter()
        .filter(|&&b| (b | 0x20) == b'{')
        .count();
    n > limit
}
/// Longer number tokens are left to the full parser (it fails on numbers out of `f64` range).
pub(crate) const MAX_NUMBER: usize = 24;

/// Top-level keys that make an object a CloudTrail record (`crate::shape`'s record and digest
/// keys): such an object always becomes a document.
fn record_key(k: &[u8]) -> bool {
    matches!(
        k,
        b"eventVersion"
            | b"eventTime"
            | b"eventName"
            | b"eventSource"
            | b"userIdentity"
            | b"digestStartTime"
            | b"digestEndTime"
            | b"digestS3Bucket"
            | b"digestS3Object"
    )
}

/// The number of records in one value (a line or a whole document) when it is plainly
/// well-formed and all of them are plain records (see the module docs); `None` when it must
/// be read normally. Records larger than [`Limits::big_record`] make it `None` too: they get
/// the size checks of the normal path.
pub fn plain_records(text: &[u8], limits: &Limits) -> Option<u64> {
    let mut c = Cursor::new(text, MAX_DEPTH);
    let big = limits.big_record();
    c.ws();
    let n = match c.peek()? {
        b'[' => c.array(1, |c| c.small_record(2, big))?,
        b'{' => {
            let start = c.i;
            let mut records = None;
            let mut is_record = false;
            c.object(1, |c, key, escaped| {
                if escaped {
                    // Could spell `Records`: leave it to the reader.
                    return None;
                }
                match key {
                    b"Records" => {
                        if records.is_some() || c.peek()? != b'[' {
                            return None;
                        }
                        records = Some(c.array(2, |c| c.small_record(3, big))?);
                    }
                    b"Events" | b"expected" | b"hits" => return None,
                    k => {
                        is_record |= record_key(k);
                        c.value(2)?;
                    }
                }
                Some(())
            })?;
            match records {
                Some(n) => n,
                None if is_record && ((c.i - start) as u64) < big => 1,
                None => return None,
            }
        }
        _ => return None,
    };
    c.ws();
    (c.i == text.len()).then_some(n)
}

/// Whether one record's text is a plain record (see the module docs), so that skipping it
/// unparsed loses nothing the full path would report.
pub fn plain_record(text: &[u8]) -> bool {
    let mut c = Cursor::new(text, MAX_DEPTH);
    c.ws();
    if c.record(1).is_none() {
        return false;
    }
    c.ws();
    c.i == text.len()
}

/// What is wrong with a large or deeply nested record, in words, or `None`: a field (its
/// dotted path) over `max_field` bytes, an array over `max_array` elements, or nesting deeper
/// than [`MAX_NESTING`]. Text that is not plainly well-formed gives `None` here; the parser
/// then reports it.
pub(crate) fn big_record_problem(text: &[u8], limits: &Limits) -> Option<String> {
    let mut c = Cursor::new(text, u32::MAX);
    let mut path = Vec::new();
    c.ws();
    match c.sizes(0, &mut path, limits) {
        Err(Some(problem)) => Some(problem),
        _ => None,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// Containers deeper than this end the walk (`None`).
    max_depth: u32,
    /// The 64-byte block (its start) whose quotes, backslashes and control bytes are in
    /// `specials`: classified once, so finding each string's end within it costs a shift.
    block: usize,
    specials: u64,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8], max_depth: u32) -> Cursor<'a> {
        Cursor {
            b,
            i: 0,
            max_depth,
            block: usize::MAX,
            specials: 0,
        }
    }

    /// [`find_special`] from `i`, through the classified blocks.
    #[inline(always)]
    fn next_special(&mut self, mut i: usize) -> usize {
        loop {
            let base = i & !63;
            if base != self.block {
                let Some(chunk) = self.b.get(base..base + 64) else {
                    return find_special(self.b, i);
                };
                self.block = base;
                self.specials = specials64(chunk.try_into().expect("64 bytes"));
            }
            let m = self.specials >> (i - base);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i = base + 64;
        }
    }
}

/// Bit i set when byte i of `chunk` is a quote, a backslash or a control character.
#[inline(always)]
fn specials64(chunk: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86-64 baseline; the loads are within `chunk`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let below = _mm_set1_epi8(0x1f);
            let mut out = 0u64;
            for k in 0..4 {
                let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k).cast());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(v, below), below),
                );
                out |= (_mm_movemask_epi8(hits) as u32 as u64) << (16 * k);
            }
            out
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut out = 0u64;
        for (i, &c) in chunk.iter().enumerate() {
            if matches!(c, b'"' | b'\\' | 0..=0x1f) {
                out |= 1 << i;
            }
        }
        out
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte at or after `i` that ends the fast skip through a string — a
/// quote, a backslash or a control character — or `b.len()`. Sixteen bytes at a time (SSE2,
/// which every x86-64 has), then eight (SWAR), then one: most bytes of CloudTrail JSON are
/// inside strings, so this is the check's inner loop.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86-64 baseline; loads are unaligned and within `b`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let below = _mm_set1_epi8(0x1f);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    // Unsigned `v <= 0x1f`: max(v, 0x1f) == 0x1f.
                    _mm_cmpeq_epi8(_mm_max_epu8(v, below), below),
                );
                let mask = _mm_movemask_epi8(hits) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        let mask = special(w);
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

/// The high bit of every byte of `w` that is a quote, a backslash or a control character
/// (exact for the lowest such byte, which is all [`find_special`] uses).
#[inline(always)]
fn special(w: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zero(w ^ (ONES * b'"' as u64));
    let backslash = zero(w ^ (ONES * b'\\' as u64));
    // Bytes below 0x20: a byte under 0x80 minus 0x20 borrows into its high bit.
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    quote | backslash | control
}

impl Cursor<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// At an opening quote: skips the string. `Some(escaped)`: whether it held an escape.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        self.i += 1;
        let b = self.b;
        let mut escaped = false;
        loop {
            self.i = self.next_special(self.i);
            match *b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match *b.get(self.i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let hex = b.get(self.i + 2..self.i + 6)?;
                            let v = std::str::from_utf8(hex).ok()?;
                            let v = u16::from_str_radix(v, 16).ok()?;
                            if (0xD800..0xE000).contains(&v)
                                || !hex.iter().all(u8::is_ascii_hexdigit)
                            {
                                // Surrogates must pair up; leave that to the parser.
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let digits = |c: &mut Cursor| {
            while let Some(b'0'..=b'9') = c.peek() {
                c.i += 1;
            }
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => digits(self),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            digits(self);
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.i - start > MAX_NUMBER {
            return None;
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// Skips any value at `depth` (the depth of the container holding it).
    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth, |c, _, _| c.member(depth + 1)),
            b'[' => self.array(depth, |c| c.member(depth + 1)).map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// [`Self::value`] with strings, most values, handled without the call.
    #[inline(always)]
    fn member(&mut self, depth: u32) -> Option<()> {
        if self.peek() == Some(b'"') {
            self.string().map(drop)
        } else {
            self.value(depth)
        }
    }

    /// At `{`: walks the members, calling `member` with each key (raw bytes) at the start of
    /// its value; `member` must consume the value.
    #[inline]
    fn object(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&mut Self, &[u8], bool) -> Option<()>,
    ) -> Option<()> {
        if depth > self.max_depth {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let start = self.i + 1;
            let escaped = self.string()?;
            let key = &self.b[start..self.i - 1];
            self.ws();
            self.expect(b':')?;
            self.ws();
            member(self, key, escaped)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// At `[`: walks the elements with `element` (which must consume one); their count.
    #[inline]
    fn array(
        &mut self,
        depth: u32,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<u64> {
        if depth > self.max_depth {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(0);
        }
        let mut n = 0;
        loop {
            element(self)?;
            n += 1;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(n);
                }
                _ => return None,
            }
        }
    }

    /// A plain record at `depth`: an object with a record key among its own keys.
    fn record(&mut self, depth: u32) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        let mut found = false;
        self.object(depth, |c, key, escaped| {
            if !found && !escaped {
                found = record_key(key);
            }
            c.member(depth + 1)
        })?;
        found.then_some(())
    }

    /// [`Self::record`], no larger than `big` bytes.
    fn small_record(&mut self, depth: u32, big: u64) -> Option<()> {
        let start = self.i;
        self.record(depth)?;
        (((self.i - start) as u64) < big).then_some(())
    }

    /// Skips a value checking field sizes and array lengths; `Err(Some(problem))` names the
    /// deepest field over a cap, `Err(None)` is text to leave to the parser.
    fn sizes(
        &mut self,
        depth: u32,
        path: &mut Vec<String>,
        limits: &Limits,
    ) -> Result<(), Option<String>> {
        let here = || {
            if path.is_empty() {
                "(record)".to_string()
            } else {
                path.join(".")
            }
        };
        if matches!(self.peek(), Some(b'{' | b'[')) && depth >= MAX_NESTING {
            return Err(Some(format!(
                "nested more than {MAX_NESTING} levels deep (at `{}`)",
                here()
            )));
        }
        match self.peek().ok_or(None)? {
            b'{' => {
                let mut problem = None;
                self.object(depth, |c, key, _| {
                    path.push(String::from_utf8_lossy(key).into_owned());
                    let start = c.i;
                    let r = c.sizes(depth + 1, path, limits);
                    let size = (c.i - start) as u64;
                    let r = match r {
                        Ok(()) if size > limits.max_field => Err(Some(format!(
                            "field `{}` is {} bytes, over the {} cap (--max-field)",
                            path.join("."),
                            size,
                            crate::limits::human_size(limits.max_field)
                        ))),
                        r => r,
                    };
                    path.pop();
                    match r {
                        Ok(()) => Some(()),
                        Err(p) => {
                            problem = Some(p);
                            None
                        }
                    }
                })
                .ok_or_else(|| problem.take().flatten())
            }
            b'[' => {
                let mut problem = None;
                let mut n = 0u64;
                let r =
                    self.array(depth, |c| {
                        n += 1;
                        if n > limits.max_array {
                            problem =
                                Some(Some(format!(
                            "array `{}` has more than {} elements (the limit for one array)",
                            if path.is_empty() { "(record)".to_string() } else { path.join(".") },
                            limits.max_array
                        )));
                            return None;
                        }
                        match c.sizes(depth + 1, path, limits) {
                            Ok(()) => Some(()),
                            Err(p) => {
                                problem = Some(p);
                                None
                            }
                        }
                    });
                r.map(drop).ok_or_else(|| problem.take().flatten())
            }
            _ => self.value(depth).ok_or(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Option<u64> {
        plain_records(text.as_bytes(), &Limits::default())
    }

    const R: &str = r#"{"eventVersion":"1.08","eventName":"X","n":[1,-2.5,0,true,false,null,{"a":"\u00e9\n"}]}"#;

    #[test]
    fn counts_records_of_every_skippable_shape() {
        assert_eq!(n(&format!("{{\"Records\":[{R},{R}]}}")), Some(2));
        assert_eq!(n(" { \"Records\" : [ ] , \"x\": 1 } \n"), Some(0));
        assert_eq!(n(&format!("[{R}, {R}, {R}]")), Some(3));
        assert_eq!(n("[]"), Some(0));
        assert_eq!(n(R), Some(1));
        // Digest files are records too.
        assert_eq!(n(r#"{"digestStartTime":"x"}"#), Some(1));
    }

    #[test]
    fn anything_the_full_path_could_reject_is_not_skipped() {
        let cases = [
            // Malformed.
            r#"{"Records":[{"eventName":"X"},]}"#,
            r#"{"Records":[{"eventName":"X"}]"#,
            r#"{"Records":[{"eventName":"X"}]} x"#,
            r#"{"Records":[{"eventName" "X"}]}"#,
            r#"{"Records":[{"eventName":"X}]}"#,
            r#"{"Records":[{"eventName":01}]}"#,
            r#"{"Records":[{"eventName":1.}]}"#,
            r#"{"Records":[{"eventName":-}]}"#,
            r#"{"Records":[{"eventName":tru}]}"#,
            r#"{"Records":[{"eventName":"\q"}]}"#,
            r#"{"Records":[{"eventName":"\u12G4"}]}"#,
            "{\"Records\":[{\"eventName\":\"a\u{1}b\"}]}",
            // Valid JSON the parser still refuses or the pipeline rejects.
            r#"{"Records":[{"eventName":"\ud800"}]}"#,
            r#"{"Records":[{"eventName":1e400}]}"#,
            r#"{"Records":[{"notCloudTrail":1}]}"#,
            r#"{"Records":[{"eventName":"X"}, "string"]}"#,
            r#"[{"log":{"eventName":"X"}}]"#,
            r#"{"Records":{"eventName":"X"}}"#,
            r#"{"Records":[],"Records":[]}"#,
            // Other containers and escaped keys are the reader's to decide.
            r#"{"Events":[]}"#,
            r#"{"expected":[]}"#,
            r#"{"hits":{"hits":[]}}"#,
            r#"{"Rec\u006frds":[]}"#,
            r#"{"nothing":1}"#,
            "42",
            "",
        ];
        for c in cases {
            assert_eq!(n(c), None, "{c}");
        }
        let deep = format!("{{\"eventName\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(n(&deep), None);
    }

    #[test]
    fn agrees_with_serde_on_what_it_accepts() {
        // Every accepted text parses with serde_json as the pipeline parses it.
        for t in [
            R,
            r#"{"eventTime":"a\"\\\/\b\f\n\r\tb","x":[[],{}],"y":-0.5}"#,
        ] {
            assert_eq!(n(t), Some(1), "{t}");
            serde_json::from_str::<serde_json::Value>(t).unwrap();
        }
    }

    #[test]
    fn find_special_agrees_with_a_byte_loop() {
        let naive = |b: &[u8], i: usize| {
            (i..b.len())
                .find(|&j| matches!(b[j], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(b.len())
        };
        let mut state = 7u64;
        for len in 0..80 {
            for _ in 0..50 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        match state >> 60 {
                            0 => b'"',
                            1 => b'\\',
                            2 => (state >> 40) as u8 & 0x1f,
                            3 => 0x80 | (state >> 40) as u8,
                            _ => b'a' + (state >> 40) as u8 % 26,
                        }
                    })
                    .collect();
                for i in 0..=len {
                    assert_eq!(find_special(&b, i), naive(&b, i), "{b:?} from {i}");
                }
            }
        }
    }

    #[test]
    fn bracket_counts() {
        let t = format!("{}{}", "[{".repeat(40), "x\"]".repeat(100));
        assert!(!many_brackets(t.as_bytes(), 80));
        assert!(many_brackets(t.as_bytes(), 79));
        assert!(!many_brackets(b"{}[]{}", 3));
        assert!(many_brackets(b"{}[]{}", 2));
        assert!(!many_brackets("{[û\u{7b}".as_bytes(), 3));
    }

    #[test]
    fn plain_single_records() {
        assert!(plain_record(R.as_bytes()));
        assert!(plain_record(b" {\"eventTime\":\"t\"} "));
        assert!(!plain_record(b"{\"x\":1}"));
        assert!(!plain_record(b"[1]"));
        assert!(!plain_record(b"{\"eventTime\":\"t\"} {}"));
        assert!(!plain_record(br#"{"event\u0054ime":"t"}"#));
    }

    #[test]
    fn large_records_are_split_normally() {
        let limits = Limits {
            max_field: 100,
            ..Limits::default()
        };
        let big = format!(r#"{{"Records":[{{"eventName":"{}"}}]}}"#, "x".repeat(200));
        assert_eq!(plain_records(big.as_bytes(), &limits), None);
        assert_eq!(plain_records(big.as_bytes(), &Limits::default()), Some(1));
    }

    #[test]
    fn names_the_field_or_array_over_a_cap() {
        let limits = Limits {
            max_field: 100,
            max_array: 5,
            ..Limits::default()
        };
        let t = format!(
            r#"{{"eventName":"X","requestParameters":{{"small":1,"policy":"{}"}}}}"#,
            "p".repeat(150)
        );
        assert_eq!(
            big_record_problem(t.as_bytes(), &limits).unwrap(),
            "field `requestParameters.policy` is 152 bytes, over the 100 bytes cap (--max-field)"
        );
        let t = r#"{"eventName":"X","resources":[1,2,3,4,5,6]}"#;
        assert_eq!(
            big_record_problem(t.as_bytes(), &limits).unwrap(),
            "array `resources` has more than 5 elements (the limit for one array)"
        );
        assert_eq!(
            big_record_problem(br#"{"eventName":"X","a":[1,[2]]}"#, &limits),
            None
        );
        assert_eq!(big_record_problem(b"{\"a\":", &limits), None);
    }
}
