//! `\\host\mailslot\name`: where `rsmailslot-send` writes. `host` is a computer (a direct
//! unique datagram to its name), `*` (a broadcast to the primary domain's mailslots, at most
//! 424 bytes) or a domain (`--group`: a direct group datagram to the domain's name).

use msmail::MailslotName;

/// A parsed `\\host\mailslot\name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `None` for `*`.
    pub host: Option<String>,
    pub mailslot: MailslotName,
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        let rest = text
            .strip_prefix("\\\\")
            .ok_or(format!("{text:?}: a target is \\\\host\\mailslot\\name"))?;
        let (host, rest) = rest
            .split_once('\\')
            .ok_or(format!("{text:?}: a target is \\\\host\\mailslot\\name"))?;
        let (word, relative) = rest
            .split_once('\\')
            .ok_or(format!("{text:?}: a target is \\\\host\\mailslot\\name"))?;
        if !word.eq_ignore_ascii_case("mailslot") {
            return Err(format!("{text:?}: the second part is \"mailslot\""));
        }
        if host.is_empty() || host == "." {
            return Err(format!(
                "{text:?}: a local mailslot is written with WriteFile, not sent"
            ));
        }
        let mailslot = MailslotName::from_relative(relative).map_err(|e| e.to_string())?;
        Ok(Target {
            host: (host != "*").then(|| host.to_string()),
            mailslot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse(r"\\PLANT-PC\mailslot\app\events").unwrap();
        assert_eq!(t.host.as_deref(), Some("PLANT-PC"));
        assert_eq!(t.mailslot.as_str(), r"\MAILSLOT\app\events");
        assert_eq!(Target::parse(r"\\*\MAILSLOT\x").unwrap().host, None);
        for bad in [
            r"\\host\pipe\x",
            r"\\.\mailslot\x",
            r"host\mailslot\x",
            r"\\host\mailslot\",
            r"\\h",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
