//! A Windows command line from a program and its arguments, as the service control manager
//! runs it (`lpBinaryPathName`): each part that holds a space (or is empty) in double quotes.
//! The relay's own arguments (paths, addresses, numbers) never hold a double quote.

/// `"exe" args...`.
pub fn command_line(exe: &str, args: &[String]) -> String {
    std::iter::once(exe.to_string())
        .chain(args.iter().cloned())
        .map(|a| {
            if a.contains(' ') || a.is_empty() {
                format!("\"{a}\"")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_with_spaces_are_quoted() {
        assert_eq!(
            command_line(
                r"C:\Program Files\rs\rsmailslot-relay.exe",
                &[
                    "--service".into(),
                    "--config".into(),
                    r"C:\cfg\relay.toml".into(),
                    "".into()
                ]
            ),
            r#""C:\Program Files\rs\rsmailslot-relay.exe" --service --config C:\cfg\relay.toml """#
        );
    }
}
