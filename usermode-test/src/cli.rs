//! Command line of usermode-test.exe.

/// Where the mailslots under test live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// `native`, `rsmailslot`, or the prefix as given.
    pub label: String,
    /// Win32 prefix, ending in a backslash: `\\.\mailslot\`.
    pub win32: String,
    /// The same place as an NT path, ending in a backslash: `\??\MAILSLOT\`.
    pub nt: String,
    /// The device's own NT name with a trailing backslash (`\Device\MailSlot\`), when known;
    /// rows about the object manager's name limits need it.
    pub device: Option<String>,
}

impl Namespace {
    /// `native`, `rsmailslot`, or a Win32 prefix of the form `\\.\<name>\` (a trailing
    /// backslash is added when missing).
    pub fn parse(text: &str) -> Result<Namespace, String> {
        match text.to_ascii_lowercase().as_str() {
            "native" => Ok(Namespace {
                label: "native".into(),
                win32: r"\\.\mailslot\".into(),
                nt: r"\??\MAILSLOT\".into(),
                device: Some(r"\Device\MailSlot\".into()),
            }),
            "rsmailslot" => Ok(Namespace {
                label: "rsmailslot".into(),
                win32: r"\\.\RsMailslot\".into(),
                nt: r"\??\RsMailslot\".into(),
                device: Some(r"\Device\RsMailslot\".into()),
            }),
            _ => {
                let rest = text
                    .strip_prefix(r"\\.\")
                    .ok_or_else(|| format!("namespace {text:?}: expected native, rsmailslot or a prefix like \\\\.\\mailslot\\sub\\"))?;
                let rest = rest.trim_end_matches('\\');
                if rest.is_empty() {
                    return Err(format!("namespace {text:?}: the prefix names no device"));
                }
                Ok(Namespace {
                    label: text.to_string(),
                    win32: format!(r"\\.\{rest}\"),
                    nt: format!(r"\??\{rest}\"),
                    device: None,
                })
            }
        }
    }

    /// True for the driver's own namespace, where observe rows check our documented choices.
    pub fn is_rsmailslot(&self) -> bool {
        self.label == "rsmailslot"
    }
}

/// Which list of known host divergences applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Wine's list when running under Wine against the native namespace, none otherwise.
    Auto,
    Wine,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub namespace: Namespace,
    pub filters: Vec<String>,
    pub list: bool,
    pub json: Option<String>,
    pub bench: bool,
    /// Messages per benchmark case; `None` uses the defaults per size.
    pub bench_messages: Option<u32>,
    pub known: Known,
    pub help: bool,
}

pub const USAGE: &str = "\
usage: usermode-test.exe [--namespace native|rsmailslot|\\\\.\\<prefix>\\] [--filter TEXT[,TEXT...]]
                         [--list] [--json FILE] [--known auto|wine|none]
       usermode-test.exe --bench [--namespace ...] [--messages N]

  --namespace  where the mailslots live: native (\\\\.\\mailslot\\, Windows' MSFS),
               rsmailslot (\\\\.\\RsMailslot\\, the rsmailslot driver), or any Win32 prefix
  --filter     run only rows whose id or title contains one of the texts (case-insensitive)
  --list       print the rows (id, level, kind, expected result, source) and run nothing
  --json       also write the results to FILE as JSON
  --known      list of known host divergences to apply: auto (Wine's under Wine against
               native), wine, none
  --bench      messages per second and latency percentiles for 64 B, 424 B and 64 KiB
               messages with one and four writers, instead of the table
  --messages   messages per benchmark case (default 20000, 2000 for 64 KiB)

The closing line reads `N passed, N failed, N skipped, N known divergences, N observed`;
the exit code is 0 when nothing failed, 1 when a row failed, 2 for a usage error.";

impl Options {
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Options, String> {
        let mut opts = Options {
            namespace: Namespace::parse("native")?,
            filters: Vec::new(),
            list: false,
            json: None,
            bench: false,
            bench_messages: None,
            known: Known::Auto,
            help: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--namespace" => opts.namespace = Namespace::parse(&value("--namespace")?)?,
                "--filter" => opts.filters.extend(
                    value("--filter")?
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_ascii_lowercase),
                ),
                "--list" => opts.list = true,
                "--json" => opts.json = Some(value("--json")?),
                "--bench" => opts.bench = true,
                "--messages" => {
                    let text = value("--messages")?;
                    let n: u32 = text
                        .parse()
                        .map_err(|_| format!("--messages {text:?}: not a number"))?;
                    if n == 0 {
                        return Err("--messages must be at least 1".into());
                    }
                    opts.bench_messages = Some(n);
                }
                "--known" => {
                    opts.known = match value("--known")?.as_str() {
                        "auto" => Known::Auto,
                        "wine" => Known::Wine,
                        "none" => Known::None,
                        other => {
                            return Err(format!("--known {other:?}: expected auto, wine or none"))
                        }
                    }
                }
                "-h" | "--help" | "/?" => opts.help = true,
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(opts)
    }

    /// Whether a row is selected by `--filter`.
    pub fn selects(&self, id: &str, title: &str) -> bool {
        if self.filters.is_empty() {
            return true;
        }
        let id = id.to_ascii_lowercase();
        let title = title.to_ascii_lowercase();
        self.filters
            .iter()
            .any(|f| id.contains(f) || title.contains(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_to_the_native_namespace() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.namespace.win32, r"\\.\mailslot\");
        assert_eq!(o.namespace.nt, r"\??\MAILSLOT\");
        assert_eq!(o.known, Known::Auto);
        assert!(!o.list && !o.bench && o.json.is_none());
    }

    #[test]
    fn named_and_custom_namespaces() {
        let o = parse(&["--namespace", "RsMailslot"]).unwrap();
        assert!(o.namespace.is_rsmailslot());
        assert_eq!(o.namespace.win32, r"\\.\RsMailslot\");
        assert_eq!(o.namespace.device.as_deref(), Some(r"\Device\RsMailslot\"));
        let o = parse(&["--namespace", r"\\.\mailslot\sub"]).unwrap();
        assert_eq!(o.namespace.win32, r"\\.\mailslot\sub\");
        assert_eq!(o.namespace.nt, r"\??\mailslot\sub\");
        assert_eq!(o.namespace.device, None);
        assert!(!o.namespace.is_rsmailslot());
        assert!(parse(&["--namespace", r"C:\temp"]).is_err());
        assert!(parse(&["--namespace", r"\\.\"]).is_err());
    }

    #[test]
    fn options_and_their_errors() {
        let o = parse(&[
            "--filter", "Read,NT.", "--json", "out.json", "--known", "none", "--list",
        ])
        .unwrap();
        assert_eq!(o.filters, ["read", "nt."]);
        assert_eq!(o.json.as_deref(), Some("out.json"));
        assert_eq!(o.known, Known::None);
        assert!(o.list);
        assert!(o.selects("nt.read.empty", "x"));
        assert!(o.selects("win32.x", "ReadFile on a client"));
        assert!(!o.selects("win32.create", "CreateMailslot"));
        let o = parse(&["--bench", "--messages", "50"]).unwrap();
        assert!(o.bench);
        assert_eq!(o.bench_messages, Some(50));
        assert!(parse(&["--messages", "0"]).is_err());
        assert!(parse(&["--messages", "x"]).is_err());
        assert!(parse(&["--json"]).is_err());
        assert!(parse(&["--known", "maybe"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["/?"]).unwrap().help);
    }
}
