//! Every PowerShell file under scripts/ parses with the PowerShell grammar and meets the rules
//! of `pscheck::check_script`; the shared module exports exactly the functions it defines, and
//! every function the scripts call from it exists.

use std::path::PathBuf;

use pscheck::{check_script, exported_functions, functions, syntax_errors, Expect};

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

/// The scripts the README's VM flow uses, and whether each changes the machine it runs on.
const SCRIPTS: &[(&str, bool)] = &[
    ("Enable-TestSigning.ps1", true),
    ("Install-Driver.ps1", true),
    ("Uninstall-Driver.ps1", true),
    ("Deploy-VM.ps1", true),
    ("Collect-Diagnostics.ps1", false),
];

fn read(name: &str) -> String {
    std::fs::read_to_string(scripts_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_powershell_file_is_known_and_parses() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(scripts_dir()).expect("scripts/ exists") {
        let name = entry
            .expect("readable entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let lower = name.to_ascii_lowercase();
        if !(lower.ends_with(".ps1") || lower.ends_with(".psm1")) {
            continue;
        }
        let errors = syntax_errors(&read(&name));
        assert!(errors.is_empty(), "{name}: {errors:?}");
        seen.push(name);
    }
    seen.sort();
    let mut expected: Vec<String> = SCRIPTS.iter().map(|(n, _)| n.to_string()).collect();
    expected.push("RsMailslot.Common.psm1".into());
    expected.sort();
    assert_eq!(
        seen, expected,
        "a script was added or removed: list it in SCRIPTS"
    );
}

#[test]
fn every_script_has_help_strict_errors_and_whatif_where_it_changes_the_machine() {
    let mut problems = Vec::new();
    for (name, changes_machine) in SCRIPTS {
        for f in check_script(
            &read(name),
            Expect {
                changes_machine: *changes_machine,
            },
        ) {
            problems.push(format!("{name}:{}: {}", f.line, f.message));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_shared_module_exports_what_it_defines_and_scripts_call_only_that() {
    let module = read("RsMailslot.Common.psm1");
    let mut defined = functions(&module);
    let mut exported = exported_functions(&module);
    defined.sort();
    exported.sort();
    assert_eq!(defined, exported);
    for (name, _) in SCRIPTS {
        let src = read(name);
        assert!(src.contains("Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1')"), "{name} does not import the shared module");
        let own = functions(&src);
        // Any Verb-Noun call with a noun of ours must be the module's or the script's own.
        for word in src.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let ours = [
                "RsMailslot",
                "TestSigning",
                "Administrator",
                "PackageFile",
                "CertificateTrusted",
                "ServiceState",
            ];
            if word.contains('-')
                && ours
                    .iter()
                    .any(|n| word.ends_with(n) || word.contains(&format!("-{n}")))
            {
                let verb = word.split('-').next().unwrap_or("");
                let is_command =
                    ["Get", "Test", "Assert", "Resolve", "Wait", "Add", "New"].contains(&verb);
                if is_command && !word.ends_with(".ps1") {
                    assert!(
                        defined.iter().any(|d| d == word) || own.iter().any(|d| d == word),
                        "{name} calls {word}, which neither it nor the module defines"
                    );
                }
            }
        }
    }
}

#[test]
fn install_accepts_its_own_package_again_and_dates_in_utc() {
    let install = read("Install-Driver.ps1");
    // pnputil's 259: this very package (same DriverVer) is a redeploy, not an error; another
    // build that outranks it is refused with what to do.
    assert!(
        install.contains("if ($code -eq 259)"),
        "pnputil's 259 is not handled"
    );
    assert!(
        install.contains("DriverVer"),
        "259 is not compared with the package's DriverVer"
    );
    assert!(install.contains("Uninstall-Driver.ps1, then run this again"));
    // The DriverVer date is UTC: Inf2Cat must check it against UTC (its default).
    for (name, _) in SCRIPTS {
        assert!(
            !read(name).to_ascii_lowercase().contains("/uselocaltime"),
            "{name} runs Inf2Cat with /uselocaltime"
        );
    }
    // Dates printed for comparison do not depend on the VM's culture.
    assert!(install.contains("InvariantCulture"));
}

#[test]
fn deploy_runs_the_32_bit_harness_too() {
    let deploy = read("Deploy-VM.ps1");
    assert!(deploy.contains("'usermode-test-x86.exe'"));
    assert!(deploy.contains("'rsmailslot', 'rsmailslot-x86', 'rsmailslot-user' | Where-Object"));
}

#[test]
fn every_remote_block_of_deploy_is_seen_by_the_policy_rule() {
    let deploy = read("Deploy-VM.ps1");
    assert_eq!(pscheck::remote_blocks_without_policy(&deploy), []);
    // Without the policy lines, each Invoke-Command block is reported.
    let stripped: String = deploy
        .lines()
        .filter(|l| {
            !l.trim_start()
                .starts_with("Set-ExecutionPolicy -Scope Process")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let blocks = deploy.matches("Invoke-Command -Session").count();
    assert!(blocks >= 6, "{blocks} Invoke-Command calls");
    assert_eq!(
        pscheck::remote_blocks_without_policy(&stripped).len(),
        blocks
    );
}

#[test]
fn deploy_waits_for_a_new_boot_and_starts_an_installed_service() {
    let deploy = read("Deploy-VM.ps1");
    // Every wait after a restart names the boot it waits to see replaced, and the boot time is
    // read before the restart and again in the wait.
    let waits = pscheck::calls(&deploy, "Wait-VMSession");
    assert!(!waits.is_empty());
    for w in &waits {
        assert!(
            w.elements
                .iter()
                .any(|e| e.eq_ignore_ascii_case("-BootedBefore")),
            "Deploy-VM.ps1:{}: Wait-VMSession without -BootedBefore",
            w.line
        );
    }
    let boot_reads = pscheck::calls(&deploy, "Get-BootTime");
    assert!(boot_reads.len() >= 2, "{boot_reads:?}");
    assert!(deploy.contains("LastBootUpTime"));
    // -SkipInstall (the Driver Verifier recipe) still loads the demand-start driver: the one
    // `sc.exe start` of the script is in its branch.
    let starts: Vec<_> = pscheck::calls(&deploy, "sc.exe")
        .into_iter()
        .filter(|c| c.elements.first().is_some_and(|e| e == "start"))
        .collect();
    assert_eq!(starts.len(), 1, "{starts:?}");
    let skip_line = deploy
        .lines()
        .position(|l| l.contains("} elseif ($SkipInstall"))
        .expect("-SkipInstall has its own branch")
        + 1;
    assert!(starts[0].line > skip_line);
    // Secure Boot is read from the host, where it can be turned off.
    let firmware = pscheck::calls(&deploy, "Get-VMFirmware");
    assert_eq!(firmware.len(), 1);
}

#[test]
fn the_readme_calls_the_scripts_with_parameters_they_have() {
    let readme = std::fs::read_to_string(scripts_dir().join("../README.md")).unwrap();
    let common = ["whatif", "confirm", "verbose"];
    let mut checked = 0;
    for (name, _) in SCRIPTS {
        let params: Vec<String> = pscheck::script_parameters(&read(name))
            .iter()
            .map(|p| p.to_ascii_lowercase())
            .collect();
        for line in readme.lines() {
            let Some(at) = line.find(name) else { continue };
            // The command as written: up to the end of its code span or comment.
            let rest = &line[at + name.len()..];
            let rest = rest.split(['`', '#', ':']).next().unwrap_or("");
            for word in rest.split_whitespace() {
                let Some(p) = word.strip_prefix('-') else {
                    continue;
                };
                if !p.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    continue;
                }
                let p = p.to_ascii_lowercase();
                assert!(
                    params.contains(&p) || common.contains(&p.as_str()),
                    "README calls {name} with -{p}, which it does not have: {line}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "only {checked} parameters found in README");
}

#[test]
fn diagnostics_and_certificates_on_a_stock_machine() {
    let diag = read("Collect-Diagnostics.ps1");
    let first_output = diag
        .find("New-Item -ItemType Directory")
        .expect("an output folder");
    let refuse = diag
        .find("if (-not (Test-Administrator)) {\n    throw")
        .expect("refuses when not elevated");
    assert!(refuse < first_output, "refuses before writing anything");
    for wanted in ["setupapi.dev.log", "sc.exe qc", "\\Parameters\\Wdf"] {
        assert!(
            diag.contains(wanted),
            "Collect-Diagnostics.ps1 lacks {wanted}"
        );
    }
    // Uninstall finds the test certificate by the subject build-driver.sh gives it.
    let module = read("RsMailslot.Common.psm1");
    let build = std::fs::read_to_string(scripts_dir().join("../tools/build-driver.sh")).unwrap();
    let subject = build
        .split("-subj \"/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("build-driver.sh names the certificate's subject");
    assert!(module.contains(&format!("$script:TestCertificateSubject = '{subject}'")));
    assert!(
        read("Uninstall-Driver.ps1").contains("Where-Object Subject -EQ $names.TestCertificate")
    );
    assert!(read("Enable-TestSigning.ps1").contains("Suspend-BitLocker"));
}

#[test]
fn install_uses_the_package_catalog_and_makes_one_only_when_asked() {
    let install = read("Install-Driver.ps1");
    assert!(install.contains("[switch] $MakeCatalog"));
    assert!(
        install.contains("if (-not $MakeCatalog -and -not (Test-Path -LiteralPath $catalog)) {")
    );
    // Inf2Cat and New-FileCatalog run only inside the -MakeCatalog branch (the help above
    // the code names them too).
    let code = &install[install.find("#>").expect("help ends")..];
    let branch = code
        .find("if ($MakeCatalog) {")
        .expect("a -MakeCatalog branch");
    for tool in ["$inf2cat /driver:", "New-FileCatalog"] {
        let at = code.find(tool).unwrap_or_else(|| panic!("{tool} missing"));
        assert!(at > branch, "{tool} runs outside -MakeCatalog");
    }
    assert!(read("Deploy-VM.ps1").contains("$names.Catalog, 'rsmailslot.cer'"));
}

#[test]
fn deploy_runs_the_table_as_a_standard_user_too() {
    let deploy = read("Deploy-VM.ps1");
    let start = deploy
        .find("run usermode-test.exe as the standard user")
        .expect("a standard-user run");
    let block = &deploy[start..];
    // A local account in BUILTIN\\Users only, a limited (unelevated) task, removed after.
    assert!(block.contains("New-LocalUser -Name $User"));
    assert!(block.contains("Add-LocalGroupMember -SID 'S-1-5-32-545'"));
    assert!(block.contains("-RunLevel Limited"));
    let finally = block.find("} finally {").expect("cleanup");
    assert!(block[finally..].contains("Remove-LocalUser -Name $User"));
    // Its failures fail the deployment.
    assert!(deploy.contains("'rsmailslot-user' | Where-Object"));
}
