//! The typed, borrowed view of one CloudTrail record the compiled normalizer reads: the
//! top-level fields it maps, `userIdentity` as typed fields, and the payload objects as their raw text, parsed only when a column needs
//! them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::PAYLOAD_KEYS;

/// The keys that make the pipeline treat a record as a digest file (`extras::digest`).
const DIGEST_INPUTS: [&str; 16] = crate::normalize::DIGEST_INPUTS;

pub(super) type Str<'a> = Option<Cow<'a, str>>;

/// The top-level fields the compiled columns read. Everything else is skipped, but checked as
/// the full pipeline's parser would check it ([`Checked`]): a record the pipeline rejects
/// (a number out of range, a lone surrogate escape, nesting past serde_json's limit) must
/// not become a row because the query happens to read few columns.
#[derive(Default)]
pub(super) struct Record<'a> {
    /// `eventVersion` was there (whatever its value): a CloudTrail record.
    pub(super) has_event_version: bool,
    pub(super) event_version: Str<'a>,
    pub(super) request_id: Str<'a>,
    pub(super) api_version: Str<'a>,
    /// `sharedEventID`, and the `sharedEventId` spelling the pipeline falls back to.
    pub(super) shared_event_id: Str<'a>,
    pub(super) shared_event_id_alt: Str<'a>,
    pub(super) vpc_endpoint_id: Str<'a>,
    pub(super) vpc_endpoint_account_id: Str<'a>,
    /// `managementEvent` and `readOnly`: a string or a boolean (anything else: unusual).
    pub(super) management_event: Option<Value>,
    pub(super) read_only: Option<Value>,
    /// `addendum` and `tlsDetails` as their text.
    pub(super) addendum: Option<&'a RawValue>,
    pub(super) tls_details: Option<&'a RawValue>,
    pub(super) event_time: Str<'a>,
    pub(super) event_source: Str<'a>,
    pub(super) event_name: Str<'a>,
    pub(super) event_id: Str<'a>,
    pub(super) aws_region: Str<'a>,
    pub(super) source_ip_address: Str<'a>,
    pub(super) user_agent: Str<'a>,
    pub(super) error_code: Str<'a>,
    pub(super) error_message: Str<'a>,
    pub(super) event_type: Str<'a>,
    pub(super) event_category: Str<'a>,
    pub(super) recipient_account_id: Str<'a>,
    pub(super) session_credential_from_console: Str<'a>,
    /// `resources` as its text, parsed only when one of its columns is read.
    pub(super) resources: Option<&'a serde_json::value::RawValue>,
    /// The [`PAYLOAD_KEYS`] objects as their text, parsed only when their column is read.
    pub(super) payloads: [Option<&'a serde_json::value::RawValue>; 4],
    pub(super) user_identity: Option<Identity<'a>>,
    /// Any of `@timestamp` (Logstash), a digest file's keys, `insightDetails`, `_source`,
    /// `log`, or a value of an unexpected type: not a plain record, the full pipeline decides.
    pub(super) unusual: bool,
}

#[derive(Default)]
pub(super) struct Identity<'a> {
    pub(super) kind: Str<'a>,
    pub(super) arn: Str<'a>,
    pub(super) access_key_id: Str<'a>,
    pub(super) user_name: Str<'a>,
    pub(super) principal_id: Str<'a>,
    pub(super) account_id: Str<'a>,
    pub(super) invoked_by: Str<'a>,
    pub(super) credential_id: Str<'a>,
    pub(super) identity_provider: Str<'a>,
    pub(super) session: Session<'a>,
    /// `onBehalfOf` is there (Identity Center): `user.id` and `related.user` may come from it.
    pub(super) on_behalf_of: bool,
    /// `inScopeOf`, `invokedByDelegate` or `sessionContext.webIdFederationData` is there:
    /// rare objects whose columns the pipeline builds.
    pub(super) rare: bool,
    /// A field read here was JSON `null` (which the pipeline's renames treat apart from a
    /// missing one): the full pipeline decides.
    pub(super) null: bool,
}

/// `userIdentity.sessionContext`: the fields read from it and its two inner objects.
#[derive(Default)]
pub(super) struct Session<'a> {
    pub(super) mfa_authenticated: Str<'a>,
    /// `attributes.creationDate` (a bad date is a pipeline error).
    pub(super) creation_date: Str<'a>,
    pub(super) ec2_role_delivery: Str<'a>,
    pub(super) assumed_root: Str<'a>,
    pub(super) sign_in_session_arn: Str<'a>,
    /// `webIdFederationData` is there.
    pub(super) rare: bool,
    pub(super) source_identity: Str<'a>,
    pub(super) issuer_type: Str<'a>,
    pub(super) issuer_user_name: Str<'a>,
    pub(super) issuer_principal_id: Str<'a>,
    pub(super) issuer_arn: Str<'a>,
    pub(super) issuer_account_id: Str<'a>,
    pub(super) null: bool,
}

impl Identity<'_> {
    /// The service name when the caller is a service actor (§2.5), by the pipeline's own
    /// rule on the raw strings.
    pub(super) fn service_name(&self) -> Option<String> {
        crate::normalize::identity::service_name(
            self.kind.as_deref(),
            self.invoked_by.as_deref(),
            self.session.issuer_arn.as_deref(),
        )
    }
}

/// Any JSON value, parsed (numbers converted, escapes decoded) and dropped: what the full
/// pipeline's parser would refuse, this refuses too.
pub(super) struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A string borrowed from the text when it has no escapes; `null` is `None`.
struct OptStr<'a>(Str<'a>);

impl<'de> Deserialize<'de> for OptStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OptStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OptStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OptStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(OptStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The keys of one object, borrowed when unescaped.
pub(super) fn next_key<'de, A: MapAccess<'de>>(
    m: &mut A,
) -> Result<Option<Cow<'de, str>>, A::Error> {
    Ok(m.next_key::<OptStr<'de>>()?.and_then(|k| k.0))
}

/// Marks key number `bit` seen; a key seen twice hands the record to the full pipeline (as
/// serde's derive does, whose "duplicate field" error this mirrors).
pub(super) fn first<E: de::Error>(seen: &mut u32, bit: u32) -> Result<(), E> {
    if *seen & (1 << bit) != 0 {
        return Err(E::custom("duplicate field"));
    }
    *seen |= 1 << bit;
    Ok(())
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CloudTrail record")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Record<'de>, A::Error> {
                let mut r = Record::default();
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match key.as_ref() {
                        "eventTime" => (0, &mut r.event_time),
                        "eventSource" => (1, &mut r.event_source),
                        "eventName" => (2, &mut r.event_name),
                        "eventID" => (3, &mut r.event_id),
                        "awsRegion" => (4, &mut r.aws_region),
                        "sourceIPAddress" => (5, &mut r.source_ip_address),
                        "userAgent" => (6, &mut r.user_agent),
                        "errorCode" => (7, &mut r.error_code),
                        "errorMessage" => (8, &mut r.error_message),
                        "eventType" => (9, &mut r.event_type),
                        "eventCategory" => (10, &mut r.event_category),
                        "recipientAccountId" => (11, &mut r.recipient_account_id),
                        "sessionCredentialFromConsole" => {
                            (18, &mut r.session_credential_from_console)
                        }
                        "resources" => {
                            first(&mut seen, 19)?;
                            // Checked once parsed, or by `Parts::check_unparsed`.
                            r.resources = Some(m.next_value()?);
                            continue;
                        }
                        k if PAYLOAD_KEYS.iter().any(|(key, _)| *key == k) => {
                            let i = PAYLOAD_KEYS
                                .iter()
                                .position(|(key, _)| *key == k)
                                .expect("found");
                            first(&mut seen, 14 + i as u32)?;
                            // A raw value is only checked for syntax: what the full parser
                            // refuses (a lone surrogate, a number out of range) is refused
                            // when the payload is parsed for a column, or by
                            // `Parts::check_unparsed` when no column reads it — not here,
                            // where it would be parsed twice.
                            r.payloads[i] = Some(m.next_value()?);
                            continue;
                        }
                        "userIdentity" => {
                            first(&mut seen, 12)?;
                            r.user_identity = m.next_value::<Option<Identity<'de>>>()?;
                            continue;
                        }
                        "addendum" | "tlsDetails" => {
                            let (bit, slot) = if key.as_ref() == "addendum" {
                                (20, &mut r.addendum)
                            } else {
                                (21, &mut r.tls_details)
                            };
                            first(&mut seen, bit)?;
                            *slot = Some(m.next_value::<&'de RawValue>()?);
                            continue;
                        }
                        "managementEvent" | "readOnly" => {
                            let (bit, slot) = if key.as_ref() == "managementEvent" {
                                (22, &mut r.management_event)
                            } else {
                                (23, &mut r.read_only)
                            };
                            first(&mut seen, bit)?;
                            let v: Value = m.next_value()?;
                            match v {
                                Value::Null => {}
                                Value::Bool(_) | Value::String(_) => *slot = Some(v),
                                _ => r.unusual = true,
                            }
                            continue;
                        }
                        "eventVersion" => {
                            r.has_event_version = true;
                            (13, &mut r.event_version)
                        }
                        "requestID" => (24, &mut r.request_id),
                        "apiVersion" => (25, &mut r.api_version),
                        "sharedEventID" => (26, &mut r.shared_event_id),
                        "sharedEventId" => (27, &mut r.shared_event_id_alt),
                        "vpcEndpointId" => (28, &mut r.vpc_endpoint_id),
                        "vpcEndpointAccountId" => (29, &mut r.vpc_endpoint_account_id),
                        other => {
                            m.next_value::<Checked>()?;
                            if matches!(other, "@timestamp" | "insightDetails" | "_source" | "log")
                                || DIGEST_INPUTS.contains(&other)
                            {
                                r.unusual = true;
                            }
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Identity<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Identity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Identity<'de>, A::Error> {
                let mut r = Identity::default();
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match key.as_ref() {
                        "type" => (0, &mut r.kind),
                        "arn" => (1, &mut r.arn),
                        "accessKeyId" => (2, &mut r.access_key_id),
                        "userName" => (3, &mut r.user_name),
                        "principalId" => (4, &mut r.principal_id),
                        "invokedBy" => (5, &mut r.invoked_by),
                        "credentialId" => (6, &mut r.credential_id),
                        "identityProvider" => (7, &mut r.identity_provider),
                        "accountId" => (9, &mut r.account_id),
                        "inScopeOf" | "invokedByDelegate" => {
                            r.rare |= kept(m.next_value()?).map_err(de::Error::custom)?;
                            continue;
                        }
                        "onBehalfOf" => {
                            first(&mut seen, 10)?;
                            m.next_value::<Checked>()?;
                            r.on_behalf_of = true;
                            continue;
                        }
                        "sessionContext" => {
                            first(&mut seen, 8)?;
                            r.session = m.next_value::<Session<'de>>()?;
                            continue;
                        }
                        _ => {
                            m.next_value::<Checked>()?;
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                    r.null |= slot.is_none();
                }
                r.null |= r.session.null;
                r.rare |= r.session.rare;
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Session<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Which object of `sessionContext` a visitor is in.
        #[derive(Clone, Copy)]
        enum Part {
            Context,
            Attributes,
            Issuer,
        }
        struct V<'s, 'de>(&'s mut Session<'de>, Part);
        impl<'de> de::DeserializeSeed<'de> for V<'_, 'de> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for V<'_, 'de> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sessionContext object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
                let V(s, part) = self;
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match (part, key.as_ref()) {
                        (Part::Context, "attributes") => {
                            first(&mut seen, 0)?;
                            m.next_value_seed(V(s, Part::Attributes))?;
                            continue;
                        }
                        (Part::Context, "sessionIssuer") => {
                            first(&mut seen, 1)?;
                            m.next_value_seed(V(s, Part::Issuer))?;
                            continue;
                        }
                        (Part::Context, "sourceIdentity") => (2, &mut s.source_identity),
                        (Part::Context, "ec2RoleDelivery") => (10, &mut s.ec2_role_delivery),
                        (Part::Context, "assumedRoot") => (11, &mut s.assumed_root),
                        (Part::Context, "signInSessionArn") => (12, &mut s.sign_in_session_arn),
                        (Part::Context, "webIdFederationData") => {
                            s.rare |= kept(m.next_value()?).map_err(de::Error::custom)?;
                            continue;
                        }
                        (Part::Attributes, "mfaAuthenticated") => (3, &mut s.mfa_authenticated),
                        (Part::Attributes, "creationDate") => (9, &mut s.creation_date),
                        (Part::Issuer, "type") => (4, &mut s.issuer_type),
                        (Part::Issuer, "userName") => (5, &mut s.issuer_user_name),
                        (Part::Issuer, "principalId") => (6, &mut s.issuer_principal_id),
                        (Part::Issuer, "arn") => (7, &mut s.issuer_arn),
                        (Part::Issuer, "accountId") => (8, &mut s.issuer_account_id),
                        _ => {
                            m.next_value::<Checked>()?;
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                    s.null |= slot.is_none();
                }
                Ok(())
            }
        }
        let mut s = Session::default();
        de::DeserializeSeed::deserialize(V(&mut s, Part::Context), d)?;
        Ok(s)
    }
}

/// A payload object as the pipeline holds it when it renders or copies from it: parsed with
/// HashMap-ordered objects (as the whole record is), then cleanup #1. `Ok(None)`: absent or
/// removed by the cleanup; `Err`: the full pipeline decides.
pub(super) fn payload(raw: Option<&serde_json::value::RawValue>) -> Result<Option<Value>, ()> {
    use crate::normalize::cleanup;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut v = crate::java_map::from_str_java_ordered(raw.get()).map_err(|_| ())?;
    Ok((!cleanup::clean_value(&mut v, cleanup::Pass::First)).then_some(v))
}

/// Whether a value survives cleanup #1 (CloudTrail writes many empty objects, e.g.
/// `"webIdFederationData": {}`).
fn kept(raw: &RawValue) -> Result<bool, String> {
    if raw.get() == "{}" {
        return Ok(false);
    }
    payload(Some(raw))
        .map(|v| v.is_some())
        .map_err(|()| "invalid JSON".to_string())
}

/// [`payload`], parsed into `slot` the first time.
pub(super) fn cached<'s>(
    slot: &'s mut Option<Option<Value>>,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<&'s Option<Value>, ()> {
    if slot.is_none() {
        *slot = Some(payload(raw)?);
    }
    Ok(slot.as_ref().expect("set above"))
}

/// A value the pipeline keeps as it is: cleanup #1 drops `""`, `"-"` and `"none"`, which the
/// compiled normalizer leaves to the interpreted pipeline.
pub(super) fn plain(v: &Str<'_>) -> Result<Option<String>, ()> {
    Ok(plain_cow(v)?.map(Cow::into_owned))
}

/// [`plain`], borrowed from the record's text when the value has no escapes (a column copies
/// it into its builder from there).
pub(super) fn plain_cow<'t>(v: &Str<'t>) -> Result<Option<Cow<'t, str>>, ()> {
    match v {
        None => Ok(None),
        Some(s) if matches!(s.as_ref(), "" | "-" | "none") => Err(()),
        Some(Cow::Borrowed(s)) => Ok(Some(Cow::Borrowed(s))),
        Some(Cow::Owned(s)) => Ok(Some(Cow::Owned(s.clone()))),
    }
}
