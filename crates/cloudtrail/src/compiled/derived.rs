//! The compiled normalizer's columns that the pipeline builds from several fields:
//! `related.user/ip/hosts`, `user.email`, `tls.*`, and entity enrichment (§4), each written
//! from the rules of the pipeline step it replaces (`normalize::related`, `identity`,
//! `extras::tls`, `entity`), over the typed record and the payloads parsed at most once.
//!
//! Entity enrichment is not rewritten: its per-service table is long and reads the payloads
//! by path, so the compiled path hands it a small document holding only what it reads
//! (`userIdentity`, `resources`, `eventSource`, `eventName`, `recipientAccountId` and the
//! two payloads, all after cleanup #1 as the pipeline has them) and takes the outputs the
//! step returns (ECS path, value), without a document to set them in.

use serde_json::{Map, Value};

use super::record::{cached, plain, Checked, Identity, Record};
use super::PAYLOAD_KEYS;
use crate::normalize::{ctx, entity, identity, time, NormalizeOptions};

/// `Err(())` throughout: the full pipeline decides this record.
pub(super) type Decide<T> = Result<T, ()>;

/// One record and what has been parsed of it so far.
pub(super) struct Parts<'r, 'a> {
    pub(super) r: &'r Record<'a>,
    /// The [`PAYLOAD_KEYS`] objects, then `resources`, then `tlsDetails`, then `addendum`:
    /// each parsed (HashMap-ordered, cleanup #1) the first time a column reads it.
    parsed: [Option<Option<Value>>; PAYLOAD_KEYS.len() + 3],
    /// The entity enrichment's outputs (ECS path, value), once computed.
    entity: Option<entity::Outputs>,
}

pub(super) const RESOURCES: usize = PAYLOAD_KEYS.len();
const TLS: usize = RESOURCES + 1;
const ADDENDUM: usize = RESOURCES + 2;

impl<'r, 'a> Parts<'r, 'a> {
    pub(super) fn new(r: &'r Record<'a>) -> Self {
        Parts {
            r,
            parsed: Default::default(),
            entity: None,
        }
    }

    fn raw(&self, i: usize) -> Option<&'a serde_json::value::RawValue> {
        match i {
            RESOURCES => self.r.resources,
            TLS => self.r.tls_details,
            ADDENDUM => self.r.addendum,
            _ => self.r.payloads[i],
        }
    }

    /// Part `i` as the pipeline holds it (`None`: absent or removed by cleanup #1).
    pub(super) fn part(&mut self, i: usize) -> Decide<Option<&Value>> {
        let raw = self.raw(i);
        Ok(cached(&mut self.parsed[i], raw)?.as_ref())
    }

    /// Checks the syntax of every part no column parsed, as the full pipeline's parser
    /// would (a lone surrogate escape, a number out of range): such a record is the
    /// pipeline's to reject whichever columns are read. Parsed parts were checked by their
    /// parse.
    pub(super) fn check_unparsed(&self) -> Decide<()> {
        for (i, slot) in self.parsed.iter().enumerate() {
            if let (None, Some(raw)) = (slot, self.raw(i)) {
                serde_json::from_str::<Checked>(raw.get()).map_err(drop)?;
            }
        }
        Ok(())
    }

    /// `json.<part>.<path>` when not null.
    fn at(&mut self, i: usize, path: &str) -> Decide<Option<&Value>> {
        Ok(match self.part(i)? {
            Some(Value::Object(m)) => ctx::get_nn(m, path),
            _ => None,
        })
    }

    /// The entries of `resources` (an array), with the pipeline's key renames applied to
    /// `name`: `renamed` is the ECS key, `original` the CloudTrail one.
    pub(super) fn resource_values(&mut self, renamed: &str, original: &str) -> Decide<Vec<Value>> {
        let items = match self.part(RESOURCES)? {
            None => return Ok(vec![]),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(()),
        };
        let mut values = Vec::new();
        for item in items {
            let Value::Object(m) = item else { continue };
            match (m.get(renamed), m.get(original)) {
                // Which one the rename keeps depends on the key order: the pipeline decides.
                (Some(_), Some(_)) if renamed != original => return Err(()),
                (Some(Value::String(v)), _) | (None, Some(Value::String(v))) => {
                    values.push(Value::String(v.clone()))
                }
                (None, None) => {}
                _ => return Err(()),
            }
        }
        Ok(values)
    }

    /// A member of `addendum` (renamed as it is).
    pub(super) fn addendum(&mut self, key: &str) -> Decide<Option<Value>> {
        scalar(self.at(ADDENDUM, key)?)
    }

    /// `tlsDetails` unless it is CloudTrail's placeholder (`tlsVersion: "tlsVersion"`),
    /// which the pipeline removes.
    fn tls_member(&mut self, key: &str) -> Decide<Option<Value>> {
        if let Some(Value::String(v)) = self.at(TLS, "tlsVersion")? {
            if v == "tlsVersion" {
                return Ok(None);
            }
        }
        scalar(self.at(TLS, key)?)
    }

    /// `tls.version_protocol` and `tls.version`: the pipeline's dissect of `tlsVersion`
    /// (`%{protocol}v%{version}`, the protocol lower-cased), or the value as it is.
    pub(super) fn tls_version(&mut self) -> Decide<(Option<Value>, Option<Value>)> {
        let Some(v) = self.tls_member("tlsVersion")? else {
            return Ok((None, None));
        };
        let text = ctx::template(&v);
        Ok(match text.split_once('v') {
            Some((protocol, version)) if !protocol.is_empty() || !version.is_empty() => (
                Some(Value::String(protocol.to_lowercase())),
                Some(Value::String(version.to_string())),
            ),
            _ => (None, Some(v)),
        })
    }

    pub(super) fn tls(&mut self, key: &str) -> Decide<Option<Value>> {
        self.tls_member(key)
    }

    /// `related.user` (§2.14): the session name (and its part before `@`), the request's and
    /// response's users, `user.id`, `user.name`, `user.changes.name`.
    pub(super) fn related_user(&mut self) -> Decide<Vec<Value>> {
        let mut out = Vec::new();
        if let Some(i) = self.r.user_identity.as_ref() {
            if i.on_behalf_of {
                return Err(());
            }
            if let Some(session) = session_name(i)? {
                if let Some(at) = session.find('@') {
                    out.push(Value::String(session[..at].to_string()));
                }
                out.push(Value::String(session));
            }
        }
        for (part, path) in [(0, "userName"), (0, "newUserName"), (1, "user.userId")] {
            if let Some(v) = self.at(part, path)? {
                out.push(Value::String(ctx::template(v)));
            }
        }
        let identity = self.r.user_identity.as_ref();
        for v in [user_id(identity)?, user_name(identity)?]
            .into_iter()
            .flatten()
        {
            out.push(Value::String(v));
        }
        Ok(out)
    }

    /// `related.ip`: `source.ip`, and the service event's `sourceIpAddress` when it is one.
    pub(super) fn related_ip(&mut self) -> Decide<Vec<Value>> {
        let mut out = Vec::new();
        if let Some(ip) = literal_ip(self.r)? {
            out.push(Value::String(ip));
        }
        if let Some(v) = self.at(3, "sourceIpAddress")? {
            let s = ctx::template(v);
            if crate::ip::is_inet_address(&s) {
                out.push(Value::String(s));
            }
        }
        Ok(out)
    }

    /// `related.hosts`: the TLS host header unless AWS's, a host name as source address,
    /// the request's `computerName`, and EC2 instance IDs the event mentions.
    pub(super) fn related_hosts(&mut self) -> Decide<Vec<Value>> {
        let mut out = Vec::new();
        if let Some(Value::String(name)) = self.tls_member("clientProvidedHostHeader")? {
            if !name.ends_with(".amazonaws.com") {
                out.push(Value::String(name));
            }
        }
        if literal_ip(self.r)?.is_none() {
            if let Some(addr) = plain(&self.r.source_ip_address)? {
                if addr.contains('.') && !addr.contains(' ') && !addr.ends_with(".amazonaws.com") {
                    out.push(Value::String(addr));
                }
            }
        }
        if let Some(v) = self.at(0, "computerName")? {
            out.push(Value::String(ctx::template(v)));
        }
        let mut add = |v: Option<&Value>| {
            if let Some(Value::String(s)) = v {
                if s.encode_utf16().count() >= 10 && s.starts_with("i-") {
                    out.push(Value::String(s.clone()));
                }
            }
        };
        for arn in self.resource_values("arn", "ARN")? {
            if let Value::String(arn) = &arn {
                if arn.contains(":instance/") {
                    let id = &arn[arn.rfind('/').map_or(0, |i| i + 1)..];
                    add(Some(&Value::String(id.to_string())));
                }
            }
        }
        for part in [0, 1] {
            let Some(Value::Object(c)) = self.part(part)? else {
                continue;
            };
            for key in ["instanceId", "target", "resourceId"] {
                add(c.get(key));
            }
            if let Some(Value::Array(ids)) = c.get("instanceIds") {
                ids.iter().for_each(|id| add(Some(id)));
            }
            if let Some(Value::Array(items)) = c.get("instancesSet").and_then(|s| s.get("items")) {
                for item in items {
                    if let Value::Object(item) = item {
                        add(item.get("instanceId"));
                    }
                }
            }
        }
        Ok(out)
    }

    /// `user.email`: the session name when it is an address, else `user.name` when it
    /// looks like one.
    pub(super) fn user_email(&mut self) -> Decide<Option<String>> {
        let identity = self.r.user_identity.as_ref();
        if let Some(session) = identity.map(session_name).transpose()?.flatten() {
            if session.contains('@') {
                return Ok(Some(session));
            }
        }
        Ok(user_name(identity)?.filter(|n| n.find('@').is_some_and(|i| i > 0)))
    }

    /// An output of entity enrichment, at its ECS path.
    pub(super) fn entity(&mut self, opts: &NormalizeOptions, path: &str) -> Decide<Vec<Value>> {
        self.ensure_entity(opts)?;
        // Each output is read once per record: taken, not copied.
        let outputs = self.entity.as_mut().expect("set above");
        let taken = outputs
            .iter_mut()
            .rfind(|(p, _)| *p == path)
            .map(|(_, v)| std::mem::take(v));
        Ok(match taken {
            Some(Value::Array(items)) => items,
            Some(v) => vec![v],
            None => vec![],
        })
    }

    /// Runs the enrichment once per record (its failure is the pipeline's to report).
    fn ensure_entity(&mut self, opts: &NormalizeOptions) -> Decide<()> {
        if self.entity.is_none() {
            let out = self.run_entity(opts)?;
            self.entity = Some(out);
        }
        Ok(())
    }

    fn run_entity(&mut self, opts: &NormalizeOptions) -> Decide<entity::Outputs> {
        let enabled = opts.tags.iter().any(|t| t == "actor_target_mapping");
        if !enabled || plain(&self.r.event_name)?.is_none() {
            return Ok(vec![]);
        }
        let mut doc = Map::new();
        let mut json = Map::new();
        if let Some(identity) = self.entity_identity()? {
            json.insert("userIdentity".into(), identity);
        }
        for (key, v) in [
            ("eventSource", &self.r.event_source),
            ("eventName", &self.r.event_name),
            ("recipientAccountId", &self.r.recipient_account_id),
        ] {
            if let Some(v) = plain(v)? {
                json.insert(key.into(), Value::String(v));
            }
        }
        // The payloads are lent to the enrichment's document and taken back after.
        let lent = [(0, "requestParameters"), (1, "responseElements")]
            .into_iter()
            .chain([(RESOURCES, "resources")]);
        for (i, key) in lent.clone() {
            self.part(i)?;
            if let Some(v) = self.parsed[i].as_mut().and_then(Option::take) {
                json.insert(key.into(), v);
            }
        }
        doc.insert("json".into(), Value::Object(json));
        let result = entity::outputs(&doc);
        let Some(Value::Object(mut json)) = doc.shift_remove("json") else {
            unreachable!("inserted above")
        };
        for (i, key) in lent {
            if let Some(v) = json.shift_remove(key) {
                self.parsed[i] = Some(Some(v));
            }
        }
        result.map_err(|_| ())
    }

    /// `userIdentity` as the enrichment reads it: the members its rules name (type, ARN,
    /// access key, user name, invoker, session issuer's ARN and name), built from the typed
    /// fields after cleanup #1 rather than parsed again. `onBehalfOf` (Identity Center) is
    /// left to the pipeline.
    fn entity_identity(&self) -> Decide<Option<Value>> {
        let Some(i) = self.r.user_identity.as_ref() else {
            return Ok(None);
        };
        if i.on_behalf_of {
            return Err(());
        }
        let object = |members: &[(&str, &super::record::Str)]| {
            let mut m = Map::new();
            for (key, v) in members {
                if let Some(s) = v.as_deref().filter(|s| !matches!(*s, "" | "-" | "none")) {
                    m.insert(key.to_string(), Value::String(s.to_string()));
                }
            }
            m
        };
        let issuer = object(&[
            ("arn", &i.session.issuer_arn),
            ("userName", &i.session.issuer_user_name),
        ]);
        let mut identity = object(&[
            ("type", &i.kind),
            ("arn", &i.arn),
            ("accessKeyId", &i.access_key_id),
            ("userName", &i.user_name),
            ("invokedBy", &i.invoked_by),
        ]);
        if !issuer.is_empty() {
            let mut context = Map::new();
            context.insert("sessionIssuer".into(), Value::Object(issuer));
            identity.insert("sessionContext".into(), Value::Object(context));
        }
        Ok((!identity.is_empty()).then_some(Value::Object(identity)))
    }

    /// Whether the pipeline runs this record without an error of its own (a bad date, a
    /// session ARN grok cannot read, an enrichment failure), which would make it a
    /// `pipeline_error` (`event.kind`, `error.message`, `tags`): those the pipeline decides.
    pub(super) fn clean_run(&mut self, opts: &NormalizeOptions) -> Decide<()> {
        if let Some(t) = plain(&self.r.event_time)? {
            time::parse_iso8601(&t).ok_or(())?;
        }
        if let Some(i) = self.r.user_identity.as_ref() {
            if let Some(d) = plain(&i.session.creation_date)? {
                time::parse_iso8601(&d)
                    .or_else(|| time::parse_basic(&d))
                    .ok_or(())?;
            }
            session_name(i)?;
        }
        self.ensure_entity(opts)
    }
}

/// A renamed value the way a keyword column reads it: a string or a boolean (numbers and
/// containers the pipeline decides).
fn scalar(v: Option<&Value>) -> Decide<Option<Value>> {
    match v {
        None => Ok(None),
        Some(v @ (Value::String(_) | Value::Bool(_))) => Ok(Some(v.clone())),
        Some(_) => Err(()),
    }
}

/// `source.ip`: `sourceIPAddress` when it is a literal address.
pub(super) fn literal_ip(r: &Record) -> Decide<Option<String>> {
    Ok(plain(&r.source_ip_address)?.filter(|a| crate::ip::is_inet_address(a)))
}

/// The session name the pipeline's grok takes from an STS ARN (assumed, federated and
/// Identity Center callers); a grok failure is a pipeline error, decided there.
fn session_name(i: &Identity) -> Decide<Option<String>> {
    if !matches!(
        i.kind.as_deref(),
        Some("AssumedRole" | "FederatedUser" | "IdentityCenterUser")
    ) {
        return Ok(None);
    }
    let Some(arn) = plain(&i.arn)? else {
        return Ok(None);
    };
    if !(arn.contains(":sts:") && arn.contains('/')) {
        return Ok(None);
    }
    identity::grok_session_name(&arn).map(Some).ok_or(())
}

/// `user.name` by the pipeline's service-actor and role rules (§2.5).
pub(super) fn user_name(identity: Option<&Identity>) -> Decide<Option<String>> {
    match identity {
        Some(i) if i.service_name().is_none() => {
            let role_like = matches!(i.kind.as_deref(), Some("AssumedRole" | "FederatedUser"));
            match (&i.session.issuer_user_name, role_like) {
                (Some(_), true) => plain(&i.session.issuer_user_name),
                _ => plain(&i.user_name),
            }
        }
        _ => Ok(None),
    }
}

/// `user.id`: the principal, for callers that are not service actors.
pub(super) fn user_id(identity: Option<&Identity>) -> Decide<Option<String>> {
    match identity {
        // `user.id` may come from onBehalfOf (§2.5 #16).
        Some(i) if i.kind.as_deref() == Some("IdentityCenterUser") || i.on_behalf_of => Err(()),
        Some(i) if i.service_name().is_none() => plain(&i.principal_id),
        _ => Ok(None),
    }
}
