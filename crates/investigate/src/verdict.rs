//! The verdict on one finding: likely tampering, likely maintenance, unclear, or a
//! refused attempt — with every piece of evidence in words and its weight, so an analyst
//! can check each step.
//!
//! ## Where the evidence comes from
//!
//! The rules read the answers of pivots with these ids (trailhunt's logging hunts ship
//! them; a hunt with other pivots gets its tables and no verdict). Columns are looked up
//! by name; a missing pivot or column only removes the rules that need it.
//!
//! | pivot | columns read | what it is |
//! | --- | --- | --- |
//! | `calls` | `@timestamp`, `event.action`, `event.outcome`, `resource`, `aws.cloudtrail.error_code` | the calls behind the finding row |
//! | `lifecycle` | `@timestamp`, `when` (`before`/`during`/`after`), `turns_on`, `resource`, `event.action`, `event.outcome`, `aws.cloudtrail.user_identity.arn` | calls on the same resources in all the data |
//! | `history` | `calls` | the principal's calls before `?history_end` (the recent period before the finding) |
//! | `addresses` | `source.address`, `new` | its source addresses in the window; `new` = first used after `?history_end` |
//! | `clients` (else `agents`) | `client` (else `user_agent.original`), `new` | its user agents in the window, without per-call details |
//! | `networks` | `source.as.number`, `source.as.organization.name`, `new` | its ASNs (GeoIP) |
//! | `countries` | `source.geo.country_iso_code`, `new` | its countries (GeoIP) |
//! | `activity` | `category`, `event.provider`, `event.action`, `calls`, `first_call` | its calls in the window, grouped |
//!
//! ## The rules (weights add up on two sides)
//!
//! Maintenance:
//! * **M+2** a resource was re-enabled or re-created after the finding by the same
//!   principal; **M+1** by another one. The `lifecycle` pivot marks those calls in its
//!   `turns_on` column (`StartLogging`, `CreateTrail`, `CreateFlowLogs`, `CreateDetector`,
//!   `UpdateDetector` with `enable=true`, `StartConfigurationRecorder`, `PutMetricAlarm`,
//!   `CreateLogGroup`, …); without the column, [`REENABLING`] decides.
//! * **M+2** a resource was created or started before the finding by the same principal
//!   (it is switching off its own thing).
//! * **M+2** the principal has earlier history and every address and user agent it used in
//!   the window (and every ASN and country, with GeoIP) was seen before.
//!
//! Tampering:
//! * **T+1** a resource the finding switched off was not re-enabled or re-created afterwards
//!   (only for calls that succeeded).
//! * **T+2** a source address new for the principal; **T+1** a new client (user agent); **T+1** a new
//!   ASN; **T+1** a new country (each counted once, however many are new).
//! * **T+2** logging switched off in other services within the window (`category` =
//!   `logging disabled` with another `event.provider` than the finding's calls).
//! * **T+1** discovery before the finding's first call within the window (`category` =
//!   `discovery`).
//! * **T+1** IAM or credential changes within the window (`category` = `IAM change`).
//!
//! Facts without weight are listed too (no earlier history, refused calls, resources that
//! another principal created).
//!
//! ## The label
//! * every call of the finding failed → **refused attempt** (the score still shows which
//!   way the rest leans);
//! * else T ≥ 3 and T ≥ M + 2 → **likely tampering**;
//! * else M ≥ 2 and M > T → **likely maintenance**;
//! * else **unclear** — review by hand.

use std::collections::BTreeSet;

use engine::{QueryResult, Value};

use crate::{column, Finding};

/// The finding row's column naming the principal.
pub const PRINCIPAL_COLUMN: &str = "aws.cloudtrail.user_identity.arn";

/// Calls that turn logging back on (re-enabling or re-creating).
pub const REENABLING: &[&str] = &[
    "StartLogging",
    "CreateTrail",
    "CreateFlowLogs",
    "CreateResolverQueryLogConfig",
    "AssociateResolverQueryLogConfig",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Label {
    LikelyTampering,
    LikelyMaintenance,
    RefusedAttempt,
    #[default]
    Unclear,
    /// The hunt has no pivots: nothing to judge.
    NotJudged,
}

impl Label {
    pub fn text(self) -> &'static str {
        match self {
            Label::LikelyTampering => "likely tampering",
            Label::LikelyMaintenance => "likely maintenance",
            Label::RefusedAttempt => "refused attempt",
            Label::Unclear => "unclear",
            Label::NotJudged => "not judged",
        }
    }

    /// A stable machine name (JSON, CSS classes).
    pub fn key(self) -> &'static str {
        match self {
            Label::LikelyTampering => "tampering",
            Label::LikelyMaintenance => "maintenance",
            Label::RefusedAttempt => "refused",
            Label::Unclear => "unclear",
            Label::NotJudged => "not_judged",
        }
    }
}

/// Which way a piece of evidence points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Tampering,
    Maintenance,
    /// A fact worth reading, without weight.
    Neutral,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub side: Side,
    pub weight: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub label: Label,
    pub tampering: u32,
    pub maintenance: u32,
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    pub fn no_pivots() -> Verdict {
        Verdict {
            label: Label::NotJudged,
            evidence: vec![Evidence {
                side: Side::Neutral,
                weight: 0,
                text: "this hunt has no pivots, so trailhunt cannot investigate its rows".into(),
            }],
            ..Verdict::default()
        }
    }

    /// "likely tampering (T 8 : M 0)": the label and the score.
    pub fn summary(&self) -> String {
        match self.label {
            Label::NotJudged => self.label.text().to_string(),
            l => format!(
                "{} (tampering {} : maintenance {})",
                l.text(),
                self.tampering,
                self.maintenance
            ),
        }
    }

    /// The evidence as one sentence: "not re-enabled; a new address …".
    pub fn because(&self) -> String {
        self.evidence
            .iter()
            .map(|e| e.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn add(&mut self, side: Side, weight: u32, text: String) {
        match side {
            Side::Tampering => self.tampering += weight,
            Side::Maintenance => self.maintenance += weight,
            Side::Neutral => {}
        }
        self.evidence.push(Evidence { side, weight, text });
    }
}

/// Judges a finding from its pivots' answers (see the module docs for the rules).
pub fn judge(f: &Finding) -> Verdict {
    let mut v = Verdict::default();
    let principal = f.principal.as_deref();

    // The calls themselves.
    let calls = f.answer("calls");
    let mut succeeded_resources = BTreeSet::new();
    let mut all_failed = false;
    let mut finding_providers = BTreeSet::new();
    if let Some(c) = calls {
        let outcomes = strings(c, "event.outcome");
        let resources = strings(c, "resource");
        let providers = strings(c, "event.provider");
        for p in providers.iter().flatten() {
            finding_providers.insert(p.clone());
        }
        let n = c.rows.len();
        let failed = outcomes
            .iter()
            .filter(|o| o.as_deref() == Some("failure"))
            .count();
        all_failed = n > 0 && failed == n;
        for (o, r) in outcomes.iter().zip(&resources) {
            if o.as_deref() != Some("failure") {
                if let Some(r) = r {
                    succeeded_resources.insert(r.clone());
                }
            }
        }
        if all_failed {
            let codes: BTreeSet<String> = strings(c, "aws.cloudtrail.error_code")
                .into_iter()
                .flatten()
                .collect();
            let codes = if codes.is_empty() {
                String::new()
            } else {
                format!(" ({})", join(&codes))
            };
            v.add(
                Side::Neutral,
                0,
                format!(
                    "every call was refused{codes}: nothing was switched off, but someone tried"
                ),
            );
        } else if n == 0 {
            v.add(
                Side::Neutral,
                0,
                "the calls behind this row were not found".into(),
            );
        }
    }
    // Finding rows from other hunts may name the provider directly.
    if finding_providers.is_empty() {
        if let Some((_, Value::Str(p))) = f.row.iter().find(|(c, _)| c.name == "event.provider") {
            finding_providers.insert(p.clone());
        }
    }

    // The same resources before and after.
    if let (Some(l), Some((start, end))) = (f.answer("lifecycle"), f.span) {
        let times = dates(l, "@timestamp");
        let actions = strings(l, "event.action");
        let outcomes = strings(l, "event.outcome");
        let who = strings(l, PRINCIPAL_COLUMN);
        let resources = strings(l, "resource");
        // The pivot says which calls switch the resource back on (`turns_on`); without
        // that column, the known re-enabling APIs do.
        let turns_on = bools(l, "turns_on");
        let mut reenabled = BTreeSet::new();
        let mut created_by_self = BTreeSet::new();
        for i in 0..l.rows.len() {
            let (Some(t), Some(action), Some(resource)) =
                (times[i], actions[i].as_deref(), resources[i].as_deref())
            else {
                continue;
            };
            let on = turns_on[i].unwrap_or_else(|| REENABLING.contains(&action));
            if outcomes[i].as_deref() == Some("failure") || !on {
                continue;
            }
            let same = principal.is_some() && who[i].as_deref() == principal;
            if t > end {
                if reenabled.insert(resource.to_string()) {
                    let by = if same {
                        "the same principal".to_string()
                    } else {
                        format!(
                            "another principal ({})",
                            who[i].as_deref().unwrap_or("unknown")
                        )
                    };
                    v.add(
                        Side::Maintenance,
                        if same { 2 } else { 1 },
                        format!(
                            "{resource} {} {} later by {by}",
                            past(action),
                            duration(t - end)
                        ),
                    );
                }
            } else if t < start && same && created_by_self.insert(resource.to_string()) {
                v.add(
                    Side::Maintenance,
                    2,
                    format!(
                        "{resource} was {} by the same principal {} earlier ({action})",
                        if action.starts_with("Create") || action.starts_with("Put") {
                            "created"
                        } else {
                            "started"
                        },
                        duration(start - t)
                    ),
                );
            } else if t < start && !same {
                v.add(
                    Side::Neutral,
                    0,
                    format!(
                        "{resource} was set up by {} ({action})",
                        who[i].as_deref().unwrap_or("an unknown principal")
                    ),
                );
            }
        }
        let not_back: Vec<&String> = succeeded_resources
            .iter()
            .filter(|r| !reenabled.contains(*r))
            .collect();
        if !not_back.is_empty() {
            let names: Vec<&str> = not_back.iter().map(|s| s.as_str()).collect();
            v.add(
                Side::Tampering,
                1,
                format!(
                    "not re-enabled or re-created afterwards: {}",
                    names.join(", ")
                ),
            );
        }
    }

    // Origin against the principal's habits.
    let history = f
        .answer("history")
        .and_then(|h| longs(h, "calls").into_iter().flatten().next())
        .unwrap_or(0);
    let history_known = f.answer("history").is_some();
    if history_known && history == 0 {
        v.add(
            Side::Neutral,
            0,
            "no earlier activity of this principal in the data: nothing to compare its origin with"
                .into(),
        );
    }
    if history > 0 {
        let mut all_known = true;
        let mut seen_any = false;
        // Clients (user agents without per-call details) when the hunt has them.
        let agents = if f.answer("clients").is_some() {
            ("clients", &["client"][..], 1, "client")
        } else {
            ("agents", &["user_agent.original"][..], 1, "user agent")
        };
        let dims: [(&str, &[&str], u32, &str); 4] = [
            ("addresses", &["source.address"], 2, "source address"),
            agents,
            (
                "networks",
                &["source.as.number", "source.as.organization.name"],
                1,
                "network (ASN)",
            ),
            ("countries", &["source.geo.country_iso_code"], 1, "country"),
        ];
        let mut usual = Vec::new();
        for (id, cols, weight, what) in dims {
            let Some(r) = f.answer(id) else { continue };
            let keys: Vec<Vec<Option<String>>> = cols.iter().map(|c| strings(r, c)).collect();
            let new = bools(r, "new");
            let mut new_values = Vec::new();
            for i in 0..r.rows.len() {
                let key: Vec<String> = keys.iter().filter_map(|k| k[i].clone()).collect();
                if key.is_empty() {
                    continue; // no value (no GeoIP, no user agent)
                }
                seen_any = true;
                if new[i] == Some(true) {
                    new_values.push(key.join(" "));
                } else if id == "addresses" {
                    usual.push(key.join(" "));
                }
            }
            if !new_values.is_empty() {
                all_known = false;
                let plural = if new_values.len() > 1 { "s" } else { "" };
                v.add(
                    Side::Tampering,
                    weight,
                    format!(
                        "new {what}{plural} for this principal: {}",
                        new_values.join(", ")
                    ),
                );
            }
        }
        if all_known && seen_any {
            let from = if usual.is_empty() {
                String::new()
            } else {
                format!(" ({})", usual.join(", "))
            };
            v.add(
                Side::Maintenance,
                2,
                format!(
                    "from its usual addresses{from} and clients, seen in {history} earlier calls"
                ),
            );
        }
    }

    // Its other calls in the window.
    if let Some(a) = f.answer("activity") {
        let cats = strings(a, "category");
        let providers = strings(a, "event.provider");
        let actions = strings(a, "event.action");
        let counts = longs(a, "calls");
        let firsts = dates(a, "first_call");
        let mut other_services = BTreeSet::new();
        let mut other_calls = Vec::new();
        let mut recon = Vec::new();
        let mut iam = Vec::new();
        for i in 0..a.rows.len() {
            let (Some(cat), Some(action)) = (cats[i].as_deref(), actions[i].as_deref()) else {
                continue;
            };
            let n = counts[i].unwrap_or(1);
            let label = if n > 1 {
                format!("{action} ×{n}")
            } else {
                action.to_string()
            };
            match cat {
                "logging disabled" => {
                    if let Some(p) = providers[i].as_deref() {
                        if !finding_providers.contains(p) {
                            other_services.insert(short_service(p));
                            other_calls.push(label);
                        }
                    }
                }
                "discovery" => {
                    if let (Some(t), Some((start, _))) = (firsts[i], f.span) {
                        if t < start {
                            recon.push(label);
                        }
                    }
                }
                "IAM change" => iam.push(label),
                _ => {}
            }
        }
        let w = f.window.map(|(a, b)| {
            let span = f.span.map_or(0, |(s, e)| e - s);
            duration(((b - a) - span) / 2)
        });
        let within = w.map_or(String::new(), |w| format!(" within {w} of the finding"));
        if !other_services.is_empty() {
            let n = other_services.len();
            v.add(
                Side::Tampering,
                2,
                format!(
                    "{n} other logging service{} switched off{within}: {} ({})",
                    if n > 1 { "s" } else { "" },
                    join(&other_services),
                    other_calls.join(", ")
                ),
            );
        }
        if !recon.is_empty() {
            v.add(
                Side::Tampering,
                1,
                format!("discovery before the first call: {}", recon.join(", ")),
            );
        }
        if !iam.is_empty() {
            v.add(
                Side::Tampering,
                1,
                format!("IAM or credential changes{within}: {}", iam.join(", ")),
            );
        }
    }

    v.label = if all_failed {
        Label::RefusedAttempt
    } else if v.tampering >= 3 && v.tampering >= v.maintenance + 2 {
        Label::LikelyTampering
    } else if v.maintenance >= 2 && v.maintenance > v.tampering {
        Label::LikelyMaintenance
    } else {
        Label::Unclear
    };
    v
}

fn past(action: &str) -> String {
    let how = if action.starts_with("Create") || action.starts_with("Put") {
        "re-created"
    } else if action.starts_with("Associate") {
        "re-attached"
    } else {
        "re-enabled"
    };
    format!("{how} ({action})")
}

/// `cloudtrail.amazonaws.com` → `cloudtrail`.
fn short_service(p: &str) -> String {
    p.strip_suffix(".amazonaws.com").unwrap_or(p).to_string()
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// "4 min", "2 h 5 min", "3 d 1 h", "12 s".
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

fn strings(r: &QueryResult, name: &str) -> Vec<Option<String>> {
    match column(r, name) {
        Some(it) => it
            .map(|v| match v {
                Value::Null => None,
                Value::Multi(vs) => Some(
                    vs.iter()
                        .map(|v| engine::format::to_text(v, ""))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                v => Some(engine::format::to_text(v, "")),
            })
            .collect(),
        None => vec![None; r.rows.len()],
    }
}

fn dates(r: &QueryResult, name: &str) -> Vec<Option<i64>> {
    match column(r, name) {
        Some(it) => it
            .map(|v| {
                if let Value::Date(t) = v {
                    Some(*t)
                } else {
                    None
                }
            })
            .collect(),
        None => vec![None; r.rows.len()],
    }
}

fn longs(r: &QueryResult, name: &str) -> Vec<Option<i64>> {
    match column(r, name) {
        Some(it) => it
            .map(|v| match v {
                Value::Long(n) => Some(*n),
                Value::Int(n) => Some(i64::from(*n)),
                _ => None,
            })
            .collect(),
        None => vec![None; r.rows.len()],
    }
}

fn bools(r: &QueryResult, name: &str) -> Vec<Option<bool>> {
    match column(r, name) {
        Some(it) => it
            .map(|v| {
                if let Value::Bool(b) = v {
                    Some(*b)
                } else {
                    None
                }
            })
            .collect(),
        None => vec![None; r.rows.len()],
    }
}

#[cfg(test)]
mod tests;
