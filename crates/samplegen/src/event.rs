//! Building one CloudTrail record in AWS's own field order.
//!
//! Field order matters to us only for realism (JSON consumers must not depend
//! on it), but tools that diff against real delivery files, and people reading
//! the sample, expect the order AWS writes: eventVersion, userIdentity,
//! eventTime, …, eventCategory, tlsDetails.

use serde_json::{json, Map, Value};

use crate::rng::Rng;
use crate::time::iso;

/// Who made the call; rendered into `userIdentity`.
#[derive(Clone, Debug)]
pub enum Who {
    /// An IAM user. `console` means a console session (temporary `ASIA` key and
    /// a `sessionContext`); otherwise the long-term `key` (`AKIA…`) is used.
    User {
        name: &'static str,
        pid: &'static str,
        key: &'static str,
        console: bool,
    },
    /// A role session. `path` is the role path (`/`, `aws-reserved/sso.amazonaws.com/`, …).
    Role {
        role: &'static str,
        path: &'static str,
        pid: &'static str,
        session: &'static str,
        invoked_by: Option<&'static str>,
        ec2: bool,
        mfa: bool,
    },
    /// An AWS service acting on the account's behalf.
    Service(&'static str),
    /// The account root user.
    Root { console: bool },
    /// A `GetFederationToken` session issued by an IAM user.
    Federated {
        name: &'static str,
        issuer: &'static str,
        issuer_pid: &'static str,
    },
}

impl Who {
    /// `userIdentity.arn`, or `None` for service principals (which have none).
    pub fn arn(&self, account: &str) -> Option<String> {
        Some(match self {
            Who::User { name, .. } => format!("arn:aws:iam::{account}:user/{name}"),
            Who::Role { role, session, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
            }
            Who::Service(_) => return None,
            Who::Root { .. } => format!("arn:aws:iam::{account}:root"),
            Who::Federated { name, .. } => format!("arn:aws:sts::{account}:federated-user/{name}"),
        })
    }

    /// Whether calls come from a console browser session.
    pub fn console(&self) -> bool {
        matches!(
            self,
            Who::User { console: true, .. } | Who::Root { console: true }
        )
    }

    /// The `userIdentity` object. `session_start` is the credential creation
    /// time, `temp_key` the session's `ASIA…` key where one applies.
    pub fn identity(&self, account: &str, session_start: i64, temp_key: &str) -> Value {
        let arn = self.arn(account);
        let attrs = |mfa: bool| json!({"creationDate": iso(session_start), "mfaAuthenticated": mfa.to_string()});
        match self {
            Who::User {
                name,
                pid,
                key,
                console,
            } => {
                let mut v = json!({"type": "IAMUser", "principalId": pid, "arn": arn,
                    "accountId": account, "accessKeyId": if *console { temp_key } else { key },
                    "userName": name});
                if *console {
                    v["sessionContext"] = json!({"sessionIssuer": {}, "webIdFederationData": {},
                        "attributes": attrs(true)});
                }
                v
            }
            Who::Role {
                role,
                path,
                pid,
                session,
                invoked_by,
                ec2,
                mfa,
            } => {
                let mut ctx = json!({
                    "sessionIssuer": {"type": "Role", "principalId": pid,
                        "arn": format!("arn:aws:iam::{account}:role/{path}{role}"),
                        "accountId": account, "userName": role},
                    "webIdFederationData": {},
                    "attributes": attrs(*mfa)});
                if *ec2 {
                    ctx["ec2RoleDelivery"] = json!("2.0");
                }
                let mut v = json!({"type": "AssumedRole", "principalId": format!("{pid}:{session}"),
                    "arn": arn, "accountId": account});
                if invoked_by.is_none() {
                    v["accessKeyId"] = json!(temp_key);
                }
                v["sessionContext"] = ctx;
                if let Some(svc) = invoked_by {
                    v["invokedBy"] = json!(svc);
                }
                v
            }
            Who::Service(svc) => json!({"type": "AWSService", "invokedBy": svc}),
            Who::Root { console } => {
                let mut v = json!({"type": "Root", "principalId": account, "arn": arn,
                    "accountId": account, "accessKeyId": temp_key});
                if *console {
                    v["sessionContext"] = json!({"sessionIssuer": {}, "webIdFederationData": {},
                        "attributes": attrs(true)});
                }
                v
            }
            Who::Federated {
                name,
                issuer,
                issuer_pid,
            } => json!({"type": "FederatedUser", "principalId": format!("{account}:{name}"),
                "arn": arn, "accountId": account, "accessKeyId": temp_key,
                "sessionContext": {
                    "sessionIssuer": {"type": "IAMUser", "principalId": issuer_pid,
                        "arn": format!("arn:aws:iam::{account}:user/{issuer}"),
                        "accountId": account, "userName": issuer},
                    "webIdFederationData": {},
                    "attributes": attrs(false)}}),
        }
    }
}

/// Everything needed to render one record; the generator fills it from an
/// actor profile (background) or by hand (the story).
#[derive(Clone, Debug)]
pub struct Spec {
    pub time: i64,
    pub identity: Value,
    pub account: &'static str,
    pub region: &'static str,
    pub source: &'static str,
    pub name: &'static str,
    pub ip: String,
    pub agent: String,
    /// (errorCode, errorMessage); an empty code is omitted.
    pub error: Option<(String, String)>,
    pub req: Value,
    pub resp: Value,
    pub additional: Option<Value>,
    pub read_only: bool,
    pub resources: Option<Value>,
    pub event_type: &'static str,
    pub management: bool,
    pub shared_event_id: bool,
    pub vpce: Option<&'static str>,
    pub console: bool,
}

/// The record's `eventVersion`: services moved to newer versions at different
/// times, and 2024 logs mix them like this.
fn event_version(source: &str) -> &'static str {
    match source {
        "s3.amazonaws.com" | "cloudtrail.amazonaws.com" => "1.10",
        "ec2.amazonaws.com" | "signin.amazonaws.com" | "kms.amazonaws.com" => "1.09",
        _ => "1.08",
    }
}

/// The host name the client sent, used in `tlsDetails`.
fn host(source: &str, region: &str, req: &Value) -> String {
    let svc = source.trim_end_matches(".amazonaws.com");
    match svc {
        "iam" => "iam.amazonaws.com".into(),
        "s3" => match req.get("Host").and_then(Value::as_str) {
            Some(h) => h.to_string(),
            None => format!("s3.{region}.amazonaws.com"),
        },
        "sts" if region == "us-east-1" => "sts.amazonaws.com".into(),
        "signin" => "signin.aws.amazon.com".into(),
        _ => format!("{svc}.{region}.amazonaws.com"),
    }
}

/// Renders the record. `rng` supplies request/event IDs.
pub fn render(spec: &Spec, rng: &mut Rng) -> Value {
    let mut m = Map::new();
    let service_call = spec.ip.ends_with(".amazonaws.com") || spec.ip == "AWS Internal";
    m.insert("eventVersion".into(), json!(event_version(spec.source)));
    m.insert("userIdentity".into(), spec.identity.clone());
    m.insert("eventTime".into(), json!(iso(spec.time)));
    m.insert("eventSource".into(), json!(spec.source));
    m.insert("eventName".into(), json!(spec.name));
    m.insert("awsRegion".into(), json!(spec.region));
    m.insert("sourceIPAddress".into(), json!(spec.ip));
    m.insert("userAgent".into(), json!(spec.agent));
    if let Some((code, msg)) = &spec.error {
        // A failed ConsoleLogin has an errorMessage but no errorCode.
        if !code.is_empty() {
            m.insert("errorCode".into(), json!(code));
        }
        m.insert("errorMessage".into(), json!(msg));
    }
    m.insert("requestParameters".into(), spec.req.clone());
    m.insert("responseElements".into(), spec.resp.clone());
    if let Some(extra) = &spec.additional {
        m.insert("additionalEventData".into(), extra.clone());
    }
    if spec.event_type != "AwsConsoleSignIn" {
        let request_id = if spec.source == "s3.amazonaws.com" {
            rng.upper(16)
        } else {
            rng.uuid()
        };
        m.insert("requestID".into(), json!(request_id));
    }
    m.insert("eventID".into(), json!(rng.uuid()));
    m.insert("readOnly".into(), json!(spec.read_only));
    if let Some(res) = &spec.resources {
        m.insert("resources".into(), res.clone());
    }
    m.insert("eventType".into(), json!(spec.event_type));
    m.insert("managementEvent".into(), json!(spec.management));
    m.insert("recipientAccountId".into(), json!(spec.account));
    if spec.shared_event_id {
        m.insert("sharedEventID".into(), json!(rng.uuid()));
    }
    if let Some(vpce) = spec.vpce {
        m.insert("vpcEndpointId".into(), json!(vpce));
    }
    m.insert(
        "eventCategory".into(),
        json!(if spec.management {
            "Management"
        } else {
            "Data"
        }),
    );
    if !service_call {
        let (v, c) = if rng.chance(700) {
            ("TLSv1.3", "TLS_AES_128_GCM_SHA256")
        } else {
            ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
        };
        m.insert(
            "tlsDetails".into(),
            json!({"tlsVersion": v, "cipherSuite": c,
                "clientProvidedHostHeader": host(spec.source, spec.region, &spec.req)}),
        );
    }
    if spec.console {
        m.insert("sessionCredentialFromConsole".into(), json!("true"));
    }
    Value::Object(m)
}
