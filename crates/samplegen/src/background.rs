//! Background activity: sessions of ordinary calls by the cast in `actors`.

use serde_json::{json, Value};

use crate::actors::{profiles, Profile};
use crate::event::{render, Spec, Who};
use crate::ops::{access_denied, details, throttled, Env};
use crate::rng::Rng;
use crate::Event;

/// Services whose calls CloudTrail records in us-east-1 whatever the caller's region.
fn global(source: &str) -> bool {
    matches!(
        source,
        "iam.amazonaws.com" | "sts.amazonaws.com" | "signin.amazonaws.com"
    )
}

/// About `per_day` events for each of the `days` days ending on `last_day`
/// (Unix seconds of its midnight). Each day has its own PRNG stream so the
/// days do not depend on each other.
pub fn generate(seed: u64, last_day: i64, days: i64, per_day: u64) -> Vec<Event> {
    let end = last_day + 86_400 - 1;
    let mut out = Vec::new();
    for d in (0..days).rev() {
        let day = last_day - d * 86_400;
        out.extend(generate_day(seed, day, end, per_day));
    }
    out
}

/// One day's background (`day` is its midnight; no event after `end`).
pub fn generate_day(seed: u64, day: i64, end: i64, per_day: u64) -> Vec<Event> {
    let profiles = profiles();
    let weights: Vec<u32> = profiles.iter().map(|p| p.weight).collect();
    let mut out = Vec::new();
    let mut rng = Rng::fork(seed, &format!("background-{day}"));
    let mut produced = 0u64;
    while produced < per_day {
        let p = &profiles[rng.weighted(&weights)];
        produced += session(p, day, end, &mut rng, &mut out);
    }
    out
}

/// One burst of calls by one principal; returns how many records it made.
fn session(p: &Profile, day: i64, end: i64, rng: &mut Rng, out: &mut Vec<Event>) -> u64 {
    let start = day + rng.range(p.hours.0 * 3600, p.hours.1 * 3600 - 1);
    let region_weights: Vec<u32> = p.regions.iter().map(|r| r.1).collect();
    let region = p.regions[rng.weighted(&region_weights)].0;
    let ip = rng.pick(p.ips).to_string();
    let session_start = start - rng.range(30, 2400);
    let temp_key = format!("ASIA{}", &rng.upper(16));
    let identity = p.who.identity(p.account, session_start, &temp_key);
    let arn = p.who.arn(p.account);
    let mut made = 0;
    let mut t = start;

    if p.who.console() && !p.browser.is_empty() {
        if rng.chance(60) {
            out.push(console_login(p, start - 40, &ip, false, rng));
            made += 1;
        }
        out.push(console_login(p, start - 15, &ip, true, rng));
        made += 1;
    }

    let op_weights: Vec<u32> = p.ops.iter().map(|o| o.2).collect();
    let calls = rng.range(p.calls.0, p.calls.1);
    for _ in 0..calls {
        if t > end {
            break;
        }
        let (source, name, _) = p.ops[rng.weighted(&op_weights)];
        let call_region = if global(source) { "us-east-1" } else { region };
        let env = Env {
            account: p.account,
            region: call_region,
            time: t,
        };
        let mut d = details(source, name, &env, rng);
        // A read-only role can never succeed at a write.
        let read_only_role = matches!(&p.who, Who::Role { role, .. } if role.contains("ReadOnly"));
        let error = if rng.chance(p.deny) || (read_only_role && !d.read_only) {
            Some(access_denied(
                source,
                name,
                arn.as_deref().unwrap_or("unknown"),
            ))
        } else if rng.chance(p.throttle) {
            Some(throttled(source))
        } else {
            None
        };
        if error.is_some() {
            d.resp = Value::Null;
            if source == "s3.amazonaws.com" {
                if let Some(Value::Object(extra)) = d.additional.as_mut() {
                    extra.insert("bytesTransferredOut".into(), json!(243));
                }
            }
        } else if name == "GetCallerIdentity" {
            d.resp =
                json!({"userId": identity.get("principalId"), "account": p.account, "arn": arn});
        }
        let vpce = (source == "s3.amazonaws.com" && ip.starts_with("10."))
            .then_some("vpce-0b7e2f41c9d35a6e8");
        let agent = rng.pick(p.agents).to_string();
        let spec = Spec {
            time: t,
            identity: identity.clone(),
            account: p.account,
            region: call_region,
            source,
            name,
            ip: ip.clone(),
            agent,
            error,
            req: d.req,
            resp: d.resp,
            additional: d.additional,
            read_only: d.read_only,
            resources: d.resources,
            event_type: d.event_type,
            management: d.management,
            shared_event_id: false,
            vpce: vpce.or(d.vpce),
            console: p.who.console(),
        };
        out.push(Event::new(&spec, render(&spec, rng)));
        made += 1;
        t += rng.range(p.gap.0, p.gap.1);
    }
    made
}

/// A `ConsoleLogin` record; failures look like AWS's ("Failed authentication").
fn console_login(p: &Profile, t: i64, ip: &str, ok: bool, rng: &mut Rng) -> Event {
    let identity = match &p.who {
        Who::User { name, pid, .. } => json!({"type": "IAMUser", "principalId": pid,
            "arn": p.who.arn(p.account), "accountId": p.account, "userName": name}),
        // Root sign-ins carry an empty access key id in real logs.
        _ => json!({"type": "Root", "principalId": p.account, "arn": p.who.arn(p.account),
            "accountId": p.account, "accessKeyId": ""}),
    };
    let spec = Spec {
        time: t,
        identity,
        account: p.account,
        region: "us-east-1",
        source: "signin.amazonaws.com",
        name: "ConsoleLogin",
        ip: ip.to_string(),
        agent: p.browser.to_string(),
        error: (!ok).then(|| (String::new(), "Failed authentication".to_string())),
        req: Value::Null,
        resp: json!({"ConsoleLogin": if ok { "Success" } else { "Failure" }}),
        additional: Some(json!({
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_4c1c9a9e0b3d7f21",
            "MobileVersion": "No", "MFAUsed": if ok { "Yes" } else { "No" }})),
        read_only: false,
        resources: None,
        event_type: "AwsConsoleSignIn",
        management: true,
        shared_event_id: false,
        vpce: None,
        console: false,
    };
    Event::new(&spec, render(&spec, rng))
}
