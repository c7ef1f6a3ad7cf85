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
///
/// It is also the query's one shared handle at planning time, so it numbers the query's
/// functions ([`Warnings::next_ordinal`]): a process that plans the same query again (a
/// cluster's scheduler or executor, see [`crate::remote`]) finds each function by its
/// number.
#[derive(Clone, Default)]
pub struct Warnings {
    inner: Arc<Mutex<Vec<SiteLog>>>,
    ordinals: Arc<std::sync::atomic::AtomicU32>,
    forward: Option<Forward>,
}

/// Told of each failure as it is recorded (a cluster's process sends it to the client).
type Forward = Arc<dyn Fn(&Site, &str) + Send + Sync>;

impl std::fmt::Debug for Warnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warnings")
            .field("lines", &self.lines())
            .field("forwarded", &self.forward.is_some())
            .finish()
    }
}

impl Warnings {
    pub fn new() -> Warnings {
        Warnings::default()
    }

    /// Warnings that are also handed to `forward`, each failure message once per site (a
    /// cluster executor sends them to the client that runs the query).
    pub fn forwarding(forward: impl Fn(&Site, &str) + Send + Sync + 'static) -> Warnings {
        Warnings {
            forward: Some(Arc::new(forward)),
            ..Warnings::default()
        }
    }

    /// The next number for a function of this query, in planning order.
    pub fn next_ordinal(&self) -> u32 {
        self.ordinals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that evaluating `site` failed with `message` (the Java exception text ES
    /// would show, e.g. `java.lang.ArithmeticException: / by zero`).
    pub fn failure(&self, site: &Site, message: &str) {
        let original = message;
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
            if let Some(forward) = &self.forward {
                drop(logs);
                // The message as given: the receiver records it through `failure` too.
                forward(site, original);
            }
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
