//! §4: entity enrichment (`actor_target_mapping`): who acted (`actor.entity.id`, typed as
//! user/service/host/generic), on what (`target.entity.id` and typed variants) and every entity
//! the event mentions (`related.entity`).
//!
//! It reads the cleaned record before any rename. Three Painless behaviours are reproduced
//! because they change the output: sets are `TreeSet`s (sorted by UTF-16 code units), a list of
//! values is added with a short-circuit (after the first null/empty/duplicate value the rest of
//! that list is skipped), and a non-string where a string is expected throws, which makes the
//! whole enrichment fail (the caller records the error and the document becomes a
//! `pipeline_error`).

use serde_json::Value;

use super::ctx::{self, Obj};
use super::Failure;
use crate::java_map::java_cmp;

mod classify;

use classify::targets;

/// A `TreeSet<String>` in Java `String.compareTo` order.
#[derive(Default, Debug)]
pub(super) struct JavaSet(pub(super) Vec<String>);

impl JavaSet {
    pub(super) fn add(&mut self, s: &str) -> bool {
        match self.0.binary_search_by(|x| java_cmp(x, s)) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, s.to_string());
                true
            }
        }
    }
    pub(super) fn into_value(self) -> Value {
        Value::Array(self.0.into_iter().map(Value::String).collect())
    }
}

fn cast_error(v: &Value) -> Failure {
    Failure::new(format!(
        "class_cast_exception: Cannot cast from [{}] to [java.lang.String].",
        match v {
            Value::Bool(_) => "java.lang.Boolean",
            Value::Number(_) => "java.lang.Integer",
            Value::Array(_) => "java.util.ArrayList",
            Value::Object(_) => "java.util.HashMap",
            _ => "java.lang.Object",
        }
    ))
}

/// A value passed where Painless declares `String`: null stays null, anything else but a string
/// throws.
fn as_string(v: Option<&Value>) -> Result<Option<&str>, Failure> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(cast_error(other)),
    }
}

/// `addValue`: adds non-empty strings; returns whether the value was new.
fn add_value(set: &mut JavaSet, v: Option<&Value>) -> Result<bool, Failure> {
    match as_string(v)? {
        None | Some("") => Ok(false),
        Some(s) => Ok(set.add(s)),
    }
}

/// `addValues`: stops adding after the first value that is null, empty or already present.
fn add_values<'a>(
    set: &mut JavaSet,
    values: impl IntoIterator<Item = Option<&'a Value>>,
) -> Result<(), Failure> {
    let mut added_all = true;
    for v in values {
        // The loop variable is typed String, so every element is cast even when skipped.
        as_string(v)?;
        added_all = added_all && add_value(set, v)?;
    }
    Ok(())
}

/// `map.key` on a Painless `def`: maps give the member, null or other types throw.
fn member<'a>(v: &'a Value, key: &str) -> Result<Option<&'a Value>, Failure> {
    match v {
        Value::Object(m) => Ok(m.get(key)),
        Value::Null => Err(Failure::new("null_pointer_exception")),
        other => Err(Failure::new(format!(
            "illegal_argument_exception: dynamic getter [{}, {key}] not found",
            match other {
                Value::String(_) => "java.lang.String",
                Value::Array(_) => "java.util.ArrayList",
                _ => "java.lang.Object",
            }
        ))),
    }
}

/// `map?.key`: like [`member`] but null-safe.
fn member_opt<'a>(v: Option<&'a Value>, key: &str) -> Result<Option<&'a Value>, Failure> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => member(v, key),
    }
}

struct Enricher<'a> {
    /// The parsed record (`json`), looked up once: every rule reads a path inside it.
    json: Option<&'a Obj>,
    related: JavaSet,
    target: JavaSet,
    actor: Option<Value>,
}

impl<'a> Enricher<'a> {
    /// `$("json.<path>", null)`.
    fn get(&self, path: &str) -> Option<&'a Value> {
        ctx::get_nn(self.json?, path)
    }

    /// `$("json.<path>", [])` followed by `.stream()`: missing is empty, a non-list throws.
    fn list(&self, path: &str) -> Result<&'a [Value], Failure> {
        match self.get(path) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(Failure::new(format!(
                "illegal_argument_exception: dynamic method [stream/0] not found for [{path}]"
            ))),
        }
    }

    fn related(&mut self, paths: &[&str]) -> Result<(), Failure> {
        for p in paths {
            let v = self.get(p);
            add_value(&mut self.related, v)?;
        }
        Ok(())
    }

    fn target(&mut self, path: &str) -> Result<(), Failure> {
        let v = self.get(path);
        add_value(&mut self.target, v).map(drop)
    }

    fn target_resources(&mut self) -> Result<(), Failure> {
        for r in self.list("resources")? {
            add_value(&mut self.target, member(r, "ARN")?)?;
        }
        Ok(())
    }
}

/// The enrichment's outputs: (ECS path, value), in the order the script sets them.
pub(crate) type Outputs = Vec<(&'static str, Value)>;

/// Runs the enrichment on a document holding the cleaned record under `json` and sets its
/// outputs, one after the other as the script does (a path that cannot be set fails there).
pub(crate) fn enrich(doc: &mut Obj) -> Result<(), Failure> {
    for (path, v) in outputs(doc)? {
        ctx::set(doc, path, v)?;
    }
    Ok(())
}

/// The enrichment's outputs for `doc`, which it only reads (the compiled normalizer takes
/// them as they are, without setting and reading them back).
pub(crate) fn outputs(doc: &Obj) -> Result<Outputs, Failure> {
    let mut e = Enricher {
        json: doc.get("json").and_then(Value::as_object),
        related: JavaSet::default(),
        target: JavaSet::default(),
        actor: None,
    };
    e.actor = e
        .get("userIdentity.arn")
        .or_else(|| e.get("userIdentity.onBehalfOf.userId"))
        .cloned();
    e.related(&[
        "userIdentity.accessKeyId",
        "userIdentity.arn",
        "userIdentity.userName",
        "userIdentity.sessionContext.sessionIssuer.arn",
        "userIdentity.sessionContext.sessionIssuer.userName",
    ])?;
    let user_type = e.get("userIdentity.type").and_then(Value::as_str);
    if user_type == Some("IdentityCenterUser") {
        e.related(&["userIdentity.onBehalfOf.identityStoreArn"])?;
    }
    for r in e.list("resources")? {
        add_value(&mut e.related, member(r, "ARN")?)?;
    }
    let source = as_string(e.get("eventSource"))?;
    let name = as_string(e.get("eventName"))?;
    if let Some(source) = source.and_then(|s| s.strip_suffix(".amazonaws.com")) {
        services(&mut e, source, name)?;
    }
    let issuer_arn = e.get("userIdentity.sessionContext.sessionIssuer.arn");
    Ok(targets(e.related, e.target, e.actor, user_type, issuer_arn))
}

/// Per-service rules (spec §4 table), keyed on `eventSource` without `.amazonaws.com`.
fn services(e: &mut Enricher, source: &str, name: Option<&str>) -> Result<(), Failure> {
    let name = name.unwrap_or("");
    match source {
        "cloudformation" => match name {
            "CreateStackSet" => e.target("responseElements.stackSetId")?,
            "CreateStack" => e.target("responseElements.stackId")?,
            _ => {}
        },
        "cloudtrail" => {
            e.related(&[
                "requestParameters.name",
                "requestParameters.s3BucketName",
                "responseElements.cloudWatchLogsLogGroupArn",
                "responseElements.cloudWatchLogsRoleArn",
                "responseElements.kmsKeyId",
                "responseElements.snsTopicARN",
                "responseElements.trailARN",
                "responseElements.name",
            ])?;
            match name {
                "DeleteTrail" | "StopLogging" => e.target("requestParameters.name")?,
                "DescribeTrails" => e.target("recipientAccountId")?,
                _ => {}
            }
        }
        "config" => {
            e.related(&["requestParameters.configurationRecorderName"])?;
            if matches!(
                name,
                "StopConfigurationRecorder" | "StartConfigurationRecorder"
            ) {
                e.target("requestParameters.configurationRecorderName")?;
            }
        }
        "ec2-instance-connect" => {
            if matches!(name, "SendSSHPublicKey" | "SendSerialConsoleSSHPublicKey") {
                e.target("requestParameters.instanceId")?;
            }
        }
        "ec2" => ec2(e, name)?,
        "elasticfilesystem" => match name {
            "DeleteFileSystem" => e.target("requestParameters.fileSystemId")?,
            "DeleteMountTarget" => e.target("requestParameters.mountTargetId")?,
            _ => {}
        },
        "events" if name == "DeleteRule" => {
            e.target("requestParameters.name")?;
        }
        "guardduty" => {
            e.related(&[
                "requestParameters.detectorId",
                "responseElements.detectorId",
            ])?;
            match name {
                "CreateDetector" => e.target("responseElements.detectorId")?,
                "DeleteDetector" => e.target("requestParameters.detectorId")?,
                _ => {}
            }
        }
        "iam" => iam(e, name)?,
        "kms" => {
            e.related(&[
                "requestParameters.keyId",
                "responseElements.keyId",
                "responseElements.keyMetadata.arn",
                "responseElements.keyMetadata.keyId",
            ])?;
            if matches!(name, "DisableKey" | "ScheduleKeyDeletion") {
                e.target_resources()?;
            }
        }
        "lambda" => {
            e.related(&[
                "requestParameters.functionName",
                "responseElements.functionArn",
                "responseElements.functionName",
                "responseElements.role",
            ])?;
            for path in [
                "responseElements.vpcConfig.securityGroupIds",
                "responseElements.vpcConfig.subnetIds",
            ] {
                let items = e.list(path)?;
                add_values(&mut e.related, items.iter().map(Some))?;
            }
            if name.contains("AddPermission") {
                e.target("requestParameters.functionName")?;
            } else if name.contains("ListFunctions") {
                e.target("recipientAccountId")?;
            }
        }
        "logs" => match name {
            "DeleteLogGroup" => e.target("requestParameters.logGroupName")?,
            "DeleteLogStream" => e.target("requestParameters.logStreamName")?,
            _ => {}
        },
        "monitoring" if name == "DeleteAlarms" => {
            for a in e.list("requestParameters.alarmNames")? {
                add_value(&mut e.target, Some(a))?;
            }
        }
        "rds" => rds(e, name)?,
        "rolesanywhere" if name == "CreateTrustAnchor" => {
            e.target("responseElements.trustAnchor.trustAnchorArn")?;
        }
        "route53resolver" if name == "DeleteResolverQueryLogConfig" => {
            e.target("responseElements.resolverQueryLogConfig.arn")?;
        }
        "s3" => {
            e.related(&["requestParameters.bucketName"])?;
            match name {
                "CopyObject"
                | "PutBucketLogging"
                | "PutBucketVersioning"
                | "PutObject"
                | "GetBucketPolicy"
                | "ListObjects"
                | "HeadObject"
                | "GetObject"
                | "DeleteObject"
                | "DeleteBucket" => e.target_resources()?,
                "PutBucketReplication" => {
                    e.target_resources()?;
                    e.target("requestParameters.ReplicationConfiguration.Rule.Destination.Bucket")?;
                }
                "ListBuckets" => e.target("recipientAccountId")?,
                _ => {}
            }
        }
        "secretsmanager" => match name {
            "BatchGetSecretValue" => {
                for s in e.list("requestParameters.secretIdList")? {
                    add_value(&mut e.target, Some(s))?;
                }
            }
            "GetSecretValue" => e.target("requestParameters.secretId")?,
            _ => {}
        },
        "signin" if name == "ConsoleLogin" => {
            e.target("recipientAccountId")?;
        }
        "ssm" => ssm(e, name)?,
        "sts" => {
            e.related(&[
                "requestParameters.roleArn",
                "sourceIdentity",
                "additionalEventData.MFAIdentifier",
                "responseElements.assumedRoleUser.arn",
                "requestParameters.roleSessionName",
                "responseElements.accessKeyId",
            ])?;
            match name {
                "AssumeRole" => {
                    let user_type = e.get("userIdentity.type").and_then(Value::as_str);
                    e.actor = match user_type {
                        Some("AWSService") => e.get("userIdentity.invokedBy"),
                        Some("AssumedRole") => {
                            e.get("userIdentity.sessionContext.sessionIssuer.arn")
                        }
                        _ => e.get("userIdentity.arn"),
                    }
                    .cloned();
                    e.target("requestParameters.roleArn")?;
                }
                "GetCallerIdentity" => {
                    e.target("recipientAccountId")?;
                    e.actor = e.get("userIdentity.arn").cloned();
                }
                _ => {}
            }
        }
        "wafv2" => {
            e.related(&["requestParameters.id", "responseElements.summary"])?;
            if matches!(name, "DeleteRuleGroup" | "DeleteWebACL") {
                e.target("requestParameters.id")?;
            }
        }
        "sns" => match name {
            "CreateTopic" => e.target("responseElements.topicArn")?,
            "Subscribe" | "Publish" => e.target("requestParameters.topicArn")?,
            _ => {}
        },
        "bedrock" if name == "Converse" => {
            e.target("requestParameters.modelId")?;
        }
        "elasticloadbalancing" if name == "DescribeLoadBalancers" => {
            e.target("recipientAccountId")?;
        }
        "dynamodb" if name == "ListTables" => {
            e.target("recipientAccountId")?;
        }
        _ => {}
    }
    Ok(())
}

fn ec2(e: &mut Enricher, name: &str) -> Result<(), Failure> {
    e.related(&[
        "requestParameters.groupId",
        "requestParameters.groupName",
        "requestParameters.roleName",
        "requestParameters.subnetId",
        "requestParameters.volumeId",
        "requestParameters.networkInterfaceId",
        "requestParameters.vpcId",
        "requestParameters.snapshotId",
        "responseElements.groupId",
        "responseElements.reservationId",
        "responseElements.vpc.vpcId",
        "responseElements.vpc.dhcpOptionsId",
        "responseElements.snapshotId",
        "responseElements.volumeId",
    ])?;
    for i in e.list("responseElements.securityGroupRuleSet.items")? {
        let referenced = member(i, "referencedGroupInfo")?;
        let values = [
            member(i, "groupId")?,
            member_opt(referenced, "groupId")?,
            member(i, "securityGroupRuleId")?,
        ];
        add_values(&mut e.related, values)?;
    }
    for path in [
        "responseElements.groupSet.items",
        "requestParameters.groupSet.items",
    ] {
        for i in e.list(path)? {
            add_value(&mut e.related, member(i, "groupId")?)?;
        }
    }
    for i in e.list("requestParameters.instancesSet.items")? {
        add_value(&mut e.related, member(i, "instanceId")?)?;
    }
    for inst in e.list("responseElements.instancesSet.items")? {
        let profile = member(inst, "iamInstanceProfile")?;
        let values = [
            member(inst, "subnetId")?,
            member(inst, "vpcId")?,
            member(inst, "instanceId")?,
            member(inst, "imageId")?,
            member_opt(profile, "arn")?,
        ];
        add_values(&mut e.related, values)?;
        let Some(items) = member_opt(member(inst, "networkInterfaceSet")?, "items")? else {
            continue;
        };
        let items = stream(items)?;
        for net in items {
            let values = [
                member(net, "networkInterfaceId")?,
                member(net, "vpcId")?,
                member(net, "subnetId")?,
            ];
            add_values(&mut e.related, values)?;
            let Some(groups) = member_opt(member(net, "groupSet")?, "items")? else {
                continue;
            };
            for g in stream(groups)? {
                add_value(&mut e.related, member(g, "groupId")?)?;
            }
        }
    }
    for i in e.list("requestParameters.revokedSecurityGroupRuleSet.items")? {
        let values = [member(i, "securityGroupRuleId")?, member(i, "groupId")?];
        add_values(&mut e.related, values)?;
    }
    match name {
        "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" => {
            e.target("requestParameters.groupId")?;
            for f in e.list("responseElements.securityGroupRuleSet.items")? {
                add_value(&mut e.target, member(f, "securityGroupRuleId")?)?;
            }
        }
        "CreateTrafficMirrorFilter" => e.target("responseElements.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId")?,
        "CreateTrafficMirrorFilterRule" => e.target("responseElements.CreateTrafficMirrorFilterRuleResponse.trafficMirrorFilterRule.trafficMirrorFilterRuleId")?,
        "CreateTrafficMirrorSession" => e.target("responseElements.CreateTrafficMirrorSessionResponse.trafficMirrorSession.trafficMirrorSessionId")?,
        "CreateTrafficMirrorTarget" => e.target("responseElements.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId")?,
        "DeleteFlowLogs" => e.target("requestParameters.DeleteFlowLogsRequest.FlowLogId.content")?,
        "DeleteNetworkAcl" => e.target("requestParameters.networkAclId")?,
        "DeleteNetworkAclEntry" => {
            e.target("requestParameters.networkAclId")?;
            // The one place a number is expected: String.valueOf(ruleNumber).
            if let Some(n) = e.get("requestParameters.ruleNumber") {
                let s = Value::String(ctx::template(n));
                add_value(&mut e.target, Some(&s))?;
            }
        }
        "GetPasswordData" => e.target("requestParameters.instanceId")?,
        "ModifyImageAttribute" => e.target("requestParameters.imageId")?,
        "ModifySnapshotAttribute" => e.target("requestParameters.snapshotId")?,
        "DescribeSecurityGroups" | "DescribeNetworkInterfaces" | "DescribeRegions"
        | "DescribeVpcs" | "DescribeNetworkAcls" | "DescribeVolumes" => {
            e.target("recipientAccountId")?
        }
        _ => {}
    }
    Ok(())
}

/// `x.stream()` on a value reached by member access.
fn stream(v: &Value) -> Result<&[Value], Failure> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(Failure::new(
            "illegal_argument_exception: dynamic method [stream/0] not found",
        )),
    }
}

fn iam(e: &mut Enricher, name: &str) -> Result<(), Failure> {
    e.related(&[
        "requestParameters.userName",
        "requestParameters.serialNumber",
        "requestParameters.accessKeyId",
        "requestParameters.policyArn",
        "requestParameters.roleName",
        "requestParameters.policyName",
        "requestParameters.serialNumber",
        "responseElements.accessKey.userName",
        "responseElements.accessKey.accessKeyId",
        "responseElements.user.arn",
        "responseElements.user.userId",
        "responseElements.user.userName",
        "responseElements.userId",
        "responseElements.role.arn",
        "responseElements.serialNumber",
    ])?;
    match name {
        "AttachGroupPolicy" => e.target("requestParameters.groupName")?,
        "AttachRolePolicy" | "ListAttachedRolePolicies" | "UpdateAssumeRolePolicy" => {
            e.target("requestParameters.roleName")?
        }
        "AttachUserPolicy" => {
            e.target("requestParameters.policyArn")?;
            e.target("requestParameters.userName")?;
        }
        "CreateAccessKey" => {
            e.target("responseElements.accessKey.accessKeyId")?;
            e.target("requestParameters.userName")?;
        }
        "CreateUser" | "DeactivateMFADevice" => e.target("requestParameters.userName")?,
        "DeleteVirtualMFADevice" => e.target("requestParameters.serialNumber")?,
        "GetPolicy" => e.target("requestParameters.policyArn")?,
        "CreatePolicy" => e.target("responseElements.policy.arn")?,
        "ListRoles" | "ListUsers" => e.target("recipientAccountId")?,
        _ => {}
    }
    Ok(())
}

fn rds(e: &mut Enricher, name: &str) -> Result<(), Failure> {
    e.related(&[
        "requestParameters.dBInstanceIdentifier",
        "requestParameters.dBInstanceArn",
        "responseElements.dBInstanceIdentifier",
        "responseElements.dbInstanceArn",
        "responseElements.dBSubnetGroup.vpcId",
        "responseElements.vpcSecurityGroups.vpcSecurityGroupId",
    ])?;
    for i in e.list("responseElements.dBSubnetGroup.subnets")? {
        add_value(&mut e.related, member(i, "subnetIdentifier")?)?;
    }
    for i in e.list("responseElements.vpcSecurityGroups")? {
        add_value(&mut e.related, member(i, "vpcSecurityGroupId")?)?;
    }
    match name {
        "DeleteDBCluster" | "ModifyDBCluster" | "StopDBCluster" => {
            e.target("responseElements.dBClusterArn")?
        }
        "DeleteDBInstance"
        | "ModifyDBInstance"
        | "RestoreDBInstanceFromDBSnapshot"
        | "RestoreDBInstanceFromS3"
        | "StopDBInstance" => e.target("responseElements.dBInstanceArn")?,
        "DeleteGlobalCluster" => e.target("responseElements.globalClusterArn")?,
        "ModifyDBClusterSnapshotAttribute" => {
            e.target("responseElements.dBClusterSnapshotIdentifier")?
        }
        "ModifyDBSnapshotAttribute" => e.target("responseElements.dBSnapshotIdentifier")?,
        "DescribeDBInstances" => e.target("recipientAccountId")?,
        _ => {}
    }
    Ok(())
}

fn ssm(e: &mut Enricher, name: &str) -> Result<(), Failure> {
    match name {
        "GetParameter" | "GetParameters" | "CreateControlChannel" | "OpenControlChannel" => {
            e.target_resources()?
        }
        "StartSession" => e.target("requestParameters.target")?,
        "CreateDocument" => e.target("requestParameters.name")?,
        "TerminateSession" | "OpenDataChannel" => e.target("requestParameters.sessionId")?,
        "SendCommand" => {
            let mut ids: Vec<&Value> = e.list("requestParameters.instanceIds")?.iter().collect();
            if ids.is_empty() {
                for t in e.list("requestParameters.targets")? {
                    let values = member(t, "values")?
                        .ok_or_else(|| Failure::new("null_pointer_exception"))?;
                    ids.extend(stream(values)?);
                }
            }
            let account;
            let ids: Vec<Option<&Value>> = if ids.len() == 1 && ids[0].as_str() == Some("*") {
                // "All instances" targets the whole account.
                account = e.get("recipientAccountId");
                vec![account]
            } else {
                ids.into_iter().map(Some).collect()
            };
            add_values(&mut e.target, ids)?;
        }
        "ListInstanceAssociations" => e.target("recipientAccountId")?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_circuit() {
        let mut s = JavaSet::default();
        let a = Value::String("a".into());
        let b = Value::String("b".into());
        let c = Value::String("c".into());
        s.add("b");
        add_values(&mut s, [Some(&a), Some(&b), Some(&c)]).unwrap();
        assert_eq!(s.0, ["a", "b"]);
        let n = Value::from(1);
        assert!(add_values(&mut s, [Some(&n)]).is_err());
    }
}
