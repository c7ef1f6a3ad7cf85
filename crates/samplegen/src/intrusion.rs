//! The rest of the attacker's day on 2024-07-31, around the log tampering in `story`:
//! discovery, a second key for the stolen user and a backdoor key for another user,
//! the weakening of GuardDuty, Config and CloudWatch, and a sweep of bucket settings.
//! These are the events Elastic's ES|QL detection rules and trailhunt's built-in hunts
//! are meant to catch (`sample/README.md` lists which rule fires on what, and when),
//! plus two look-alikes those hunts must show as benign.
//!
//! None of these calls is one of the seed hunt's four actions (StopLogging, DeleteTrail,
//! DeleteFlowLogs, DeleteResolverQueryLogConfig), so its result does not change.
//! Like the rest of the story, everything here is fixed; only request and event IDs
//! come from the PRNG, from a stream of their own.

use serde_json::{json, Value};

use crate::actors::{DEV, PROD};
use crate::event::Who;
use crate::ops::{expiration, s3_extra};
use crate::rng::Rng;
use crate::story::{call, finish, ATTACKER, ATTACKER_IP, ATTACKER_UA};
use crate::time::at;
use crate::Event;

/// The second access key the attacker creates for `svc-legacy-backup` at 13:11:05, so
/// that rotating the stolen key does not lock them out.
pub const ATTACKER_SECOND_KEY: &str = "AKIAWAFQ3ZC7VN4K8D2P";
const ATTACKER_2: Who = Who::User {
    name: "svc-legacy-backup",
    pid: "AIDAWAFQ3ZC7LGB5XK2VA",
    key: ATTACKER_SECOND_KEY,
    console: false,
};

/// The backdoor key the attacker creates for `ci-deployer` at 13:12:20. The legacy
/// user's old key-rotation statement allows `iam:CreateAccessKey` on `user/*`, not just
/// on itself.
pub const BACKDOOR_KEY: &str = "AKIAWAFQ3ZC7R5HX2LJM";
const CI_BACKDOOR: Who = Who::User {
    name: "ci-deployer",
    pid: "AIDAWAFQ3ZC7PM8RKV3TZ",
    key: BACKDOOR_KEY,
    console: false,
};

/// `ci-deployer` as it really runs: Terraform from the CI address.
const CI_DEPLOYER: Who = Who::User {
    name: "ci-deployer",
    pid: "AIDAWAFQ3ZC7PM8RKV3TZ",
    key: "AKIAWAFQ3ZC7KT4YBNW6",
    console: false,
};
const CI_IP: &str = "198.51.100.200";
const TERRAFORM_LOGS_UA: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/cloudwatchlogs#1.37.1";
const TERRAFORM_LAMBDA_UA: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/lambda#1.56.3";

const CAROL: Who = Who::Role {
    role: "AWSReservedSSO_PowerUserAccess_8a7b6c5d4e3f2a10",
    path: "aws-reserved/sso.amazonaws.com/",
    pid: "AROA3KX7PL2QM5ZC8VNBA",
    session: "carol.diaz@acme.example",
    invoked_by: None,
    ec2: false,
    mfa: false,
};

/// The GuardDuty detector of the production account in us-east-1 (background reads use it).
const PROD_DETECTOR: &str = "b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1";

/// The regions enabled by default in an account, in the order a script lists them.
const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// The production account's buckets and their regions (the background only touches a few),
/// and whether a public access block is configured.
const BUCKETS: [(&str, &str, bool); 18] = [
    ("acme-prod-app-assets", "us-east-1", true),
    ("acme-prod-reports", "us-east-1", true),
    ("acme-prod-backups-418295730164", "us-east-1", true),
    ("acme-org-cloudtrail-logs-418295730164", "us-east-1", true),
    ("acme-prod-config-418295730164", "us-east-1", true),
    ("acme-prod-alb-logs-418295730164", "us-east-1", true),
    ("acme-prod-athena-results-418295730164", "us-east-1", true),
    ("acme-prod-customer-exports", "us-east-1", false),
    ("acme-prod-data-lake-raw", "us-east-1", true),
    ("acme-prod-data-lake-curated", "us-east-1", true),
    ("acme-prod-db-snapshot-exports", "us-east-1", true),
    ("acme-prod-invoices", "us-east-1", true),
    ("acme-prod-lambda-artifacts", "us-east-1", true),
    ("acme-prod-static-site", "us-east-1", false),
    ("acme-prod-terraform-state", "us-east-1", true),
    ("acme-netops-flowlogs-debug", "us-west-2", false),
    ("acme-prod-vpc-flowlogs-418295730164", "us-west-2", true),
    ("acme-prod-ml-datasets", "eu-west-1", true),
];

/// All events of this part of the story, in no particular order.
pub fn events(seed: u64) -> Vec<Event> {
    let mut rng = Rng::fork(seed, "story-intrusion");
    let mut calls = Vec::new();
    let east = "us-east-1";
    let attacker = (ATTACKER_IP, ATTACKER_UA);
    let t = |h, m, s| at(2024, 7, 31, h, m, s);

    // --- Discovery: which regions run instances? One call per region, one per second,
    // right after the first GetCallerIdentity of the day (12:58:03).
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(12, 58, 38),
        ("ec2.amazonaws.com", "DescribeRegions"),
        attacker,
        json!({"regionSet": {}}),
        Value::Null,
    ));
    for (i, region) in REGIONS.iter().enumerate() {
        calls.push(call(
            &ATTACKER,
            (PROD, region),
            t(12, 58, 40 + i as u32),
            ("ec2.amazonaws.com", "DescribeInstances"),
            attacker,
            json!({"instancesSet": {}, "filterSet": {}}),
            Value::Null,
        ));
    }
    // Who works here? Event history names the active principals (ci-deployer among them).
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 1, 35),
        ("cloudtrail.amazonaws.com", "LookupEvents"),
        attacker,
        json!({"maxResults": 50, "lookupAttributes": [{"attributeKey": "ReadOnly",
            "attributeValue": "false"}]}),
        Value::Null,
    ));

    // --- The CIS alarms that would page someone about StopLogging go first.
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 3, 40),
        ("monitoring.amazonaws.com", "DescribeAlarms"),
        attacker,
        json!({"maxRecords": 100}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 5, 51),
        ("monitoring.amazonaws.com", "DeleteAlarms"),
        attacker,
        json!({"alarmNames": ["cis-3.5-cloudtrail-config-changes",
            "cis-3.9-config-changes"]}),
        Value::Null,
    ));

    // --- Persistence (after StopLogging at 13:06:24): a second key for the stolen user,
    // used at once, then a backdoor key for ci-deployer, tested at once.
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 10, 42),
        ("iam.amazonaws.com", "ListAccessKeys"),
        attacker,
        json!({"userName": "svc-legacy-backup"}),
        Value::Null,
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 11, 5),
        ("iam.amazonaws.com", "CreateAccessKey"),
        attacker,
        json!({"userName": "svc-legacy-backup"}),
        json!({"accessKey": {"accessKeyId": ATTACKER_SECOND_KEY, "status": "Active",
            "userName": "svc-legacy-backup", "createDate": expiration(t(13, 11, 5))}}),
    ));
    calls.push(call(
        &ATTACKER_2,
        (PROD, east),
        t(13, 11, 31),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        attacker,
        Value::Null,
        json!({"userId": "AIDAWAFQ3ZC7LGB5XK2VA", "account": PROD,
            "arn": format!("arn:aws:iam::{PROD}:user/svc-legacy-backup")}),
    ));
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 12, 20),
        ("iam.amazonaws.com", "CreateAccessKey"),
        attacker,
        json!({"userName": "ci-deployer"}),
        json!({"accessKey": {"accessKeyId": BACKDOOR_KEY, "status": "Active",
            "userName": "ci-deployer", "createDate": expiration(t(13, 12, 20))}}),
    ));
    calls.push(call(
        &CI_BACKDOOR,
        (PROD, east),
        t(13, 12, 51),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        attacker,
        Value::Null,
        json!({"userId": "AIDAWAFQ3ZC7PM8RKV3TZ", "account": PROD,
            "arn": format!("arn:aws:iam::{PROD}:user/ci-deployer")}),
    ));

    // --- Between the last DeleteFlowLogs (13:44:02) and DeleteTrail (13:52:15): GuardDuty
    // is switched off; stopping the Config recorder is refused.
    calls.push(call(
        &ATTACKER,
        (PROD, east),
        t(13, 46, 30),
        ("guardduty.amazonaws.com", "UpdateDetector"),
        attacker,
        json!({"detectorId": PROD_DETECTOR, "enable": false}),
        Value::Null,
    ));
    let mut recorder = call(
        &ATTACKER,
        (PROD, east),
        t(13, 47, 12),
        ("config.amazonaws.com", "StopConfigurationRecorder"),
        attacker,
        json!({"configurationRecorderName": "default"}),
        Value::Null,
    );
    recorder.denied = true;
    calls.push(recorder);

    // --- With the second key: which buckets are worth taking? ACL and public access
    // block of all 18 buckets within ten seconds (14:02:10 … 14:02:19), ten minutes after
    // DeleteTrail.
    calls.push(call(
        &ATTACKER_2,
        (PROD, east),
        t(14, 2, 4),
        ("s3.amazonaws.com", "ListBuckets"),
        attacker,
        json!({"Host": "s3.us-east-1.amazonaws.com"}),
        Value::Null,
    ));
    let mut i = 0u32;
    for (bucket, region, has_pab) in BUCKETS {
        for name in ["GetBucketAcl", "GetBucketPublicAccessBlock"] {
            let host = format!("{bucket}.s3.{region}.amazonaws.com");
            let req = if name == "GetBucketAcl" {
                json!({"bucketName": bucket, "Host": host, "acl": ""})
            } else {
                json!({"publicAccessBlock": "", "bucketName": bucket, "Host": host})
            };
            let mut c = call(
                &ATTACKER_2,
                (PROD, region),
                t(14, 2, 10 + i * 10 / 36),
                ("s3.amazonaws.com", name),
                attacker,
                req,
                Value::Null,
            );
            let missing = name == "GetBucketPublicAccessBlock" && !has_pab;
            if missing {
                c.error = Some((
                    "NoSuchPublicAccessBlockConfiguration".into(),
                    "The public access block configuration was not found".into(),
                ));
            }
            c.additional = Some(s3_extra(
                &mut rng,
                0,
                match (name, missing) {
                    ("GetBucketAcl", _) => 552,
                    (_, true) => 341,
                    _ => 359,
                },
            ));
            c.resources = Some(json!([{"accountId": PROD, "type": "AWS::S3::Bucket",
                "ARN": format!("arn:aws:s3:::{bucket}")}]));
            calls.push(c);
            i += 1;
        }
    }

    // --- Look-alikes, benign.
    // Terraform retires a Lambda function and its log group.
    calls.push(call(
        &CI_DEPLOYER,
        (PROD, east),
        at(2024, 7, 27, 10, 20, 11),
        ("lambda.amazonaws.com", "DeleteFunction20150331"),
        (CI_IP, TERRAFORM_LAMBDA_UA),
        json!({"functionName": "invoice-renderer-v1"}),
        Value::Null,
    ));
    calls.push(call(
        &CI_DEPLOYER,
        (PROD, east),
        at(2024, 7, 27, 10, 20, 14),
        ("logs.amazonaws.com", "DeleteLogGroup"),
        (CI_IP, TERRAFORM_LOGS_UA),
        json!({"logGroupName": "/aws/lambda/invoice-renderer-v1"}),
        Value::Null,
    ));
    // A developer makes GuardDuty publish findings less often; the detector stays enabled.
    calls.push(call(
        &CAROL,
        (DEV, "eu-west-1"),
        at(2024, 7, 25, 14, 3, 27),
        ("guardduty.amazonaws.com", "UpdateDetector"),
        ("198.51.100.61", "AWS Internal"),
        json!({"detectorId": "3ac8f1e2b4d6c8e0a2b4c6d8e0f2a4b6", "enable": true,
            "findingPublishingFrequency": "SIX_HOURS"}),
        Value::Null,
    ));

    calls.into_iter().map(|c| finish(c, &mut rng)).collect()
}
