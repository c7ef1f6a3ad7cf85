//! The scripted events the sample exists for: log tampering in the production
//! account, plus look-alikes an analyst must tell apart from it. Every event
//! here is fixed (times, names, IDs) so `sample/README.md` can state the
//! seed hunt's exact result; only request/event IDs come from the PRNG.

use serde_json::{json, Value};

use crate::actors::{DEV, PROD};
use crate::event::{render, Spec, Who};
use crate::ops::access_denied;
use crate::rng::Rng;
use crate::time::at;
use crate::Event;

/// The compromised principal: a legacy IAM user whose long-term key normally
/// runs nightly backups from `54.152.88.19`.
pub const ATTACKER: Who = Who::User {
    name: "svc-legacy-backup",
    pid: "AIDAWAFQ3ZC7LGB5XK2VA",
    key: "AKIAWAFQ3ZC7JZ3H6QFE",
    console: false,
};
pub const ATTACKER_IP: &str = "203.0.113.77";
pub const ATTACKER_UA: &str = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.8.11-amd64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144 kali";

const NETOPS: Who = Who::Role {
    role: "netops-terraform",
    path: "",
    pid: "AROAWAFQ3ZC7N4BT6WJXD",
    session: "terraform-netops",
    invoked_by: None,
    ec2: false,
    mfa: false,
};
const NETOPS_IP: &str = "198.51.100.200";
const TERRAFORM_UA: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.168.0";

const DAVE: Who = Who::Role {
    role: "AWSReservedSSO_ReadOnlyAccess_5e1f0c2a9b7d4e31",
    path: "aws-reserved/sso.amazonaws.com/",
    pid: "AROAWAFQ3ZC7HJ6T9BWQA",
    session: "dave.okafor@acme.example",
    invoked_by: None,
    ec2: false,
    mfa: false,
};

const KUMAR: Who = Who::User {
    name: "dev.kumar",
    pid: "AIDA3KX7PL2QWE9RTY5UI",
    key: "AKIA3KX7PL2QB4N8C6VD",
    console: false,
};
const KUMAR_UA: &str = "aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#cloudtrail";

const ALICE: Who = Who::User {
    name: "alice.nguyen",
    pid: "AIDAWAFQ3ZC7NLR4YH2KE",
    key: "AKIAWAFQ3ZC7OQ5D2XNM",
    console: true,
};

const EC2_XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// One scripted call; `finish` renders it.
pub(crate) struct Call {
    pub who: Who,
    pub account: &'static str,
    pub region: &'static str,
    pub time: i64,
    pub source: &'static str,
    pub name: &'static str,
    pub ip: &'static str,
    pub agent: &'static str,
    pub req: Value,
    pub resp: Value,
    pub read_only: bool,
    pub denied: bool,
    /// Another error than AccessDenied: (errorCode, errorMessage).
    pub error: Option<(String, String)>,
    /// `resources` and `additionalEventData` (S3 calls carry both).
    pub resources: Option<Value>,
    pub additional: Option<Value>,
    pub management: bool,
}

/// Whether CloudTrail marks an API `readOnly` (reads are Describe/Get/List/Lookup/Head).
pub(crate) fn is_read(name: &str) -> bool {
    ["Describe", "Get", "List", "Lookup", "Head"]
        .iter()
        .any(|p| name.starts_with(p))
}

pub(crate) fn call(
    who: &Who,
    (account, region): (&'static str, &'static str),
    time: i64,
    (source, name): (&'static str, &'static str),
    (ip, agent): (&'static str, &'static str),
    req: Value,
    resp: Value,
) -> Call {
    Call {
        who: who.clone(),
        account,
        region,
        time,
        source,
        name,
        ip,
        agent,
        req,
        resp,
        read_only: is_read(name),
        denied: false,
        error: None,
        resources: None,
        additional: None,
        management: true,
    }
}

fn delete_flow_logs(id: &str, rng: &mut Rng) -> (Value, Value) {
    (
        json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": id, "tag": 1}}}),
        json!({"DeleteFlowLogsResponse": {"requestId": rng.uuid(), "unsuccessful": "",
            "xmlns": EC2_XMLNS}}),
    )
}

fn rqlc(account: &str, region: &str, id: &str, name: &str, status: &str, created: &str) -> Value {
    json!({"resolverQueryLogConfig": {
        "id": id, "ownerId": account, "status": status, "shareStatus": "NOT_SHARED",
        "associationCount": 0,
        "arn": format!("arn:aws:route53resolver:{region}:{account}:resolver-query-log-config/{id}"),
        "name": name,
        "destinationArn": format!("arn:aws:logs:{region}:{account}:log-group:/aws/route53/{name}"),
        "creatorRequestId": "", "creationTime": created}})
}

/// All story events, in no particular order.
pub fn events(seed: u64) -> Vec<Event> {
    let mut rng = Rng::fork(seed, "story");
    let mut calls = Vec::new();
    let east = "us-east-1";
    let attacker = (ATTACKER_IP, ATTACKER_UA);
    let attacker_arn = ATTACKER.arn(PROD);
    let whoami = json!({"userId": "AIDAWAFQ3ZC7LGB5XK2VA", "account": PROD, "arn": attacker_arn});
    let prod_trail = format!("arn:aws:cloudtrail:us-east-1:{PROD}:trail/prod-security-trail");

    // --- Tampering, 2024-07-31, by svc-legacy-backup from an unusual IP/UA.
    // The key was first tested the evening before.
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 30, 22, 14, 9),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        attacker,
        Value::Null,
        whoami.clone(),
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 12, 58, 3),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        attacker,
        Value::Null,
        whoami,
    ));
    let mut probe = call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 12, 59, 41),
        ("iam.amazonaws.com", "ListUsers"),
        attacker,
        json!({"maxItems": 100}),
        Value::Null,
    );
    probe.denied = true;
    calls.push(probe);
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 1, 17),
        ("cloudtrail.amazonaws.com", "DescribeTrails"),
        attacker,
        json!({"trailNameList": [], "includeShadowTrails": true}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 1, 52),
        ("cloudtrail.amazonaws.com", "GetTrailStatus"),
        attacker,
        json!({"name": prod_trail}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 2, 30),
        ("ec2.amazonaws.com", "DescribeFlowLogs"),
        attacker,
        json!({"DescribeFlowLogsRequest": {"MaxResults": 1000}}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, "us-west-2"),
        at(2024, 7, 31, 13, 2, 58),
        ("ec2.amazonaws.com", "DescribeFlowLogs"),
        attacker,
        json!({"DescribeFlowLogsRequest": {"MaxResults": 1000}}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 3, 5),
        (
            "route53resolver.amazonaws.com",
            "ListResolverQueryLogConfigs",
        ),
        attacker,
        json!({"maxResults": 100}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 6, 24),
        ("cloudtrail.amazonaws.com", "StopLogging"),
        attacker,
        json!({"name": prod_trail}),
        Value::Null,
    ));
    let (req, resp) = delete_flow_logs("fl-0d2c4b6a8e1f3a5c7", &mut rng);
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 21, 7),
        ("ec2.amazonaws.com", "DeleteFlowLogs"),
        attacker,
        req,
        resp,
    ));
    let (req, resp) = delete_flow_logs("fl-03b5d7f9a1c2e4b68", &mut rng);
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 21, 39),
        ("ec2.amazonaws.com", "DeleteFlowLogs"),
        attacker,
        req,
        resp,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 34, 48),
        (
            "route53resolver.amazonaws.com",
            "DeleteResolverQueryLogConfig",
        ),
        attacker,
        json!({"resolverQueryLogConfigId": "rqlc-5b8e2c4f1a7d3906"}),
        rqlc(
            PROD,
            east,
            "rqlc-5b8e2c4f1a7d3906",
            "prod-vpc-dns-logs",
            "DELETING",
            "2023-11-02T09:41:17.052139447Z",
        ),
    ));
    let (req, resp) = delete_flow_logs("fl-09a8b7c6d5e4f3a21", &mut rng);
    calls.push(call(
        &ATTACKER,
        (PROD, "us-west-2"),
        at(2024, 7, 31, 13, 44, 2),
        ("ec2.amazonaws.com", "DeleteFlowLogs"),
        attacker,
        req,
        resp,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        at(2024, 7, 31, 13, 52, 15),
        ("cloudtrail.amazonaws.com", "DeleteTrail"),
        attacker,
        json!({"name": "prod-security-trail"}),
        Value::Null,
    ));

    // --- A refused StopLogging by a read-only SSO user, two days earlier.
    let mut refused = call(
        &DAVE,
        (PROD, east),
        at(2024, 7, 29, 10, 47, 33),
        ("cloudtrail.amazonaws.com", "StopLogging"),
        ("198.51.100.88", "AWS Internal"),
        json!({"name": prod_trail}),
        Value::Null,
    );
    refused.denied = true;
    calls.push(refused);

    // --- Benign: netops creates a debug flow log, removes it the next day.
    let netops = (NETOPS_IP, TERRAFORM_UA);
    calls.push(call(&NETOPS, (PROD, "us-west-2"), at(2024, 7, 29, 9, 14, 2),
        ("ec2.amazonaws.com", "CreateFlowLogs"), netops,
        json!({"CreateFlowLogsRequest": {"ResourceId": {"content": "vpc-04e8d2b1a7c3f5061", "tag": 1},
            "ResourceType": "VPC", "TrafficType": "REJECT", "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::acme-netops-flowlogs-debug",
            "MaxAggregationInterval": 60,
            "ClientToken": "terraform-20240729091401638200000001",
            "TagSpecification": {"ResourceType": "vpc-flow-log", "tag": 1,
                "Tag": {"Key": "ticket", "Value": "NET-2291", "tag": 1}}}}),
        json!({"CreateFlowLogsResponse": {"xmlns": EC2_XMLNS, "requestId": rng.uuid(),
            "flowLogIdSet": {"item": "fl-0f1e2d3c4b5a69788"}, "unsuccessful": "",
            "clientToken": "terraform-20240729091401638200000001"}})));
    let (req, resp) = delete_flow_logs("fl-0f1e2d3c4b5a69788", &mut rng);
    calls.push(call(
        &NETOPS,
        (PROD, "us-west-2"),
        at(2024, 7, 30, 16, 40, 55),
        ("ec2.amazonaws.com", "DeleteFlowLogs"),
        netops,
        req,
        resp,
    ));

    // --- Benign: the nightly netops cleanup job, exactly on the 7-day
    // boundary relative to --now 2024-08-02T00:00:00Z. The first call is at
    // now - 7 days (excluded: the filter is strict), the second one second
    // later (included).
    let (req, resp) = delete_flow_logs("fl-0c4e6a8b2d1f3e5a7", &mut rng);
    calls.push(call(
        &NETOPS,
        (PROD, east),
        at(2024, 7, 26, 0, 0, 0),
        ("ec2.amazonaws.com", "DeleteFlowLogs"),
        netops,
        req,
        resp,
    ));
    calls.push(call(
        &NETOPS,
        (PROD, east),
        at(2024, 7, 26, 0, 0, 1),
        (
            "route53resolver.amazonaws.com",
            "DeleteResolverQueryLogConfig",
        ),
        netops,
        json!({"resolverQueryLogConfigId": "rqlc-0e9d8c7b6a5f4e3d"}),
        rqlc(
            PROD,
            east,
            "rqlc-0e9d8c7b6a5f4e3d",
            "tmp-dns-debug-net2274",
            "DELETING",
            "2024-07-22T14:05:33.918274610Z",
        ),
    ));

    // --- Benign: a developer tries out a trail in the dev account and removes it.
    let kumar = ("192.0.2.14", KUMAR_UA);
    let dev_trail = format!("arn:aws:cloudtrail:eu-west-1:{DEV}:trail/kumar-test-trail");
    calls.push(call(
        &KUMAR,
        (DEV, "eu-west-1"),
        at(2024, 7, 28, 10, 12, 9),
        ("cloudtrail.amazonaws.com", "CreateTrail"),
        kumar,
        json!({"name": "kumar-test-trail", "s3BucketName": "acme-dev-scratch",
            "includeGlobalServiceEvents": true, "isMultiRegionTrail": false,
            "enableLogFileValidation": false, "isOrganizationTrail": false}),
        json!({"name": "kumar-test-trail", "s3BucketName": "acme-dev-scratch",
            "includeGlobalServiceEvents": true, "isMultiRegionTrail": false,
            "trailARN": dev_trail, "logFileValidationEnabled": false,
            "isOrganizationTrail": false}),
    ));
    calls.push(call(
        &KUMAR,
        (DEV, "eu-west-1"),
        at(2024, 7, 28, 10, 12, 40),
        ("cloudtrail.amazonaws.com", "StartLogging"),
        kumar,
        json!({"name": "kumar-test-trail"}),
        Value::Null,
    ));
    calls.push(call(
        &KUMAR,
        (DEV, "eu-west-1"),
        at(2024, 7, 28, 15, 30, 12),
        ("cloudtrail.amazonaws.com", "StopLogging"),
        kumar,
        json!({"name": "kumar-test-trail"}),
        Value::Null,
    ));
    calls.push(call(
        &KUMAR,
        (DEV, "eu-west-1"),
        at(2024, 7, 28, 15, 31, 2),
        ("cloudtrail.amazonaws.com", "DeleteTrail"),
        kumar,
        json!({"name": "kumar-test-trail"}),
        Value::Null,
    ));

    // --- Old history outside the hunt's window: an admin removes a legacy trail.
    calls.push(call(
        &ALICE,
        (PROD, east),
        at(2024, 7, 20, 14, 22, 51),
        ("cloudtrail.amazonaws.com", "DeleteTrail"),
        ("198.51.100.23", "console.amazonaws.com"),
        json!({"name": "legacy-trail-2019"}),
        Value::Null,
    ));

    let mut out: Vec<Event> = calls.into_iter().map(|c| finish(c, &mut rng)).collect();
    // The rest of the attacker's day, with its own PRNG stream so the events above keep
    // their IDs.
    out.extend(crate::intrusion::events(seed));
    out
}

pub(crate) fn finish(c: Call, rng: &mut Rng) -> Event {
    let arn = c.who.arn(c.account).unwrap_or_default();
    let session_start = c.time - 600;
    let temp_key = format!("ASIA{}", rng.upper(16));
    let error = c.denied.then(|| {
        let (code, msg) = access_denied(c.source, c.name, &arn);
        if c.name == "StopLogging" {
            // CloudTrail names the resource in its denial message.
            let msg = msg.replace(
                " because",
                &format!(
                    " on resource: {} because",
                    c.req["name"].as_str().unwrap_or("")
                ),
            );
            (code, msg)
        } else {
            (code, msg)
        }
    });
    let error = error.or(c.error);
    let spec = Spec {
        time: c.time,
        identity: c.who.identity(c.account, session_start, &temp_key),
        account: c.account,
        region: c.region,
        source: c.source,
        name: c.name,
        ip: c.ip.to_string(),
        agent: c.agent.to_string(),
        resp: if error.is_some() { Value::Null } else { c.resp },
        error,
        req: c.req,
        additional: c.additional,
        read_only: c.read_only,
        resources: c.resources,
        event_type: "AwsApiCall",
        management: c.management,
        shared_event_id: false,
        vpce: None,
        console: c.who.console() || c.agent == "AWS Internal",
    };
    Event::new(&spec, render(&spec, rng))
}
