//! §2.11.3: `event.kind`, `event.outcome`, `event.category`, `event.type`.
//!
//! Categories come from a fixed table keyed on the exact, case-sensitive `eventName`; an action
//! not in the table gets no category and `type: [info]`. Outcome is `failure` whenever any error
//! code or message exists (even `"200"`), except that ConsoleLogin uses its own result.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::ctx::{self, Obj};
use super::{append_error, Failure};

/// (eventName, category, types). The type order is the output array order.
const TABLE: &[(&str, &str, &[&str])] = &[
    ("AddUserToGroup", "iam", &["group", "change"]),
    ("AssumeRole", "authentication", &["info"]),
    ("AttachGroupPolicy", "iam", &["group", "change"]),
    ("AttachUserPolicy", "iam", &["user", "change"]),
    ("ChangePassword", "iam", &["user", "change"]),
    ("ConsoleLogin", "authentication", &["info"]),
    ("CreateAccessKey", "iam", &["user", "change"]),
    ("CreateBucket", "file", &["creation"]),
    ("CreateGroup", "iam", &["group", "creation"]),
    ("CreateKeyPair", "iam", &["admin", "creation"]),
    ("CreateUser", "iam", &["user", "creation"]),
    ("CreateVirtualMFADevice", "iam", &["user", "change"]),
    ("DeactivateMFADevice", "iam", &["user", "change"]),
    ("DeleteAccessKey", "iam", &["user", "change"]),
    ("DeleteBucket", "file", &["deletion"]),
    ("DeleteGroup", "iam", &["group", "deletion"]),
    ("DeleteGroupPolicy", "iam", &["group", "change"]),
    ("DeleteSSHPublicKey", "iam", &["user", "change"]),
    ("DeleteUser", "iam", &["user", "deletion"]),
    ("DeleteUserPermissionsBoundary", "iam", &["user", "change"]),
    ("DeleteUserPolicy", "iam", &["user", "change"]),
    ("DeleteVirtualMFADevice", "iam", &["user", "change"]),
    ("DetachGroupPolicy", "iam", &["group", "change"]),
    ("DetachUserPolicy", "iam", &["user", "change"]),
    ("EnableMFADevice", "iam", &["user", "change"]),
    ("GetGroup", "iam", &["group", "info"]),
    ("GetGroupPolicy", "iam", &["group", "info"]),
    ("GetUser", "iam", &["user", "info"]),
    ("GetUserPolicy", "iam", &["user", "info"]),
    ("ListAttachedGroupPolicies", "iam", &["group", "info"]),
    ("ListAttachedUserPolicies", "iam", &["user", "info"]),
    ("ListGroupPolicies", "iam", &["group", "info"]),
    ("ListGroups", "iam", &["group", "info"]),
    ("ListGroupsForUser", "iam", &["user", "info"]),
    ("ListUserPolicies", "iam", &["user", "info"]),
    ("ListUsers", "iam", &["user", "info"]),
    ("ListUserTags", "iam", &["user", "info"]),
    ("PutGroupPolicy", "iam", &["group", "change"]),
    ("PutUserPermissionsBoundary", "iam", &["user", "change"]),
    ("PutUserPolicy", "iam", &["user", "change"]),
    ("RemoveUserFromGroup", "iam", &["group", "change"]),
    ("SetDefaultPolicyVersion", "iam", &["admin", "change"]),
    (
        "SetSecurityTokenServicePreferences",
        "iam",
        &["admin", "change"],
    ),
    ("TagUser", "iam", &["user", "change"]),
    ("UntagUser", "iam", &["user", "change"]),
    ("UpdateAccessKey", "iam", &["user", "change"]),
    ("UpdateAccountPasswordPolicy", "iam", &["admin", "change"]),
    ("UpdateGroup", "iam", &["group", "change"]),
    ("UpdateLoginProfile", "iam", &["user", "change"]),
    ("UpdateRole", "iam", &["admin", "change"]),
    ("UpdateSSHPublicKey", "iam", &["user", "change"]),
    ("UpdateUser", "iam", &["user", "change"]),
    ("GetCallerIdentity", "authentication", &["info"]),
    ("DescribeInstances", "host", &["info"]),
    ("DescribeSecurityGroups", "network", &["info"]),
    ("ListBuckets", "file", &["info"]),
    ("DescribeNetworkInterfaces", "network", &["info"]),
    ("DescribeRegions", "api", &["info"]),
    ("ListRoles", "iam", &["info"]),
    ("DescribeVpcs", "network", &["info"]),
    ("DescribeNetworkAcls", "network", &["info"]),
    ("DescribeLoadBalancers", "network", &["info"]),
    ("DescribeVolumes", "host", &["info"]),
    ("DescribeTrails", "configuration", &["info"]),
    ("ListFunctions", "package", &["info"]),
    ("ListTables", "database", &["info"]),
    ("ListInstanceAssociations", "host", &["info"]),
    ("DescribeDBInstances", "database", &["info"]),
    ("AuthorizeSecurityGroupIngress", "network", &["access"]),
    ("CreateTopic", "configuration", &["creation"]),
    ("Subscribe", "configuration", &["change"]),
    ("Publish", "api", &["info"]),
    ("SendCommand", "process", &["start"]),
    ("GetPolicy", "iam", &["info"]),
    ("CreatePolicy", "iam", &["creation"]),
    ("ListAttachedRolePolicies", "iam", &["info"]),
    ("AttachRolePolicy", "iam", &["change"]),
    ("Converse", "api", &["info"]),
    ("CreateDocument", "file", &["creation"]),
    ("StartSession", "session", &["start"]),
    ("CreateControlChannel", "session", &["start"]),
    ("OpenControlChannel", "session", &["start"]),
    ("CreateDataChannel", "session", &["start"]),
    ("OpenDataChannel", "session", &["start"]),
    ("TerminateSession", "session", &["end"]),
    ("ListObjects", "file", &["info"]),
    ("HeadObject", "file", &["info"]),
    ("GetObject", "file", &["info"]),
    ("PutObject", "file", &["change"]),
    ("DeleteTrail", "configuration", &["deletion"]),
    ("DeleteObject", "file", &["deletion"]),
];

pub(crate) fn lookup(action: &str) -> Option<(&'static str, &'static [&'static str])> {
    static INDEX: OnceLock<HashMap<&'static str, (&'static str, &'static [&'static str])>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| TABLE.iter().map(|&(n, c, t)| (n, (c, t))).collect())
        .get(action)
        .copied()
}

pub(crate) fn categorize(doc: &mut Obj) {
    let strings =
        |v: &[&str]| Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect());
    let _ = ctx::set(doc, "event.kind", "event".into());
    let _ = ctx::set(doc, "event.type", strings(&["info"]));
    let failed =
        ctx::has(doc, "aws.cloudtrail.error_code") || ctx::has(doc, "aws.cloudtrail.error_message");
    let outcome = if failed { "failure" } else { "success" };
    let _ = ctx::set(doc, "event.outcome", outcome.into());
    let Some(action) = ctx::get_str(doc, "event.action").map(str::to_owned) else {
        return;
    };
    if action == "ConsoleLogin" {
        if let Some(result) = ctx::get_nn(doc, "json.responseElements.ConsoleLogin") {
            match result.as_str() {
                Some(s) => {
                    let _ = ctx::set(doc, "event.outcome", Value::String(s.to_lowercase()));
                }
                None => {
                    // Processors.lowercase on a non-string throws; the script stops here.
                    append_error(
                        doc,
                        &Failure::new("class_cast_exception")
                            .at("script", "script_add_ecs_categorization"),
                    );
                    return;
                }
            }
        }
    }
    if let Some((category, types)) = lookup(&action) {
        let _ = ctx::set(doc, "event.category", strings(&[category]));
        let _ = ctx::set(doc, "event.type", strings(types));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(TABLE.len(), 91);
        assert_eq!(
            lookup("AddUserToGroup"),
            Some(("iam", &["group", "change"][..]))
        );
        assert_eq!(lookup("DeleteObject"), Some(("file", &["deletion"][..])));
        assert_eq!(lookup("CreateFunction20150331"), None);
        assert_eq!(lookup("assumerole"), None);
    }
}
