//! Static checks of PowerShell scripts, with tree-sitter's PowerShell grammar: syntax errors,
//! the script's parameters and functions, and the comment-based help that must describe them.
//! PowerShell itself cannot be installed on this project's machines; this is what can be
//! checked without it.

use tree_sitter::{Node, Parser, Tree};

/// A problem found in a script, with the line (1-based) it starts on when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub message: String,
}

/// Parses PowerShell source.
pub fn parse(src: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the grammar matches the tree-sitter version");
    parser
        .parse(src, None)
        .expect("a parser with a language always returns a tree")
}

fn walk<'t>(node: Node<'t>, visit: &mut impl FnMut(Node<'t>)) {
    visit(node);
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        walk(child, visit);
    }
}

/// Every place the grammar could not parse: ERROR nodes and tokens it had to assume (MISSING).
pub fn syntax_errors(src: &str) -> Vec<Finding> {
    let tree = parse(src);
    let mut found = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.is_error() || n.is_missing() {
            let what = if n.is_missing() {
                format!("missing {}", n.kind())
            } else {
                "syntax error".to_string()
            };
            let text: String = src[n.byte_range()].chars().take(40).collect();
            found.push(Finding {
                line: n.start_position().row + 1,
                message: format!("{what} near {text:?}"),
            });
        }
    });
    found
}

/// The names of the script's own parameters (its top-level `param(...)`), without `$`.
pub fn script_parameters(src: &str) -> Vec<String> {
    let tree = parse(src);
    let root = tree.root_node();
    let mut cursor = root.walk();
    let Some(block) = root
        .children(&mut cursor)
        .find(|n| n.kind() == "param_block")
    else {
        return Vec::new();
    };
    let mut names = Vec::new();
    walk(block, &mut |n| {
        if n.kind() == "variable" && n.parent().is_some_and(|p| p.kind() == "script_parameter") {
            names.push(src[n.byte_range()].trim_start_matches('$').to_string());
        }
    });
    names
}

/// The names of the functions the source defines.
pub fn functions(src: &str) -> Vec<String> {
    let tree = parse(src);
    let mut names = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "function_name" {
            names.push(src[n.byte_range()].to_string());
        }
    });
    names
}

/// The first block comment (`<# ... #>`) before the script's code: its comment-based help.
pub fn help(src: &str) -> Option<String> {
    let tree = parse(src);
    let root = tree.root_node();
    let mut cursor = root.walk();
    let first = root.children(&mut cursor).next()?;
    let text = &src[first.byte_range()];
    (first.kind() == "comment" && text.starts_with("<#")).then(|| text.to_string())
}

/// Whether a help block has a `.KEYWORD` line (optionally with an argument, as `.PARAMETER x`).
fn has_keyword(help: &str, keyword: &str, argument: Option<&str>) -> bool {
    help.lines().any(|line| {
        let mut words = line.split_whitespace();
        words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
            && argument.is_none_or(|a| words.next().is_some_and(|w| w.eq_ignore_ascii_case(a)))
    })
}

/// What a script promises.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// It changes the machine, so it must support -WhatIf/-Confirm.
    pub changes_machine: bool,
}

/// Every rule a script of ours must meet: it parses; it has help with a synopsis, a
/// description, an example and a `.PARAMETER` entry per parameter; it stops at the first
/// error under strict mode; and it supports -WhatIf when it changes the machine.
pub fn check_script(src: &str, expect: Expect) -> Vec<Finding> {
    let mut found = syntax_errors(src);
    let at0 = |message: String| Finding { line: 0, message };
    match help(src) {
        None => found.push(at0(
            "no comment-based help block (<# .SYNOPSIS ... #>) at the top".into(),
        )),
        Some(h) => {
            for keyword in [".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"] {
                if !has_keyword(&h, keyword, None) {
                    found.push(at0(format!("help has no {keyword}")));
                }
            }
            for p in script_parameters(src) {
                if !has_keyword(&h, ".PARAMETER", Some(&p)) {
                    found.push(at0(format!("help does not describe parameter -{p}")));
                }
            }
        }
    }
    if !src.contains("Set-StrictMode -Version Latest") {
        found.push(at0("no Set-StrictMode -Version Latest".into()));
    }
    if !src.contains("$ErrorActionPreference = 'Stop'") {
        found.push(at0(
            "errors do not stop the script ($ErrorActionPreference = 'Stop')".into(),
        ));
    }
    found.extend(remote_blocks_without_policy(src));
    if expect.changes_machine && !src.contains("SupportsShouldProcess") {
        found.push(at0(
            "changes the machine but has no [CmdletBinding(SupportsShouldProcess)] (-WhatIf)"
                .into(),
        ));
    }
    found
}

/// The script blocks given to `Invoke-Command` whose first statement (after `param`) is not
/// `Set-ExecutionPolicy -Scope Process ...`. A remote session on a stock Windows client runs
/// under the machine's policy (`Restricted` by default), which refuses every `.ps1` and
/// `.psm1` the block would run; the process scope lasts as long as the remote session.
pub fn remote_blocks_without_policy(src: &str) -> Vec<Finding> {
    let tree = parse(src);
    let mut found = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let is_invoke = n
            .child_by_field_name("command_name")
            .is_some_and(|name| src[name.byte_range()].eq_ignore_ascii_case("Invoke-Command"));
        let Some(elements) = n.child_by_field_name("command_elements") else {
            return;
        };
        if !is_invoke {
            return;
        }
        let mut blocks = Vec::new();
        walk(elements, &mut |e| {
            // Only this command's own blocks: a nested command's are visited on their own.
            if e.kind() == "script_block" && enclosing_command(e) == Some(n.id()) {
                blocks.push(e);
            }
        });
        for block in blocks {
            let first = block
                .child_by_field_name("script_block_body")
                .and_then(|body| body.child_by_field_name("statement_list"))
                .and_then(|list| list.named_child(0));
            let sets_policy = first.is_some_and(|s| {
                let words: Vec<String> = src[s.byte_range()]
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
                words.first().is_some_and(|w| w == "set-executionpolicy")
                    && words
                        .windows(2)
                        .any(|p| p[0] == "-scope" && p[1] == "process")
            });
            if !sets_policy {
                found.push(Finding {
                    line: n.start_position().row + 1,
                    message: "an Invoke-Command script block does not start with Set-ExecutionPolicy -Scope Process (a stock client's Restricted policy refuses the scripts it runs)".into(),
                });
            }
        }
    });
    found
}

/// A command call found in a script: its line, and its elements as written (parameters such as
/// `-BootedBefore` and arguments), in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub line: usize,
    pub elements: Vec<String>,
}

/// Every call of the command `name` (case-insensitive), wherever it is: at the top level, in a
/// function, or in a script block another command runs.
pub fn calls(src: &str, name: &str) -> Vec<Call> {
    let tree = parse(src);
    let mut found = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let Some(command) = n.child_by_field_name("command_name") else {
            return;
        };
        if !src[command.byte_range()].eq_ignore_ascii_case(name) {
            return;
        }
        let mut elements = Vec::new();
        if let Some(list) = n.child_by_field_name("command_elements") {
            let mut cursor = list.walk();
            for e in list.named_children(&mut cursor) {
                if e.kind() != "command_argument_sep" {
                    elements.push(src[e.byte_range()].to_string());
                }
            }
        }
        found.push(Call {
            line: n.start_position().row + 1,
            elements,
        });
    });
    found
}

/// The id of the nearest `command` node above `node`.
fn enclosing_command(node: Node<'_>) -> Option<usize> {
    let mut at = node.parent();
    while let Some(p) = at {
        if p.kind() == "command" {
            return Some(p.id());
        }
        at = p.parent();
    }
    None
}

/// The function names an `Export-ModuleMember -Function a, b, ...` statement lists.
pub fn exported_functions(src: &str) -> Vec<String> {
    let Some(start) = src.find("Export-ModuleMember -Function") else {
        return Vec::new();
    };
    let rest = &src[start + "Export-ModuleMember -Function".len()..];
    let mut names = Vec::new();
    for line in rest.lines() {
        let line = line.trim();
        names.extend(
            line.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        if !line.ends_with(',') {
            break;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "<#\n.SYNOPSIS\n  s\n.DESCRIPTION\n  d\n.PARAMETER Name\n  n\n.PARAMETER Force\n  f\n.EXAMPLE\n  x\n#>\n[CmdletBinding(SupportsShouldProcess)]\nparam([string] $Name, [switch] $Force)\nSet-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\nif ($PSCmdlet.ShouldProcess($Name, 'do')) { Write-Host \"x $($Name)\" }\n";

    #[test]
    fn calls_are_found_with_their_elements_wherever_they_are() {
        let src = "function F { Wait-VMSession -BootedBefore $t }\nInvoke-Command -ScriptBlock {\n    sc.exe start $Service\n}\nwait-vmsession\n";
        let waits = calls(src, "Wait-VMSession");
        assert_eq!(waits.len(), 2);
        assert_eq!(waits[0].elements, ["-BootedBefore", "$t"]);
        assert_eq!(waits[1].line, 5);
        assert!(waits[1].elements.is_empty());
        let sc = calls(src, "sc.exe");
        assert_eq!(sc.len(), 1);
        assert_eq!(sc[0].elements, ["start", "$Service"]);
        assert_eq!(sc[0].line, 3);
    }

    #[test]
    fn remote_blocks_must_set_the_process_policy_first() {
        let good = "Invoke-Command -Session $s -ScriptBlock {\n    param($A)\n    Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force\n    & (Join-Path $A 'x.ps1')\n} -ArgumentList $a\n";
        assert_eq!(remote_blocks_without_policy(good), []);
        let late = good.replace(
            "    Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force\n    & (Join-Path $A 'x.ps1')",
            "    & (Join-Path $A 'x.ps1')\n    Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force",
        );
        let found = remote_blocks_without_policy(&late);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 1);
        let machine = good.replace("-Scope Process", "-Scope LocalMachine");
        assert_eq!(remote_blocks_without_policy(&machine).len(), 1);
        // A script block that is not Invoke-Command's is not a remote block.
        let local = "$x = { Get-Date }\nForEach-Object -Process { $_ }\n";
        assert_eq!(remote_blocks_without_policy(local), []);
        // Two calls, one missing it, each found on its own.
        let two = format!("{good}Invoke-Command -Session $s -ScriptBlock {{ Get-Date }}\n");
        let found = remote_blocks_without_policy(&two);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 6);
    }

    #[test]
    fn a_complete_script_passes() {
        assert_eq!(script_parameters(GOOD), ["Name", "Force"]);
        assert_eq!(
            check_script(
                GOOD,
                Expect {
                    changes_machine: true
                }
            ),
            []
        );
    }

    #[test]
    fn syntax_errors_are_found_with_their_line() {
        let bad = GOOD.replace("{ Write-Host", "{ Write-Host (");
        let found = syntax_errors(&bad);
        assert!(!found.is_empty());
        assert_eq!(found[0].line, 17);
        assert!(!syntax_errors("function f {\n  if ($x -eq {\n").is_empty());
    }

    #[test]
    fn missing_help_parts_and_rules_are_found() {
        let no_param_help = GOOD.replace(".PARAMETER Force\n  f\n", "");
        let found = check_script(
            &no_param_help,
            Expect {
                changes_machine: true,
            },
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("-Force"));

        let no_whatif = GOOD.replace("SupportsShouldProcess", "");
        assert_eq!(
            check_script(
                &no_whatif,
                Expect {
                    changes_machine: true
                }
            )
            .len(),
            1
        );
        assert_eq!(
            check_script(
                &no_whatif,
                Expect {
                    changes_machine: false
                }
            ),
            []
        );

        let no_help = &GOOD[GOOD.find("#>").unwrap() + 3..];
        let found = check_script(
            no_help,
            Expect {
                changes_machine: false,
            },
        );
        assert!(found
            .iter()
            .any(|f| f.message.contains("comment-based help")));

        let loose = GOOD.replace("Set-StrictMode -Version Latest\n", "");
        assert_eq!(
            check_script(
                &loose,
                Expect {
                    changes_machine: true
                }
            )
            .len(),
            1
        );
    }

    #[test]
    fn functions_and_exports() {
        let src = "function Get-A { 1 }\nfunction Test-B { param($x) $x }\nExport-ModuleMember -Function Get-A,\n    Test-B\n$after = 1\n";
        assert_eq!(functions(src), ["Get-A", "Test-B"]);
        assert_eq!(exported_functions(src), ["Get-A", "Test-B"]);
    }
}
