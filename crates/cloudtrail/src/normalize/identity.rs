//! §2.5: `userIdentity` → `user.*`, `service.name`, `aws.cloudtrail.user_identity.*`.
//!
//! The subtle parts: AWS services (type `AWSService`, or an assumed service-linked role) are
//! *service actors* and get `service.name` instead of `user.*`; for assumed and federated
//! roles `user.name` is the role name (`sessionIssuer.userName`), and the session name from the
//! ARN only goes to `related.user` (and `user.email` when it looks like one).

use serde_json::Value;

use super::ctx::{self, get_str, rename, rename_override, Obj};
use super::time;
use super::{append_error, Failure};

const UI: &str = "aws.cloudtrail.user_identity";

/// A path under [`UI`], spelled out at compile time (these run for every record).
macro_rules! ui {
    ($rest:literal) => {
        concat!("aws.cloudtrail.user_identity.", $rest)
    };
}

pub(crate) fn map_identity(doc: &mut Obj) -> Result<(), Failure> {
    rename(doc, "json.eventVersion", "aws.cloudtrail.event_version")?;
    rename(doc, "json.userIdentity.type", ui!("type"))?;

    let service_name = service_actor(doc);
    if let Some(name) = &service_name {
        ctx::set(doc, "_tmp.service_name", Value::String(name.clone()))?;
        ctx::set(doc, "service.name", Value::String(name.clone()))?;
    }
    let service_actor = service_name.is_some();
    if !service_actor {
        rename(doc, "json.userIdentity.userName", "user.name")?;
        rename(doc, "json.userIdentity.principalId", "user.id")?;
    }
    rename(doc, "json.userIdentity.arn", ui!("arn"))?;
    if !ctx::has(doc, "cloud.account.id") {
        rename(doc, "json.userIdentity.accountId", "cloud.account.id")?;
    }
    rename(doc, "json.userIdentity.accessKeyId", ui!("access_key_id"))?;
    rename(
        doc,
        "json.userIdentity.sessionContext.attributes.mfaAuthenticated",
        ui!("session_context.mfa_authenticated"),
    )?;
    creation_date(doc)?;
    rename(
        doc,
        "json.userIdentity.sessionContext.sessionIssuer.type",
        ui!("session_context.session_issuer.type"),
    )?;
    let identity_type = get_str(doc, ui!("type")).map(str::to_owned);
    let role_like = matches!(
        identity_type.as_deref(),
        Some("AssumedRole") | Some("FederatedUser")
    );
    if role_like && !service_actor {
        rename_override(
            doc,
            "json.userIdentity.sessionContext.sessionIssuer.userName",
            "user.name",
        )?;
    }
    rename(
        doc,
        "json.userIdentity.sessionContext.sessionIssuer.principalId",
        ui!("session_context.session_issuer.principal_id"),
    )?;
    session_name(doc, identity_type.as_deref())?;

    ctx::copy_nonempty(
        doc,
        "json.userIdentity.onBehalfOf.userId",
        ui!("on_behalf_of.user_id"),
    )?;
    rename(
        doc,
        "json.userIdentity.onBehalfOf.identityStoreArn",
        ui!("on_behalf_of.identity_store_arn"),
    )?;
    if identity_type.as_deref() == Some("IdentityCenterUser") && !ctx::has(doc, "user.id") {
        rename(doc, "json.userIdentity.onBehalfOf.userId", "user.id")?;
    }
    rename(
        doc,
        "json.userIdentity.sessionContext.sessionIssuer.arn",
        ui!("session_context.session_issuer.arn"),
    )?;
    rename(
        doc,
        "json.userIdentity.sessionContext.sessionIssuer.accountId",
        ui!("session_context.session_issuer.account_id"),
    )?;
    rename(
        doc,
        "json.sessionCredentialFromConsole",
        "aws.cloudtrail.session_credential_from_console",
    )?;
    for (from, to) in [
        ("invokedBy", "invoked_by"),
        (
            "invokedByDelegate.accountId",
            "invoked_by_delegate.account_id",
        ),
        ("credentialId", "credential_id"),
        ("identityProvider", "identity_provider"),
        ("inScopeOf.issuerType", "in_scope_of.issuer_type"),
        (
            "inScopeOf.credentialsIssuedTo",
            "in_scope_of.credentials_issued_to",
        ),
        ("inScopeOf.sourceArn", "in_scope_of.source_arn"),
        ("inScopeOf.sourceAccount", "in_scope_of.source_account"),
        (
            "sessionContext.ec2RoleDelivery",
            "session_context.ec2_role_delivery",
        ),
        (
            "sessionContext.sourceIdentity",
            "session_context.source_identity",
        ),
        (
            "sessionContext.webIdFederationData.federatedProvider",
            "session_context.web_id_federation_data.federated_provider",
        ),
        (
            "sessionContext.webIdFederationData.attributes",
            "session_context.web_id_federation_data.attributes",
        ),
        ("sessionContext.assumedRoot", "session_context.assumed_root"),
        (
            "sessionContext.signInSessionArn",
            "session_context.sign_in_session_arn",
        ),
    ] {
        // Most records have none of these: look before building the paths.
        let present = ctx::get(doc, "json.userIdentity")
            .and_then(Value::as_object)
            .is_some_and(|ui| ctx::get(ui, from).is_some());
        if present {
            rename(
                doc,
                &format!("json.userIdentity.{from}"),
                &format!("{UI}.{to}"),
            )?;
        }
    }
    Ok(())
}

/// The service name of a service actor, if the caller is one. `invokedBy` alone never makes a
/// service actor: console sign-ins carry `invokedBy: signin.amazonaws.com` on IAM users.
fn service_actor(doc: &Obj) -> Option<String> {
    let identity = ctx::get(doc, "json.userIdentity")?.as_object()?;
    service_name(
        get_str(doc, ui!("type")),
        identity.get("invokedBy").and_then(Value::as_str),
        ctx::get_str(identity, "sessionContext.sessionIssuer.arn"),
    )
}

/// §2.5's rule on the raw strings (`userIdentity.type`, `invokedBy` and the session issuer's
/// ARN), shared with the compiled normalizer: `AWSService` is its `invokedBy`; an assumed
/// service-linked role (`:role/aws-service-role/`) is its `invokedBy`, else the service in
/// the role's path. Empty is none.
pub(crate) fn service_name(
    identity_type: Option<&str>,
    invoked_by: Option<&str>,
    issuer_arn: Option<&str>,
) -> Option<String> {
    let name = match identity_type {
        Some("AWSService") => invoked_by.map(str::to_owned),
        Some("AssumedRole") => {
            const MARKER: &str = ":role/aws-service-role/";
            let issuer = issuer_arn?;
            let start = issuer.find(MARKER)? + MARKER.len();
            let rest = &issuer[start..];
            match invoked_by {
                Some(by) => Some(by.to_owned()),
                None => match rest.find('/') {
                    Some(slash) if slash > 0 => Some(rest[..slash].to_owned()),
                    _ => None,
                },
            }
        }
        _ => None,
    };
    name.filter(|n| !n.is_empty())
}

/// `creationDate` accepts ISO-8601 and the basic formats; a bad value is dropped and flagged.
fn creation_date(doc: &mut Obj) -> Result<(), Failure> {
    const FROM: &str = "json.userIdentity.sessionContext.attributes.creationDate";
    let Some(raw) = ctx::get_nn(doc, FROM) else {
        return Ok(());
    };
    if raw.as_str() == Some("") {
        return Ok(());
    }
    let text = ctx::template(raw);
    match time::parse_iso8601(&text).or_else(|| time::parse_basic(&text)) {
        Some(t) => ctx::set(
            doc,
            ui!("session_context.creation_date"),
            Value::String(t.to_es_string()),
        ),
        None => {
            ctx::remove(doc, FROM);
            append_error(
                doc,
                &Failure::new(format!("unable to parse date [{text}]"))
                    .at("date", "date_json_userIdentity_sessionContext_attributes_creationDate_to_aws_cloudtrail_user_identity_session_context_creation_date_7cf57f10"),
            );
            Ok(())
        }
    }
}

/// The session name is the part of an STS ARN after its last `/`. It is an actor label, not a
/// user-account change, so it only goes to `related.user` (plus the e-mail local part).
fn session_name(doc: &mut Obj, identity_type: Option<&str>) -> Result<(), Failure> {
    if !matches!(
        identity_type,
        Some("AssumedRole") | Some("FederatedUser") | Some("IdentityCenterUser")
    ) {
        return Ok(());
    }
    let Some(arn) = get_str(doc, ui!("arn")) else {
        return Ok(());
    };
    if !(arn.contains(":sts:") && arn.contains('/')) {
        return Ok(());
    }
    let Some(session) = grok_session_name(arn) else {
        append_error(
            doc,
            &Failure::new(format!(
                "Provided Grok expressions do not match field value: [{arn}]"
            ))
            .at("grok", "extract_session_name_from_arn"),
        );
        return Ok(());
    };
    ctx::set(doc, "_tmp.session_name", Value::String(session.clone()))?;
    ctx::append_unique(doc, "related.user", Value::String(session.clone()))?;
    if let Some(at) = session.find('@') {
        let prefix = session[..at].to_string();
        ctx::append_unique(doc, "related.user", Value::String(prefix))?;
        if !ctx::has(doc, "user.email") && !session.is_empty() {
            ctx::set(doc, "user.email", Value::String(session))?;
        }
    }
    Ok(())
}

/// `^arn:[a-z0-9-]+:sts:.*/%{GREEDYDATA:session}$`: the greedy `.*/` puts the split at the last
/// `/`. `.` does not match line breaks.
pub(crate) fn grok_session_name(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if partition.is_empty()
        || !partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    let rest = rest.strip_prefix("sts:")?;
    if rest.contains(['\n', '\r']) {
        return None;
    }
    let slash = rest.rfind('/')?;
    Some(rest[slash + 1..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        assert_eq!(
            grok_session_name("arn:aws:sts::1:assumed-role/Role/sess").as_deref(),
            Some("sess")
        );
        assert_eq!(
            grok_session_name("arn:aws-us-gov:sts::1:assumed-role/R/a@b.c").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(grok_session_name("arn:AWS:sts::1:x/y"), None);
    }
}
