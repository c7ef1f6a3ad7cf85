//! Names of the MITRE ATT&CK techniques the AWS hunts, rules and our own hunts cite, so a
//! finding's title can say what `T1562.008` means. Hunt files carry only the ids; rules
//! carry names too, and theirs win (see [`crate::Hunt::techniques`]).

/// `(id, name)`; a sub-technique's name is `Parent: Sub`, as ATT&CK writes it.
const TECHNIQUES: &[(&str, &str)] = &[
    ("T1021", "Remote Services"),
    ("T1021.007", "Remote Services: Cloud Services"),
    ("T1037", "Boot or Logon Initialization Scripts"),
    ("T1059", "Command and Scripting Interpreter"),
    ("T1059.004", "Command and Scripting Interpreter: Unix Shell"),
    ("T1059.009", "Command and Scripting Interpreter: Cloud API"),
    ("T1078", "Valid Accounts"),
    ("T1078.004", "Valid Accounts: Cloud Accounts"),
    ("T1087", "Account Discovery"),
    ("T1087.004", "Account Discovery: Cloud Account"),
    ("T1098", "Account Manipulation"),
    (
        "T1098.001",
        "Account Manipulation: Additional Cloud Credentials",
    ),
    ("T1098.003", "Account Manipulation: Additional Cloud Roles"),
    ("T1105", "Ingress Tool Transfer"),
    ("T1136", "Create Account"),
    ("T1136.003", "Create Account: Cloud Account"),
    ("T1485", "Data Destruction"),
    ("T1486", "Data Encrypted for Impact"),
    ("T1491", "Defacement"),
    ("T1491.002", "Defacement: External Defacement"),
    ("T1496", "Resource Hijacking"),
    ("T1526", "Cloud Service Discovery"),
    ("T1530", "Data from Cloud Storage"),
    ("T1537", "Transfer Data to Cloud Account"),
    ("T1539", "Steal Web Session Cookie"),
    ("T1546", "Event Triggered Execution"),
    (
        "T1548.005",
        "Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
    ),
    ("T1550", "Use Alternate Authentication Material"),
    (
        "T1550.001",
        "Use Alternate Authentication Material: Application Access Token",
    ),
    ("T1552", "Unsecured Credentials"),
    (
        "T1552.005",
        "Unsecured Credentials: Cloud Instance Metadata API",
    ),
    ("T1555", "Credentials from Password Stores"),
    (
        "T1555.006",
        "Credentials from Password Stores: Cloud Secrets Management Stores",
    ),
    ("T1562", "Impair Defenses"),
    ("T1562.001", "Impair Defenses: Disable or Modify Tools"),
    ("T1562.008", "Impair Defenses: Disable or Modify Cloud Logs"),
    ("T1565", "Data Manipulation"),
    ("T1565.001", "Data Manipulation: Stored Data Manipulation"),
    ("T1566.003", "Phishing: Spearphishing via Service"),
    ("T1567", "Exfiltration Over Web Service"),
    ("T1578", "Modify Cloud Compute Infrastructure"),
    (
        "T1578.002",
        "Modify Cloud Compute Infrastructure: Create Cloud Instance",
    ),
    ("T1580", "Cloud Infrastructure Discovery"),
    ("T1584.007", "Compromise Infrastructure: Serverless"),
    ("T1608", "Stage Capabilities"),
    ("T1619", "Cloud Storage Object Discovery"),
    ("T1648", "Serverless Execution"),
    ("T1651", "Cloud Administration Command"),
    ("T1660", "Phishing"),
];

/// The ATT&CK name of a technique id (`T1562.008`), when trailhunt knows it.
pub fn technique_name(id: &str) -> Option<&'static str> {
    let id = id.trim();
    TECHNIQUES
        .iter()
        .find(|(i, _)| i.eq_ignore_ascii_case(id))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_sorted_and_unique() {
        let ids: Vec<&str> = super::TECHNIQUES.iter().map(|t| t.0).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
        assert_eq!(
            super::technique_name("t1562.008"),
            Some("Impair Defenses: Disable or Modify Cloud Logs")
        );
        assert_eq!(super::technique_name("T9999"), None);
    }
}
