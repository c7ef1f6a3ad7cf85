//! The timeline chart: a finding's principal's calls in the investigation window, one
//! lane per service, logging being switched off marked. Drawn as inline SVG so the report
//! needs nothing from the network.

use std::fmt::Write;

use engine::Value;
use investigate::{column, Finding};

/// One call on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub at: i64,
    pub service: String,
    pub action: String,
    pub failed: bool,
    pub category: String,
}

/// The calls of the finding's `timeline` pivot (`@timestamp`, `event.provider`,
/// `event.action`, `event.outcome`, `category`), oldest first.
pub fn points(f: &Finding) -> Vec<Point> {
    let Some(r) = f.answer("timeline") else {
        return Vec::new();
    };
    let text = |name: &str| -> Vec<String> {
        column(r, name).map_or_else(
            || vec![String::new(); r.rows.len()],
            |c| c.map(|v| engine::format::to_text(v, "")).collect(),
        )
    };
    let (services, actions, outcomes, cats) = (
        text("event.provider"),
        text("event.action"),
        text("event.outcome"),
        text("category"),
    );
    let times: Vec<Option<i64>> = column(r, "@timestamp").map_or_else(
        || vec![None; r.rows.len()],
        |c| {
            c.map(|v| {
                if let Value::Date(t) = v {
                    Some(*t)
                } else {
                    None
                }
            })
            .collect()
        },
    );
    let mut out: Vec<Point> = (0..r.rows.len())
        .filter_map(|i| {
            Some(Point {
                at: times[i]?,
                service: services[i].trim_end_matches(".amazonaws.com").to_string(),
                action: actions[i].clone(),
                failed: outcomes[i] == "failure",
                category: cats[i].clone(),
            })
        })
        .collect();
    out.sort_by_key(|p| p.at);
    out
}

/// CSS class of a category (the stylesheet colours them).
pub fn class(category: &str) -> &'static str {
    match category {
        "logging disabled" => "off",
        "logging enabled" => "on",
        "IAM change" => "iam",
        _ => "other",
    }
}

const LEFT: f64 = 150.0;
const RIGHT: f64 = 30.0;
const WIDTH: f64 = 960.0;
const LANE: f64 = 26.0;
const TOP: f64 = 30.0;

/// The SVG element, or `None` without points. `esc` escapes text for HTML.
pub fn svg(f: &Finding, esc: impl Fn(&str) -> String) -> Option<String> {
    let pts = points(f);
    if pts.is_empty() {
        return None;
    }
    let (start, end) = f.window.unwrap_or((pts[0].at, pts[pts.len() - 1].at));
    let span = (end - start).max(1) as f64;
    let x = |t: i64| LEFT + (t - start) as f64 / span * (WIDTH - LEFT - RIGHT);
    let mut lanes: Vec<&str> = Vec::new();
    for p in &pts {
        if !lanes.contains(&p.service.as_str()) {
            lanes.push(&p.service);
        }
    }
    let height = TOP + LANE * lanes.len() as f64 + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"><title>{}</title>"#,
        esc(&format!(
            "Calls of {} around the finding",
            f.principal.as_deref().unwrap_or("the principal")
        ))
    );
    // The finding's own span.
    if let Some((a, b)) = f.span {
        let (xa, xb) = (x(a), x(b));
        let _ = write!(
            s,
            r#"<rect class="span" x="{:.1}" y="{TOP}" width="{:.1}" height="{:.1}"/>"#,
            xa - 3.0,
            (xb - xa) + 6.0,
            LANE * lanes.len() as f64
        );
    }
    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + LANE * i as f64 + LANE / 2.0;
        let _ = write!(
            s,
            r#"<line class="lane" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="lane-name" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 8.0,
            y + 4.0,
            esc(lane)
        );
    }
    // Time axis: five ticks.
    let axis_y = TOP + LANE * lanes.len() as f64 + 14.0;
    for k in 0..=4 {
        let t = start + (span as i64) * k / 4;
        let iso = investigate::iso(t);
        let label = if k == 0 || k == 4 {
            iso[..16].replace('T', " ")
        } else {
            iso[11..16].to_string()
        };
        let _ = write!(
            s,
            r#"<text class="tick" x="{:.1}" y="{axis_y:.1}" text-anchor="middle">{}</text>"#,
            x(t),
            esc(&label)
        );
    }
    let mut labelled = 0;
    for p in &pts {
        let lane = lanes.iter().position(|l| *l == p.service).unwrap_or(0);
        let y = TOP + LANE * lane as f64 + LANE / 2.0;
        let cls = class(&p.category);
        let tip = format!(
            "{} {} {}{}",
            investigate::iso(p.at),
            p.service,
            p.action,
            if p.failed { " (failed)" } else { "" }
        );
        let _ = write!(
            s,
            r#"<circle class="call {cls}{}" cx="{:.1}" cy="{y:.1}" r="{}" data-action="{}"><title>{}</title></circle>"#,
            if p.failed { " failed" } else { "" },
            x(p.at),
            if cls == "other" { 3 } else { 6 },
            esc(&p.action),
            esc(&tip)
        );
        if cls == "off" && labelled < 12 {
            labelled += 1;
            let _ = write!(
                s,
                r#"<text class="mark" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x(p.at),
                y - 9.0,
                esc(&p.action)
            );
        }
    }
    s.push_str("</svg>");
    Some(s)
}
