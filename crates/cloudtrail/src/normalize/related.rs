//! §2.11.1, 2.13, 2.14: `related.user/ip/hosts`, `user.email` and the user/group helpers.
//!
//! These read the parsed record (`json`), not the flattened copies, so the retain mode does not
//! change them. The `related.user` order is a sequence of de-duplicating appends spread over the
//! pipeline; fixtures depend on it (session name first, then request/response users, then
//! `user.id`, `user.name`, …).

use serde_json::Value;

use super::ctx::{self, Obj};
use super::Failure;
use crate::ip;

fn append_template(doc: &mut Obj, field: &str, from: &str) -> Result<(), Failure> {
    if let Some(v) = ctx::get_nn(doc, from) {
        let s = ctx::template(v);
        ctx::append_unique(doc, field, Value::String(s))?;
    }
    Ok(())
}

pub(crate) fn first_users(doc: &mut Obj) -> Result<(), Failure> {
    for from in [
        "json.requestParameters.userName",
        "json.requestParameters.newUserName",
        "json.responseElements.user.userId",
    ] {
        append_template(doc, "related.user", from)?;
    }
    Ok(())
}

pub(crate) fn user_group_helpers(doc: &mut Obj) -> Result<(), Failure> {
    ctx::copy_nonempty(doc, "json.responseElements.group.groupId", "group.id")?;
    ctx::copy_nonempty(doc, "json.responseElements.user.userId", "user.target.id")?;
    ctx::copy_nonempty(
        doc,
        "json.requestParameters.newUserName",
        "user.changes.name",
    )?;
    ctx::copy_nonempty(doc, "json.requestParameters.groupName", "group.name")?;
    ctx::copy_nonempty(doc, "json.requestParameters.userName", "user.target.name")
}

pub(crate) fn remaining(doc: &mut Obj) -> Result<(), Failure> {
    if !ctx::has(doc, "user.email") {
        if let Some(name) = ctx::get_str(doc, "user.name") {
            if name.find('@').is_some_and(|i| i > 0) {
                let name = name.to_string();
                ctx::set(doc, "user.email", Value::String(name))?;
            }
        }
    }
    for from in [
        "user.id",
        "user.name",
        "user.changes.name",
        "aws.cloudtrail.user_identity.on_behalf_of.user_id",
    ] {
        append_template(doc, "related.user", from)?;
    }
    append_template(doc, "related.ip", "source.ip")?;
    if let Some(v) = ctx::get_nn(doc, "json.serviceEventDetails.sourceIpAddress") {
        let s = ctx::template(v);
        if ip::is_inet_address(&s) {
            ctx::append_unique(doc, "related.ip", Value::String(s))?;
        }
    }
    hosts(doc)
}

fn hosts(doc: &mut Obj) -> Result<(), Failure> {
    if let Some(name) = ctx::get_str(doc, "tls.client.server_name") {
        if !name.ends_with(".amazonaws.com") {
            append_template(doc, "related.hosts", "tls.client.server_name")?;
        }
    }
    if !ctx::has(doc, "source.ip") {
        if let Some(addr) = ctx::get_str(doc, "source.address") {
            if addr.contains('.') && !addr.contains(' ') && !addr.ends_with(".amazonaws.com") {
                append_template(doc, "related.hosts", "source.address")?;
            }
        }
    }
    append_template(doc, "related.hosts", "json.requestParameters.computerName")?;
    instance_ids(doc);
    Ok(())
}

/// EC2 instance IDs mentioned by the event (resource ARNs, then top-level request/response
/// keys), appended to `related.hosts`. `targets[].values` of SendCommand is not scanned.
fn instance_ids(doc: &mut Obj) {
    let request = ctx::get_nn(doc, "json.requestParameters");
    let response = ctx::get_nn(doc, "json.responseElements");
    let resources = ctx::get_nn(doc, "aws.cloudtrail.resources");
    if request.is_none() && response.is_none() && resources.is_none() {
        return;
    }
    let mut found: Vec<String> = Vec::new();
    let mut add = |v: Option<&Value>| {
        if let Some(Value::String(s)) = v {
            if s.encode_utf16().count() >= 10 && s.starts_with("i-") && !found.contains(s) {
                found.push(s.clone());
            }
        }
    };
    if let Some(Value::Array(items)) = resources {
        for r in items {
            if let Some(Value::String(arn)) = r.get("arn") {
                if arn.contains(":instance/") {
                    let id = &arn[arn.rfind('/').map_or(0, |i| i + 1)..];
                    add(Some(&Value::String(id.to_string())));
                }
            }
        }
    }
    for container in [request, response].into_iter().flatten() {
        let Value::Object(c) = container else {
            continue;
        };
        for key in ["instanceId", "target", "resourceId"] {
            add(c.get(key));
        }
        if let Some(Value::Array(ids)) = c.get("instanceIds") {
            for id in ids {
                add(Some(id));
            }
        }
        if let Some(Value::Object(set)) = c.get("instancesSet") {
            if let Some(Value::Array(items)) = set.get("items") {
                for item in items {
                    if let Value::Object(item) = item {
                        add(item.get("instanceId"));
                    }
                }
            }
        }
    }
    if found.is_empty() {
        return;
    }
    for host in found {
        let _ = ctx::append_unique(doc, "related.hosts", Value::String(host));
    }
}
