//! §2.2, 2.6–2.8, 2.10, 2.11.2: time, event basics, source address, user agent, errors, the
//! remaining top-level CloudTrail fields (incl. `resources`) and ConsoleLogin details.

use serde_json::{Map, Value};

use super::ctx::{self, get_str, rename, Obj};
use super::time;
use super::{append_error, Failure};
use crate::ip;
use crate::java_map;

/// §2.2: `eventTime` → `@timestamp` (UTC, milliseconds). A bad value is dropped and flagged;
/// `@timestamp` then keeps the agent's read time.
pub(crate) fn timestamp(doc: &mut Obj) {
    let Some(raw) = ctx::get_nn(doc, "json.eventTime") else {
        return;
    };
    if raw.as_str() == Some("") {
        return;
    }
    let text = ctx::template(raw);
    match time::parse_iso8601(&text) {
        Some(t) => {
            doc.insert("@timestamp".into(), Value::String(t.to_es_string()));
        }
        None => {
            ctx::remove(doc, "json.eventTime");
            append_error(
                doc,
                &Failure::new(format!("unable to parse date [{text}]"))
                    .at("date", "date_json_eventTime_to_timestamp_e9417ba3"),
            );
        }
    }
}

/// §2.6: service, provider, action, category, region.
pub(crate) fn basics(doc: &mut Obj) -> Result<(), Failure> {
    if !ctx::has(doc, "cloud.service.name") {
        if let Some(source) = get_str(doc, "json.eventSource") {
            if source.ends_with(".amazonaws.com") {
                // dissect `%{cloud.service.name}.amazonaws.com`: up to the first occurrence.
                let idx = source.find(".amazonaws.com").expect("suffix present");
                let name = source[..idx].to_string();
                ctx::set(doc, "cloud.service.name", Value::String(name))?;
            }
        }
    }
    if !ctx::has(doc, "event.provider") {
        rename(doc, "json.eventSource", "event.provider")?;
    }
    if let Some(name) = ctx::get_nn(doc, "json.eventName") {
        let action = ctx::template(name);
        if !action.is_empty() {
            ctx::set(doc, "event.action", Value::String(action))?;
        }
    }
    rename(doc, "json.eventCategory", "aws.cloudtrail.event_category")?;
    if get_str(doc, "event.action") == Some("UserAuthentication")
        && !ctx::has(doc, "user.name")
        && ctx::has(doc, "json.additionalEventData.UserName")
    {
        rename(doc, "json.additionalEventData.UserName", "user.name")?;
    }
    ctx::set(doc, "cloud.provider", Value::String("aws".into()))?;
    ctx::copy_nonempty(doc, "json.awsRegion", "cloud.region")?;
    Ok(())
}

/// §2.7–2.8: `source.address` always, `source.ip` only for literal addresses (the raw string,
/// as the `convert` processor keeps it), `user_agent.original`, error code and message.
pub(crate) fn source_and_agent(doc: &mut Obj) -> Result<(), Failure> {
    if !ctx::has(doc, "source.address") {
        rename(doc, "json.sourceIPAddress", "source.address")?;
    }
    if let Some(addr) = ctx::get_nn(doc, "source.address") {
        let text = ctx::template(addr);
        if ip::is_inet_address(&text) {
            ctx::set(doc, "source.ip", Value::String(text))?;
        }
    }
    // GeoIP (source.geo.*, source.as.*) and the parsed user agent (user_agent.name, version,
    // os, device) come from Elasticsearch's own processors and data: enrichment steps run
    // after the pipeline, only with the user's databases or rules (`crate::enrich`, the
    // `geoip` and `useragent` crates). The pipeline itself sets `user_agent.original`.
    if let Some(ua) = ctx::remove(doc, "json.userAgent") {
        ctx::set(
            doc,
            "user_agent.original",
            Value::String(ctx::template(&ua)),
        )?;
    }
    rename(doc, "json.errorCode", "aws.cloudtrail.error_code")?;
    rename(doc, "json.errorMessage", "aws.cloudtrail.error_message")?;
    Ok(())
}

/// §2.10: the remaining top-level fields, in pipeline order.
pub(crate) fn top_level(doc: &mut Obj) -> Result<(), Failure> {
    rename(doc, "json.requestID", "aws.cloudtrail.request_id")?;
    if !ctx::has(doc, "event.id") {
        rename(doc, "json.eventID", "event.id")?;
    }
    rename(doc, "json.eventType", "aws.cloudtrail.event_type")?;
    rename(doc, "json.apiVersion", "aws.cloudtrail.api_version")?;
    if let Some(v) = ctx::get_nn(doc, "json.managementEvent") {
        // convert type: string → Java toString of the value.
        let s = ctx::template(v);
        ctx::set(doc, "aws.cloudtrail.management_event", Value::String(s))?;
    }
    rename(doc, "json.readOnly", "aws.cloudtrail.read_only")?;
    if ctx::has(doc, "json.resources") {
        resources(doc)?;
    }
    rename(
        doc,
        "json.recipientAccountId",
        "aws.cloudtrail.recipient_account_id",
    )?;
    if !ctx::has(doc, "cloud.account.id") {
        ctx::copy_nonempty(
            doc,
            "aws.cloudtrail.recipient_account_id",
            "cloud.account.id",
        )?;
    }
    rename(doc, "json.sharedEventID", "aws.cloudtrail.shared_event_id")?;
    if !ctx::has(doc, "aws.cloudtrail.shared_event_id") {
        rename(doc, "json.sharedEventId", "aws.cloudtrail.shared_event_id")?;
    }
    rename(doc, "json.vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id")?;
    rename(
        doc,
        "json.vpcEndpointAccountId",
        "aws.cloudtrail.vpc_endpoint_account_id",
    )?;
    // Paths spelled out: this runs for every record.
    for (from, to) in [
        ("json.addendum.reason", "aws.cloudtrail.addendum.reason"),
        (
            "json.addendum.updatedFields",
            "aws.cloudtrail.addendum.updated_fields",
        ),
        (
            "json.addendum.originalRequestID",
            "aws.cloudtrail.addendum.original_request_id",
        ),
        (
            "json.addendum.originalEventID",
            "aws.cloudtrail.addendum.original_event_id",
        ),
    ] {
        rename(doc, from, to)?;
    }
    Ok(())
}

/// `resources` → `aws.cloudtrail.resources`: `ARN`/`accountId` renamed, duplicates (same arn,
/// account and type) collapsed with the last one winning, result in the iteration order of the
/// `HashMap` the pipeline dedupes through (not input order).
fn resources(doc: &mut Obj) -> Result<(), Failure> {
    let resources = ctx::remove(doc, "json.resources").expect("checked by caller");
    let Value::Array(items) = resources else {
        return ctx::set(doc, "aws.cloudtrail.resources", resources);
    };
    let mut keys = Vec::new();
    let mut values: Vec<Map<String, Value>> = Vec::new();
    for item in items {
        let Value::Object(original) = item else {
            continue;
        };
        let mut resource = Map::new();
        for (k, v) in original {
            match k.as_str() {
                "ARN" => resource.insert("arn".into(), v),
                "accountId" => resource.insert("account_id".into(), v),
                _ => resource.insert(k, v),
            };
        }
        let part = |k: &str| resource.get(k).map(ctx::template).unwrap_or_default();
        keys.push(format!(
            "{}_{}_{}",
            part("arn"),
            part("account_id"),
            part("type")
        ));
        values.push(resource);
    }
    let mut out = Vec::new();
    for first in java_map::hashmap_order(&keys) {
        // Java keeps the first insertion's position but the last value.
        let last = keys
            .iter()
            .rposition(|k| k == &keys[first])
            .expect("key present");
        out.push(Value::Object(values[last].clone()));
    }
    ctx::set(doc, "aws.cloudtrail.resources", Value::Array(out))
}

/// §2.11.2: ConsoleLogin's `additionalEventData` as typed fields.
pub(crate) fn console_login(doc: &mut Obj) {
    if get_str(doc, "json.eventName") != Some("ConsoleLogin") {
        return;
    }
    let aed = |k: &str| ctx::get_nn(doc, &format!("json.additionalEventData.{k}")).cloned();
    let mut map = Map::new();
    if let Some(v) = aed("MobileVersion") {
        map.insert(
            "mobile_version".into(),
            Value::Bool(v.as_str() != Some("No")),
        );
    }
    if let Some(v) = aed("LoginTo") {
        map.insert("login_to".into(), v);
    }
    if let Some(v) = aed("MFAUsed") {
        map.insert("mfa_used".into(), Value::Bool(v.as_str() != Some("No")));
    }
    if !map.is_empty() {
        let _ = ctx::set(
            doc,
            "aws.cloudtrail.console_login.additional_eventdata",
            Value::Object(map),
        );
    }
}
