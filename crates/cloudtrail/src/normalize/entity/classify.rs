//! Classifying targets and the actor of an event into user / host / service / generic
//! entities: the entity fields the enrichment outputs.

use serde_json::Value;

use super::{JavaSet, Outputs};
use crate::normalize::ctx;

const SERVICE_TYPES: &[&str] = &[
    "stack",
    "stack-set",
    "trail",
    "configuration-recorder",
    "file-system",
    "mount-target",
    "rule",
    "detector",
    "key",
    "function",
    "log-group",
    "log-stream",
    "alarm",
    "db",
    "cluster",
    "global-cluster",
    "trust-anchor",
    "resolver-query-log-config",
    "secret",
    "parameter",
    "document",
    "session",
    "webacl",
    "rulegroup",
    "ipset",
    "topic",
    "model",
    "loadbalancer",
    "table",
    "group",
    "policy",
    "security-group",
    "network-interface",
    "vpc",
    "subnet",
    "network-acl",
    "dhcp-options",
];
const USER_TYPES: &[&str] = &[
    "user",
    "role",
    "assumed-role",
    "federated-user",
    "instance-profile",
    "mfa",
    "serialNumber",
];
const SERVICE_ID_PREFIXES: &[&str] = &[
    "sg-", "sgr-", "eni-", "vpc-", "subnet-", "acl-", "rtb-", "igw-", "nat-", "vpce-", "tgw-",
    "pcx-",
];

/// The ARN resource type: part 6 (split on every `:`), up to its first `/` when that is not
/// the first character.
fn arn_resource_type(parts: &[&str]) -> String {
    let resource = parts[5];
    match resource.find('/') {
        Some(i) if i > 0 => resource[..i].to_string(),
        _ => resource.to_string(),
    }
}

fn is_service_linked(s: &str) -> bool {
    s.contains("/AWSServiceRoleFor") || s.contains("/aws-service-role/")
}

#[derive(PartialEq)]
enum Kind {
    User,
    Host,
    Service,
    Generic,
}

fn classify_target(target: &str) -> Kind {
    if target.starts_with("arn:") {
        let parts: Vec<&str> = target.split(':').collect();
        if parts.len() >= 6 {
            let rtype = arn_resource_type(&parts);
            if is_service_linked(target) {
                return Kind::Service;
            } else if USER_TYPES.contains(&rtype.as_str()) {
                return Kind::User;
            } else if rtype == "instance" {
                return Kind::Host;
            } else if SERVICE_TYPES.contains(&rtype.as_str()) || parts[2] == "s3" {
                return Kind::Service;
            }
        }
        return Kind::Generic;
    }
    if target.encode_utf16().count() == 20 && target.starts_with("AKIA") {
        Kind::User
    } else if target.starts_with("i-") {
        Kind::Host
    } else if SERVICE_ID_PREFIXES.iter().any(|p| target.starts_with(p)) {
        Kind::Service
    } else {
        Kind::Generic
    }
}

/// The bare instance ID of a host target (`i-…`, or an `ec2` ARN with `instance/…`).
fn host_target_id(target: &str) -> Option<&str> {
    let id = if target.starts_with("arn:") {
        let parts: Vec<&str> = target.split(':').collect();
        if parts.len() < 6 || parts[2] != "ec2" {
            return None;
        }
        parts[5].strip_prefix("instance/")?
    } else {
        target
    };
    id.starts_with("i-").then_some(id)
}

/// The outputs of the enrichment from its three sets, as (ECS path, value) in the order the
/// script sets them. `user_type` and `issuer_arn` are the record's `userIdentity.type` and
/// `userIdentity.sessionContext.sessionIssuer.arn`, which decide how the actor is typed.
pub(super) fn targets(
    mut related: JavaSet,
    target: JavaSet,
    actor: Option<Value>,
    user_type: Option<&str>,
    issuer_arn: Option<&Value>,
) -> Outputs {
    let mut out: Outputs = Vec::with_capacity(4);
    if !target.0.is_empty() {
        let (mut user, mut host, mut service, mut generic) = Default::default();
        let (user, host, service, generic): (
            &mut JavaSet,
            &mut JavaSet,
            &mut JavaSet,
            &mut JavaSet,
        ) = (&mut user, &mut host, &mut service, &mut generic);
        for t in &target.0 {
            match classify_target(t) {
                Kind::User => user.add(t),
                Kind::Host => host.add(t),
                Kind::Service => service.add(t),
                Kind::Generic => generic.add(t),
            };
        }
        for t in &target.0 {
            related.add(t);
        }
        out.push(("target.entity.id", target.into_value()));
        if !user.0.is_empty() {
            out.push(("user.target.entity.id", std::mem::take(user).into_value()));
        }
        if !host.0.is_empty() {
            let mut ids = JavaSet::default();
            for h in &host.0 {
                if let Some(id) = host_target_id(h) {
                    ids.add(id);
                }
            }
            out.push(("host.target.entity.id", std::mem::take(host).into_value()));
            if !ids.0.is_empty() {
                out.push(("host.target.id", ids.into_value()));
            }
        }
        if !service.0.is_empty() {
            out.push((
                "service.target.entity.id",
                std::mem::take(service).into_value(),
            ));
        }
        if !generic.0.is_empty() {
            out.push(("entity.target.id", std::mem::take(generic).into_value()));
        }
    }
    if let Some(actor) = actor.filter(|a| !a.is_null()) {
        actor_outputs(&mut out, actor, user_type, issuer_arn);
    }
    out.push(("related.entity", related.into_value()));
    out
}

fn actor_outputs(
    out: &mut Outputs,
    actor: Value,
    user_type: Option<&str>,
    issuer_arn: Option<&Value>,
) {
    let actor_str = ctx::template(&actor);
    let user_entity = match (user_type, issuer_arn) {
        (Some("AssumedRole"), Some(role)) if role.as_str() != Some("") => role.clone(),
        _ => actor.clone(),
    };
    out.push(("actor.entity.id", Value::Array(vec![actor.clone()])));
    let (path, v) = actor_entity(actor, user_entity, &actor_str, user_type);
    out.push((path, Value::Array(vec![v])));
}

/// Where the actor goes by its type: `service.entity.id`, `user.entity.id` (the role for an
/// assumed role), `host.entity.id` or `entity.id`.
fn actor_entity(
    actor: Value,
    user_entity: Value,
    actor_str: &str,
    user_type: Option<&str>,
) -> (&'static str, Value) {
    if user_type == Some("AWSService") || is_service_linked(actor_str) {
        return ("service.entity.id", actor);
    }
    if matches!(
        user_type,
        Some("IAMUser") | Some("Root") | Some("AssumedRole")
    ) {
        return ("user.entity.id", user_entity);
    }
    if actor_str.starts_with("arn:") {
        let parts: Vec<&str> = actor_str.split(':').collect();
        if parts.len() >= 6 {
            let rtype = arn_resource_type(&parts);
            if matches!(
                rtype.as_str(),
                "user" | "role" | "assumed-role" | "federated-user"
            ) {
                return ("user.entity.id", user_entity);
            }
            if rtype == "instance" {
                return ("host.entity.id", actor);
            }
        }
    }
    if actor_str.starts_with("i-") {
        return ("host.entity.id", actor);
    }
    ("entity.id", actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(classify_target("arn:aws:iam::1:role/x") == Kind::User);
        assert!(classify_target("arn:aws:iam::1:role/aws-service-role/ssm/x") == Kind::Service);
        assert!(classify_target("arn:aws:ec2:r:1:instance/i-0123") == Kind::Host);
        assert!(classify_target("arn:aws:s3:::bucket/key") == Kind::Service);
        assert!(classify_target("arn:aws:sns:r:1:MyTopic") == Kind::Generic);
        assert!(classify_target("AKIAIOSFODNN7EXAMPLE") == Kind::User);
        assert!(classify_target("i-0123") == Kind::Host);
        assert!(classify_target("sg-1") == Kind::Service);
        assert!(classify_target("123456789012") == Kind::Generic);
        assert_eq!(
            host_target_id("arn:aws:ec2:r:1:instance/i-021987ab2dbf04585"),
            Some("i-021987ab2dbf04585")
        );
        assert_eq!(host_target_id("arn:aws:ssm:r:1:instance/i-1"), None);
    }
}
