//! Host test: `inf/rsmailslot.inf` is well formed for a primitive driver and names the same
//! binary, service and device as the driver.

use std::collections::BTreeMap;

use crate::names;

const INF: &str = include_str!("../../inf/rsmailslot.inf");

/// Sections in order of appearance, each a list of `(key, value)`; a line without `=` has an
/// empty key. Comments and blank lines are dropped; keys and section names keep their case
/// (INF matching is case-insensitive, so lookups lowercase both sides).
fn parse(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (String::new(), line.to_string()),
        };
        sections
            .last_mut()
            .expect("an entry before any section")
            .1
            .push((key, value));
    }
    sections
}

/// Drops a `;` comment that is not inside double quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

struct Inf {
    sections: BTreeMap<String, Vec<(String, String)>>,
}

impl Inf {
    fn load() -> Inf {
        let parsed = parse(INF);
        let mut sections = BTreeMap::new();
        for (name, entries) in parsed {
            assert!(
                sections
                    .insert(name.to_ascii_lowercase(), entries)
                    .is_none(),
                "section [{name}] appears twice"
            );
        }
        Inf { sections }
    }

    fn section(&self, name: &str) -> &[(String, String)] {
        self.sections
            .get(&name.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("section [{name}] is missing"))
    }

    fn value(&self, section: &str, key: &str) -> String {
        let found: Vec<_> = self
            .section(section)
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .collect();
        assert_eq!(found.len(), 1, "[{section}] must have exactly one {key}");
        found[0].1.clone()
    }

    fn string(&self, token: &str) -> String {
        let key = token.trim_matches('%');
        self.value("Strings", key).trim_matches('"').to_string()
    }
}

#[test]
fn version_section_is_complete_for_a_primitive_driver() {
    let inf = Inf::load();
    assert_eq!(inf.value("Version", "Signature"), "\"$WINDOWS NT$\"");
    assert_eq!(inf.value("Version", "Class"), "SoftwareComponent");
    assert_eq!(
        inf.value("Version", "ClassGuid").to_ascii_lowercase(),
        "{5c4c3332-344d-483c-8739-259e934c9cc8}"
    );
    assert!(!inf.string(&inf.value("Version", "Provider")).is_empty());
    assert_eq!(inf.value("Version", "PnpLockDown"), "1");
    let driver_ver = inf.value("Version", "DriverVer");
    let (date, version) = driver_ver
        .split_once(',')
        .expect("DriverVer = date,version");
    assert_eq!(date.split('/').count(), 3);
    assert_eq!(version.split('.').count(), 4);
}

#[test]
fn primitive_driver_rules() {
    let inf = Inf::load();
    assert!(
        !inf.sections.contains_key("manufacturer"),
        "a primitive driver has no [Manufacturer]"
    );
    assert!(
        !inf.sections.contains_key("defaultinstall"),
        "only decorated DefaultInstall sections"
    );
    // Primitive drivers need no uninstall section (Windows 10 1903 and later remove the
    // package themselves), and a DelFiles reusing the CopyFiles section is not allowed.
    assert!(
        !inf.sections
            .keys()
            .any(|s| s.starts_with("defaultuninstall")),
        "no DefaultUninstall section"
    );
    // Every install section is decorated with build 19041: the first with ExAllocatePool2,
    // and at least the 16299 InfVerif requires for DIRID 13 in DefaultInstall.
    let installs: Vec<&String> = inf
        .sections
        .keys()
        .filter(|s| s.starts_with("defaultinstall"))
        .collect();
    assert_eq!(
        installs,
        [
            INSTALL.to_ascii_lowercase(),
            format!("{INSTALL}.services").to_ascii_lowercase()
        ]
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(inf.value(INSTALL, "CopyFiles"), "RsMailslot.Files");
    assert_eq!(inf.value("DestinationDirs", "DefaultDestDir"), "13");
}

/// The install section, decorated for x64 Windows 10 build 19041 and later.
const INSTALL: &str = "DefaultInstall.NTamd64.10.0...19041";

#[test]
fn the_decoration_names_the_build_that_has_every_import() {
    // TargetOSVersion: NT<arch>.<major>.<minor>.<product type>.<suite mask>.<build>.
    let fields: Vec<&str> = INSTALL.split('.').collect();
    assert_eq!(
        fields,
        ["DefaultInstall", "NTamd64", "10", "0", "", "", "19041"]
    );
    // ExAllocatePool2 is the import that needs 19041 (Windows 10 version 2004).
    let imports = include_str!("../allowed-imports.txt");
    assert!(imports.lines().any(|l| l == "ntoskrnl.exe!ExAllocatePool2"));
}

#[test]
fn every_referenced_section_and_string_exists() {
    let inf = Inf::load();
    for list_key in ["CopyFiles", "DelFiles"] {
        for (section, entries) in &inf.sections {
            for (_, files) in entries
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(list_key))
            {
                for target in files.split(',') {
                    inf.section(target.trim());
                    let _ = section;
                }
            }
        }
    }
    let add = inf.value(&format!("{INSTALL}.Services"), "AddService");
    let fields: Vec<&str> = add.split(',').map(str::trim).collect();
    inf.section(fields[2]);
    for entries in inf.sections.values() {
        for (_, value) in entries {
            let mut rest = value.as_str();
            while let Some(start) = rest.find('%') {
                let after = &rest[start + 1..];
                let end = after.find('%').expect("unbalanced %");
                let token = &after[..end];
                if !token.chars().all(|c| c.is_ascii_digit()) {
                    inf.string(token);
                }
                rest = &after[end + 1..];
            }
        }
    }
}

#[test]
fn names_match_the_driver() {
    let inf = Inf::load();
    let add = inf.value(&format!("{INSTALL}.Services"), "AddService");
    let service = add.split(',').next().unwrap().trim();
    assert_eq!(service, names::SERVICE_NAME);
    assert_eq!(inf.section("SourceDisksFiles")[0].0, names::BINARY_NAME);
    assert_eq!(inf.section("RsMailslot.Files")[0].1, names::BINARY_NAME);
    let binary = inf.value("RsMailslot.Service", "ServiceBinary");
    assert_eq!(binary, format!("%13%\\{}", names::BINARY_NAME));
    assert_eq!(
        inf.value("RsMailslot.Service", "ServiceType"),
        "1",
        "a kernel driver"
    );
    assert_eq!(
        inf.value("RsMailslot.Service", "StartType"),
        "3",
        "demand start"
    );
    let description = inf.string(&inf.value("RsMailslot.Service", "Description"));
    assert!(description.contains(names::DEVICE_NAME), "{description}");
    let link = names::SYMBOLIC_LINK.trim_start_matches("\\DosDevices\\");
    assert!(
        description.contains(&format!("\\\\.\\{link}\\")),
        "{description}"
    );
}

#[test]
fn the_scripts_use_the_same_names() {
    // scripts/RsMailslot.Common.psm1 holds the names every install script uses.
    const MODULE: &str = include_str!("../../scripts/RsMailslot.Common.psm1");
    let value = |var: &str| {
        let line = MODULE
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("$script:{var} =")))
            .unwrap_or_else(|| panic!("$script:{var} not set"));
        line.split('\'').nth(1).expect("a quoted value").to_string()
    };
    assert_eq!(value("ServiceName"), names::SERVICE_NAME);
    assert_eq!(value("SysName"), names::BINARY_NAME);
    assert_eq!(value("InfName"), "rsmailslot.inf");
    let inf = Inf::load();
    assert_eq!(value("CatalogName"), inf.value("Version", "CatalogFile"));
}
