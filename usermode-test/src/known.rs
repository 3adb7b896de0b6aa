//! Known divergences of a host from Windows: rows that are expected to fail there. A listed
//! row that passes is reported as an error (the list is out of date); everything not listed
//! must pass.

/// One row a host gets wrong, and why we know it is the host and not the row.
#[derive(Clone, Copy, Debug)]
pub struct Divergence {
    pub row: &'static str,
    pub why: &'static str,
}

/// Wine 8.0's mailslots (Debian's `wine`), as `docs/mailslot-reference.md` §12 records and seen
/// by running this harness under it.
pub const WINE: &[Divergence] = &[
    Divergence {
        row: "win32.read.empty-zero-length",
        why: "Wine 8 fails a 0-byte read of an empty slot with ERROR_BROKEN_PIPE (research §12)",
    },
    Divergence {
        row: "win32.info.count",
        why: "Wine 8's GetMailslotInfo reports at most one message (research §12; W-T todo_wine)",
    },
    Divergence {
        row: "win32.message.zero-length",
        why: "Wine 8 neither counts nor returns a 0-byte message: the read fails with ERROR_BROKEN_PIPE (research §12)",
    },
    Divergence {
        row: "win32.read.too-small",
        why: "Wine 8 truncates the message into a short buffer and drops the rest (research §12)",
    },
    Divergence {
        row: "win32.read.overlapped-pending",
        why: "Wine 8 blocks inside an overlapped ReadFile of an empty wait-forever slot instead of returning ERROR_IO_PENDING (research §12)",
    },
    Divergence {
        row: "win32.read.cancel",
        why: "Wine 8 blocks inside the overlapped ReadFile, so there is no pending read to cancel (research §12)",
    },
    Divergence {
        row: "win32.read.pending-at-server-close",
        why: "Wine 8 blocks inside the overlapped ReadFile, so no read is pending at the close (research §12)",
    },
    Divergence {
        row: "win32.security.creator-dacl",
        why: "Wine 8 refuses CreateMailslotW with a DACL that does not admit the creator (research §12)",
    },
    Divergence {
        row: "win32.info.client",
        why: "Wine 8 fails GetMailslotInfo on a client handle (W-T #32 is todo_wine)",
    },
    Divergence {
        row: "nt.read.client",
        why: "Wine 8 returns STATUS_ACCESS_DENIED (W-T #17 is todo_wine)",
    },
    Divergence {
        row: "nt.read.too-small",
        why: "Wine 8 truncates with STATUS_SUCCESS and drops the rest (research §12; W-T #30)",
    },
    Divergence {
        row: "nt.query.client",
        why: "Wine 8 answers a client's query with STATUS_OBJECT_TYPE_MISMATCH (W-T #32 is todo_wine)",
    },
    Divergence {
        row: "nt.create.null-timeout",
        why: "Wine 8's NtCreateMailslotFile leaves the status block unwritten (research §12)",
    },
    Divergence {
        row: "nt.write.server-with-access",
        why: "Wine 8 returns STATUS_ACCESS_DENIED (W-T #35 is todo_wine)",
    },
    Divergence {
        row: "nt.read.pending",
        why: "Wine 8 treats a NULL ReadTimeout as 0: the read times out at once (W-T #36 predates Wine's server-side mailslots)",
    },
    Divergence {
        row: "nt.query.timeout-raw",
        why: "Wine stores MAILSLOT_WAIT_FOREVER as 0x7FFFFFFFFFFFFFFF, not -1 (research §2, W-K32)",
    },
    Divergence {
        row: "nt.set.pointer",
        why: "Wine reads FileMailslotSetInformation's field as the timeout value, not a pointer to it (research §6, W-NT)",
    },
    Divergence {
        row: "nt.set.short",
        why: "Wine 8 does not check the length of FileMailslotSetInformation (research §12)",
    },
    Divergence {
        row: "nt.directory.list",
        why: "Wine 8 has no directory listing of mailslots: STATUS_NOT_IMPLEMENTED (research §12)",
    },
    Divergence {
        row: "nt.volume.device",
        why: "Wine 8 reports device type 0x11 (FILE_DEVICE_NAMED_PIPE) for mailslots (research §12)",
    },
];

/// Looks up a row in a list.
pub fn find(list: &[Divergence], row: &str) -> Option<&'static str> {
    list.iter().find(|d| d.row == row).map(|d| d.why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_listed_once() {
        for (i, d) in WINE.iter().enumerate() {
            assert!(
                WINE[i + 1..].iter().all(|e| e.row != d.row),
                "{} listed twice",
                d.row
            );
            assert!(!d.why.is_empty());
        }
    }

    #[test]
    fn lookup() {
        let list = [Divergence {
            row: "a.b",
            why: "because",
        }];
        assert_eq!(find(&list, "a.b"), Some("because"));
        assert_eq!(find(&list, "a.c"), None);
    }
}
