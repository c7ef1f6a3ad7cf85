//! Per-API request/response shapes, modelled on real records in
//! `shared/data/real/` (parameter names, nesting, empty strings and nulls as
//! AWS logs them), so that ingest cleanup and `Map.toString()` rendering are
//! exercised on realistic input.

use serde_json::{json, Value};

use crate::rng::Rng;
use crate::time::iso;

/// The account-specific names the background activity refers to.
pub struct Env {
    pub account: &'static str,
    pub region: &'static str,
    pub time: i64,
}

/// The variable part of a record, produced per API.
pub struct Details {
    pub req: Value,
    pub resp: Value,
    pub additional: Option<Value>,
    pub resources: Option<Value>,
    pub read_only: bool,
    pub management: bool,
    pub event_type: &'static str,
    pub vpce: Option<&'static str>,
}

impl Details {
    fn api(req: Value, resp: Value, read_only: bool) -> Details {
        Details {
            req,
            resp,
            additional: None,
            resources: None,
            read_only,
            management: true,
            event_type: "AwsApiCall",
            vpce: None,
        }
    }
}

pub fn buckets(account: &str) -> &'static [&'static str] {
    if account == crate::actors::PROD {
        &[
            "acme-prod-app-assets",
            "acme-prod-reports",
            "acme-prod-backups-418295730164",
        ]
    } else {
        &["acme-dev-scratch", "acme-dev-lambda-artifacts"]
    }
}

const INSTANCES: &[&str] = &[
    "i-0a3f9c27d41e85b06",
    "i-07c2e19fd3a86b4e1",
    "i-0e51b8a2c97d30f4a",
    "i-0b94d6e03a1c7f528",
];
const VPCS: &[&str] = &["vpc-0c1f2e3d4a5b69788", "vpc-04e8d2b1a7c3f5061"];
const FUNCTIONS: &[&str] = &["order-processor", "invoice-renderer", "thumbnail-resizer"];
const OBJECT_PREFIXES: &[&str] = &["uploads/", "reports/2024/07/", "static/js/", "exports/"];

pub(crate) fn s3_extra(rng: &mut Rng, bytes_in: u64, bytes_out: u64) -> Value {
    json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": bytes_in, "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": format!("{}=", rng.alnum(75)), "bytesTransferredOut": bytes_out})
}

fn kms_key(env: &Env) -> String {
    format!(
        "arn:aws:kms:{}:{}:key/{}",
        env.region,
        env.account,
        if env.account == crate::actors::PROD {
            "5f0c9a3e-7b21-4d8e-9c46-2a1b3e8d7f90"
        } else {
            "c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
        }
    )
}

/// Request/response for `source`/`name`; unknown APIs get `null` parameters,
/// which real CloudTrail also does for many read calls.
pub fn details(source: &str, name: &str, env: &Env, rng: &mut Rng) -> Details {
    let acct = env.account;
    let region = env.region;
    match (source, name) {
        ("sts.amazonaws.com", "GetCallerIdentity") => Details::api(Value::Null, Value::Null, true),
        ("sts.amazonaws.com", "AssumeRole") => {
            let role = *rng.pick(&[
                "app-server-role",
                "order-processor-role",
                "AWSServiceRoleForConfig",
            ]);
            let session = rng.range(1_000_000_000, 1_999_999_999).to_string();
            Details::api(
                json!({"roleArn": format!("arn:aws:iam::{acct}:role/{role}"), "roleSessionName": session}),
                json!({"credentials": {"accessKeyId": format!("ASIA{}", rng.upper(16)),
                        "sessionToken": rng.alnum(60),
                        "expiration": expiration(env.time + 3600)},
                    "assumedRoleUser": {"assumedRoleId": format!("AROA{}:{session}", rng.upper(17)),
                        "arn": format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}")}}),
                true,
            )
        }
        ("iam.amazonaws.com", "ListUsers") | ("iam.amazonaws.com", "ListRoles") => {
            Details::api(json!({"maxItems": 100}), Value::Null, true)
        }
        ("iam.amazonaws.com", "GetAccountSummary")
        | ("iam.amazonaws.com", "ListAccountAliases") => {
            Details::api(Value::Null, Value::Null, true)
        }
        ("iam.amazonaws.com", "GetRole") | ("iam.amazonaws.com", "ListAttachedRolePolicies") => {
            let role = *rng.pick(&[
                "app-server-role",
                "order-processor-role",
                "netops-terraform",
            ]);
            Details::api(json!({"roleName": role}), Value::Null, true)
        }
        ("iam.amazonaws.com", "GetUser") => Details::api(Value::Null, Value::Null, true),
        ("ec2.amazonaws.com", "DescribeInstances") => Details::api(
            json!({"instancesSet": {}, "filterSet": {}}),
            Value::Null,
            true,
        ),
        ("ec2.amazonaws.com", "DescribeInstanceStatus") => Details::api(
            json!({"instancesSet": {}, "filterSet": {}, "includeAllInstances": false}),
            Value::Null,
            true,
        ),
        ("ec2.amazonaws.com", "DescribeSecurityGroups")
        | ("ec2.amazonaws.com", "DescribeSubnets") => Details::api(
            json!({"filterSet": {"items": [{"name": "vpc-id",
                "valueSet": {"items": [{"value": rng.pick(VPCS)}]}}]}}),
            Value::Null,
            true,
        ),
        ("ec2.amazonaws.com", "DescribeVpcs") => {
            Details::api(json!({"vpcSet": {}, "filterSet": {}}), Value::Null, true)
        }
        ("ec2.amazonaws.com", "DescribeFlowLogs") => Details::api(
            json!({"DescribeFlowLogsRequest": {"MaxResults": 1000}}),
            Value::Null,
            true,
        ),
        ("ec2.amazonaws.com", "DescribeVolumes") => {
            Details::api(json!({"volumeSet": {}, "filterSet": {}}), Value::Null, true)
        }
        ("ec2.amazonaws.com", "CreateTags") => {
            let i = *rng.pick(INSTANCES);
            Details::api(
                json!({"resourcesSet": {"items": [{"resourceId": i}]},
                    "tagSet": {"items": [{"key": "Owner", "value": "platform"}]}}),
                json!({"requestId": rng.uuid(), "_return": true}),
                false,
            )
        }
        ("ec2.amazonaws.com", "StopInstances") | ("ec2.amazonaws.com", "StartInstances") => {
            let i = *rng.pick(INSTANCES);
            Details::api(
                json!({"instancesSet": {"items": [{"instanceId": i}]}, "force": false}),
                json!({"requestId": rng.uuid(), "instancesSet": {"items": [{"instanceId": i,
                    "currentState": {"code": 64, "name": "stopping"},
                    "previousState": {"code": 16, "name": "running"}}]}}),
                false,
            )
        }
        ("s3.amazonaws.com", "ListBuckets") => Details::api(
            json!({"Host": format!("s3.{region}.amazonaws.com")}),
            Value::Null,
            true,
        ),
        ("s3.amazonaws.com", "GetBucketAcl") | ("s3.amazonaws.com", "GetBucketPolicy") => {
            let b = if name == "GetBucketAcl" && rng.chance(600) {
                trail_bucket(acct).to_string()
            } else {
                rng.pick(buckets(acct)).to_string()
            };
            let sub = if name == "GetBucketAcl" {
                "acl"
            } else {
                "policy"
            };
            let mut d = Details::api(
                json!({"bucketName": b, "Host": format!("{b}.s3.{region}.amazonaws.com"), sub: ""}),
                Value::Null,
                true,
            );
            d.additional = Some(s3_extra(rng, 0, 552));
            d.resources = Some(json!([{"accountId": acct, "type": "AWS::S3::Bucket",
                "ARN": format!("arn:aws:s3:::{b}")}]));
            d
        }
        ("s3.amazonaws.com", "GetObject")
        | ("s3.amazonaws.com", "PutObject")
        | ("s3.amazonaws.com", "HeadObject") => {
            let b = rng.pick(buckets(acct)).to_string();
            let key = format!(
                "{}{}.{}",
                rng.pick(OBJECT_PREFIXES),
                rng.alnum(10).to_ascii_lowercase(),
                rng.pick(&["json", "csv", "png", "gz"])
            );
            let size = rng.below(900_000) + 200;
            let put = name == "PutObject";
            let mut d = Details::api(
                json!({"bucketName": b, "Host": format!("{b}.s3.{region}.amazonaws.com"), "key": key}),
                if put {
                    json!({"x-amz-server-side-encryption": "AES256"})
                } else {
                    Value::Null
                },
                !put,
            );
            d.management = false;
            d.additional = Some(if put {
                s3_extra(rng, size, 0)
            } else {
                s3_extra(rng, 0, if name == "HeadObject" { 0 } else { size })
            });
            d.resources = Some(json!([
                {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{b}/{key}")},
                {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}]));
            d
        }
        ("kms.amazonaws.com", "Decrypt") | ("kms.amazonaws.com", "GenerateDataKey") => {
            let key = kms_key(env);
            let mut req = json!({"encryptionContext": {"aws:s3:arn":
                format!("arn:aws:s3:::{}", rng.pick(buckets(acct)))}});
            if name == "Decrypt" {
                req["encryptionAlgorithm"] = json!("SYMMETRIC_DEFAULT");
            } else {
                req["keyId"] = json!(key);
                req["keySpec"] = json!("AES_256");
            }
            let mut d = Details::api(req, Value::Null, true);
            d.resources = Some(json!([{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]));
            d
        }
        ("kms.amazonaws.com", "ListKeys") | ("kms.amazonaws.com", "ListAliases") => {
            Details::api(Value::Null, Value::Null, true)
        }
        ("cloudtrail.amazonaws.com", "DescribeTrails") => Details::api(
            json!({"trailNameList": [], "includeShadowTrails": true}),
            Value::Null,
            true,
        ),
        ("cloudtrail.amazonaws.com", "GetTrailStatus")
        | ("cloudtrail.amazonaws.com", "GetEventSelectors") => Details::api(
            json!({"name": format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/org-audit-trail")}),
            Value::Null,
            true,
        ),
        ("cloudtrail.amazonaws.com", "ListTrails") => Details::api(Value::Null, Value::Null, true),
        ("cloudtrail.amazonaws.com", "LookupEvents") => Details::api(
            json!({"maxResults": 50, "lookupAttributes": [{"attributeKey": "ReadOnly",
                "attributeValue": "false"}]}),
            Value::Null,
            true,
        ),
        ("logs.amazonaws.com", "DescribeLogGroups") => {
            Details::api(json!({"limit": 50}), Value::Null, true)
        }
        ("logs.amazonaws.com", "CreateLogStream") => {
            let f = *rng.pick(FUNCTIONS);
            let (y, m, d, ..) = crate::time::parts(env.time);
            Details::api(
                json!({"logGroupName": format!("/aws/lambda/{f}"),
                    "logStreamName": format!("{y}/{m:02}/{d:02}/[$LATEST]{}", rng.hex(32))}),
                Value::Null,
                false,
            )
        }
        ("logs.amazonaws.com", "FilterLogEvents") => Details::api(
            json!({"logGroupName": format!("/aws/lambda/{}", rng.pick(FUNCTIONS)),
                "startTime": (env.time - 3600) * 1000, "interleaved": true}),
            Value::Null,
            true,
        ),
        ("route53resolver.amazonaws.com", "ListResolverQueryLogConfigs")
        | ("route53resolver.amazonaws.com", "ListResolverQueryLogConfigAssociations")
        | ("route53resolver.amazonaws.com", "ListResolverEndpoints") => {
            Details::api(json!({"maxResults": 100}), Value::Null, true)
        }
        ("config.amazonaws.com", "DescribeConfigRules")
        | ("config.amazonaws.com", "DescribeConfigurationRecorderStatus")
        | ("config.amazonaws.com", "DescribeComplianceByConfigRule") => {
            Details::api(Value::Null, Value::Null, true)
        }
        ("config.amazonaws.com", "PutEvaluations") => Details::api(
            json!({"evaluations": [{"complianceResourceType": "AWS::EC2::Instance",
                "complianceResourceId": rng.pick(INSTANCES), "complianceType": "COMPLIANT",
                "orderingTimestamp": format!("{}", iso(env.time - 60))}],
                "resultToken": "", "testMode": false}),
            json!({"failedEvaluations": []}),
            false,
        ),
        ("guardduty.amazonaws.com", "ListDetectors") => {
            Details::api(Value::Null, Value::Null, true)
        }
        ("guardduty.amazonaws.com", "ListFindings")
        | ("guardduty.amazonaws.com", "GetFindings") => Details::api(
            json!({"detectorId": "b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1", "maxResults": 50}),
            Value::Null,
            true,
        ),
        ("lambda.amazonaws.com", "ListFunctions20150331") => {
            Details::api(Value::Null, Value::Null, true)
        }
        ("lambda.amazonaws.com", "GetFunction20150331v2") => Details::api(
            json!({"functionName": rng.pick(FUNCTIONS)}),
            Value::Null,
            true,
        ),
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2") => {
            let f = *rng.pick(FUNCTIONS);
            Details::api(
                json!({"functionName": f, "publish": false, "dryRun": false}),
                json!({"functionName": f,
                    "functionArn": format!("arn:aws:lambda:{region}:{acct}:function:{f}"),
                    "runtime": "python3.12", "codeSize": rng.range(4_000, 90_000),
                    "version": "$LATEST", "lastUpdateStatus": "InProgress"}),
                false,
            )
        }
        ("secretsmanager.amazonaws.com", "GetSecretValue") => Details::api(
            json!({"secretId": format!("arn:aws:secretsmanager:{region}:{acct}:secret:prod/orders/db-AbC12x")}),
            Value::Null,
            true,
        ),
        ("ssm.amazonaws.com", "GetParameter") => Details::api(
            json!({"name": "/app/orders/queue-url", "withDecryption": false}),
            Value::Null,
            true,
        ),
        ("ssm.amazonaws.com", "UpdateInstanceInformation") => Details::api(
            json!({"instanceId": rng.pick(INSTANCES), "agentVersion": "3.3.484.0",
                "agentStatus": "Active", "platformType": "Linux", "platformName": "Amazon Linux",
                "platformVersion": "2023", "agentName": "amazon-ssm-agent"}),
            Value::Null,
            false,
        ),
        _ => Details::api(Value::Null, Value::Null, name.starts_with(['D', 'G', 'L'])),
    }
}

/// The bucket the organisation trail delivers to.
pub fn trail_bucket(account: &str) -> &'static str {
    if account == crate::actors::PROD {
        "acme-org-cloudtrail-logs-418295730164"
    } else {
        "acme-dev-cloudtrail-logs-736120584927"
    }
}

/// STS prints expirations in this Java-ish format (`Jul 30, 2021 12:56:03 AM`).
pub fn expiration(t: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, h, mi, s) = crate::time::parts(t);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!(
        "{} {d}, {y} {h12}:{mi:02}:{s:02} {ampm}",
        MONTHS[(m - 1) as usize]
    )
}

/// The prefix IAM uses in action names (`ec2:StopInstances`).
fn iam_prefix(source: &str) -> &str {
    match source {
        "monitoring.amazonaws.com" => "cloudwatch",
        s => s.trim_end_matches(".amazonaws.com"),
    }
}

/// The error fields AWS writes for a denied call (EC2 uses its own code).
pub fn access_denied(source: &str, name: &str, arn: &str) -> (String, String) {
    // Lambda event names carry an API version (`ListFunctions20150331`); IAM
    // action names do not.
    let bare = name
        .find(|c: char| c.is_ascii_digit())
        .map_or(name, |i| &name[..i]);
    let action = format!("{}:{bare}", iam_prefix(source));
    match source {
        "ec2.amazonaws.com" => (
            "Client.UnauthorizedOperation".into(),
            format!(
                "You are not authorized to perform this operation. User: {arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
            ),
        ),
        "s3.amazonaws.com" => ("AccessDenied".into(), "Access Denied".into()),
        _ => (
            "AccessDenied".into(),
            format!(
                "User: {arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
            ),
        ),
    }
}

/// The error fields for a throttled call.
pub fn throttled(source: &str) -> (String, String) {
    match source {
        "ec2.amazonaws.com" => (
            "Client.RequestLimitExceeded".into(),
            "Request limit exceeded.".into(),
        ),
        _ => ("ThrottlingException".into(), "Rate exceeded".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_format() {
        assert_eq!(
            expiration(crate::time::at(2021, 7, 30, 0, 56, 3)),
            "Jul 30, 2021 12:56:03 AM"
        );
        assert_eq!(
            expiration(crate::time::at(2024, 7, 31, 13, 6, 4)),
            "Jul 31, 2024 1:06:04 PM"
        );
    }

    #[test]
    fn denied_messages() {
        let (c, m) = access_denied("ec2.amazonaws.com", "StopInstances", "arn:x");
        assert_eq!(c, "Client.UnauthorizedOperation");
        assert!(m.contains("ec2:StopInstances"));
        let (_, m) = access_denied(
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            "arn:x",
        );
        assert!(m.contains("lambda:UpdateFunctionCode because"), "{m}");
    }
}
