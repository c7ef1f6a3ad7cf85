//! Runtime warnings, collected the way ES reports them in `Warning` headers: per failing
//! expression a header line (`Line L:C: evaluation of [expr] failed, treating result as
//! null. Only first 20 failures recorded.`) then at most 20 distinct failure messages.

use std::sync::{Arc, Mutex};

/// The most failures ES records per expression.
pub const MAX_FAILURES_PER_SITE: usize = 20;

/// Where a failure happened: the expression's position and its source text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Site {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

#[derive(Debug, Default)]
struct SiteLog {
    site: Option<Site>,
    messages: Vec<String>,
    /// What ES says it did with the failed value: `null`, or `false` for CASE conditions.
    treated_as: &'static str,
}

/// Shared by every function instance of one query; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    inner: Arc<Mutex<Vec<SiteLog>>>,
}

impl Warnings {
    pub fn new() -> Warnings {
        Warnings::default()
    }

    /// Records that evaluating `site` failed with `message` (the Java exception text ES
    /// would show, e.g. `java.lang.ArithmeticException: / by zero`).
    pub fn failure(&self, site: &Site, message: &str) {
        let (message, treated_as) = match message {
            CASE_CONDITION_MULTI_VALUE => (MULTI_VALUE, "false"),
            m => (m, "null"),
        };
        let mut logs = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let idx = match logs.iter().position(|l| l.site.as_ref() == Some(site)) {
            Some(i) => i,
            None => {
                logs.push(SiteLog {
                    site: Some(site.clone()),
                    messages: vec![],
                    treated_as,
                });
                logs.len() - 1
            }
        };
        let log = &mut logs[idx];
        if log.messages.len() < MAX_FAILURES_PER_SITE && !log.messages.iter().any(|m| m == message)
        {
            log.messages.push(message.to_string());
        }
    }

    /// A warning that is not an evaluation failure (e.g. about the data source).
    pub fn note(&self, message: impl Into<String>) {
        let mut logs = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        logs.push(SiteLog {
            site: None,
            messages: vec![message.into()],
            treated_as: "null",
        });
    }

    /// The warning lines in ES's order and wording.
    pub fn lines(&self) -> Vec<String> {
        let logs = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = vec![];
        for log in logs.iter() {
            match &log.site {
                Some(s) => {
                    out.push(format!(
                        "Line {}:{}: evaluation of [{}] failed, treating result as {}. Only first {} failures recorded.",
                        s.line, s.column, s.text, log.treated_as, MAX_FAILURES_PER_SITE
                    ));
                    for m in &log.messages {
                        out.push(format!("Line {}:{}: {}", s.line, s.column, m));
                    }
                }
                None => out.extend(log.messages.iter().cloned()),
            }
        }
        out
    }
}

/// The message ES gives when a single-value function meets a multi-value.
pub const MULTI_VALUE: &str =
    "java.lang.IllegalArgumentException: single-value function encountered multi-value";

/// A CASE condition that is multi-valued: the same message, but ES reports the condition
/// as treated as false rather than the result as null.
pub const CASE_CONDITION_MULTI_VALUE: &str = "case-condition:multi-value";
