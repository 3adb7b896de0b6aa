//! usermode-test's [`System`] over the emulated machine: the table's kernel32 and ntdll calls
//! made by an emulated process (a token, a handle table, user memory) through `kernel32` and the
//! I/O manager's services, against the real rsmailslot.sys.
//!
//! Each call's buffers, status blocks and OVERLAPPEDs live in the process's user memory, as a
//! Windows program's would; an I/O still in flight when its value is dropped is cancelled and
//! waited for, and its memory leaked if it never finishes.

use std::sync::Arc;
use std::time::Duration;

use usermode_test::system::{
    HostInfo, Info, Iosb, NtIo, NtName, OverlappedRead, RawHandle, System, IOSB_INFO_MARK,
    IOSB_STATUS_MARK,
};

use crate::cpu::Role;
use crate::io::create::{nt_create, CreateArgs, MailslotArgs, FILE_CREATE};
use crate::io::rw::{nt_read_file, nt_write_file};
use crate::io::{info, services, Mode};
use crate::kernel32::{
    dos_error, Attributes, CreateBlocks, Kernel32, OverlappedBlocks, Variant, ERROR_IO_INCOMPLETE,
};
use crate::machine::Machine;
use crate::process::{Process, UserMem};
use crate::se::Token;

const OBJ_CASE_INSENSITIVE: u32 = 0x40;
const FILE_SHARE_READ_WRITE: u32 = 3;

/// One emulated process calling the driver, for the table.
pub struct Emulated {
    pub machine: &'static Machine,
    pub k32: Kernel32,
    label: String,
}

impl Emulated {
    pub fn new(machine: &'static Machine, token: Token, variant: Variant) -> Emulated {
        Self::with_width(machine, token, variant, false)
    }

    /// The same, as a 32-bit process (WoW64) when `wow64`: the structures it passes hold 4-byte
    /// pointers, and the driver sees `IoIs32bitProcess` say so.
    pub fn with_width(
        machine: &'static Machine,
        token: Token,
        variant: Variant,
        wow64: bool,
    ) -> Emulated {
        let label = format!(
            "ntemu: {} under an emulated NT kernel, as a {} in a {}-bit process with {:?}'s kernel32",
            machine.image.name,
            token.name,
            if wow64 { 32 } else { 64 },
            variant
        );
        Emulated {
            machine,
            k32: Kernel32::new(Process::with_width(machine, token, wow64), variant),
            label,
        }
    }

    pub fn process(&self) -> &Arc<Process> {
        &self.k32.process
    }

    fn enter(&self) {
        self.machine.attach(Role::User);
    }

    fn marked_iosb() -> UserMem {
        let iosb = UserMem::new(16);
        iosb.write(0, &IOSB_STATUS_MARK.to_le_bytes());
        iosb.write(8, &(IOSB_INFO_MARK as u64).to_le_bytes());
        iosb
    }

    fn iosb_of(mem: &UserMem) -> Iosb {
        Iosb {
            status: mem.u32_at(0) as i32,
            information: mem.u64_at(8) as usize,
        }
    }

    fn create(
        &self,
        n: &NtName<'_>,
        args: impl FnOnce(usize, usize, usize) -> CreateArgs,
    ) -> (i32, Option<RawHandle>, Iosb) {
        self.enter();
        let attrs = Attributes::new(
            n.name,
            n.length,
            n.root,
            n.attributes_length,
            OBJ_CASE_INSENSITIVE,
        );
        let blocks = CreateBlocks::new((IOSB_STATUS_MARK, IOSB_INFO_MARK));
        let a = args(
            if n.null_attributes { 0 } else { attrs.addr() },
            blocks.at(CreateBlocks::HANDLE),
            blocks.at(CreateBlocks::IOSB),
        );
        let status = nt_create(self.process(), Mode::User, &a);
        let (s, info) = blocks.iosb();
        let handle = (status >= 0).then(|| blocks.mem.u64_at(CreateBlocks::HANDLE));
        (
            status,
            handle,
            Iosb {
                status: s,
                information: info,
            },
        )
    }

    /// A query service with a fresh buffer and a marked status block in user memory.
    fn query(
        &self,
        h: RawHandle,
        class: i32,
        len: usize,
        service: fn(crate::io::rw::Caller<'_>, u64, usize, usize, u32, u32) -> i32,
    ) -> (i32, Iosb, Vec<u8>) {
        self.enter();
        let buf = UserMem::new(len);
        let iosb = Self::marked_iosb();
        let status = service(
            self.k32.caller(),
            h,
            iosb.addr,
            buf.addr,
            len as u32,
            class as u32,
        );
        (status, Self::iosb_of(&iosb), buf.read(0, len))
    }

    fn start_io(
        &self,
        file: RawHandle,
        buf: UserMem,
        aux: UserMem,
        with_event: bool,
        call: impl FnOnce(u64, usize, &UserMem, &UserMem) -> i32,
    ) -> Box<dyn NtIo + '_> {
        self.enter();
        let iosb = Self::marked_iosb();
        let event = if with_event {
            services::nt_create_event(self.process(), true, false)
        } else {
            0
        };
        let status = call(event, iosb.addr, &buf, &aux);
        Box::new(EmuIo {
            sys: self,
            file,
            status,
            iosb,
            buf,
            aux,
            event,
            finished: status != crate::kernel32::STATUS_PENDING,
        })
    }
}

/// ERROR_INVALID_SECURITY_DESCR.
const ERROR_INVALID_SECURITY_DESCR: u32 = 1338;

/// ConvertStringSecurityDescriptorToSecurityDescriptorW: the self-relative descriptor an SDDL
/// string describes (ERROR_INVALID_PARAMETER for one it cannot parse).
fn sddl_descriptor(sddl: &str) -> Result<Vec<u8>, u32> {
    crate::se::SecurityDescriptor::from_sddl(sddl)
        .map(|sd| sd.to_self_relative())
        .map_err(|_| 87)
}

impl System for Emulated {
    fn host(&self) -> HostInfo {
        HostInfo {
            host: self.label.clone(),
            windows_version: "10.0 (emulated)".into(),
            wine: false,
            pointer_bytes: if self.process().wow64 { 4 } else { 8 },
        }
    }

    fn create_mailslot(
        &self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
    ) -> Result<RawHandle, u32> {
        self.enter();
        self.k32.create_mailslot(name, max, timeout_ms)
    }

    fn create_file(
        &self,
        path: &str,
        access: u32,
        share: u32,
        overlapped: bool,
    ) -> Result<RawHandle, u32> {
        self.enter();
        self.k32.create_file(path, access, share, overlapped)
    }

    fn read_file(&self, h: RawHandle, len: usize) -> Result<Vec<u8>, (u32, u32)> {
        self.enter();
        self.k32.read_file(h, len)
    }

    fn write_file(&self, h: RawHandle, data: &[u8]) -> Result<u32, u32> {
        self.enter();
        self.k32.write_file(h, data)
    }

    fn get_mailslot_info(&self, h: RawHandle) -> Result<Info, u32> {
        self.enter();
        self.k32
            .get_mailslot_info(h)
            .map(|(max, next, count, timeout)| Info {
                max,
                next,
                count,
                timeout,
            })
    }

    fn get_mailslot_info_null(&self, h: RawHandle) -> Result<(), u32> {
        self.enter();
        self.k32.get_mailslot_info(h).map(|_| ())
    }

    fn set_mailslot_info(&self, h: RawHandle, timeout_ms: u32) -> Result<(), u32> {
        self.enter();
        self.k32.set_mailslot_info(h, timeout_ms)
    }

    fn close_handle(&self, h: RawHandle) {
        self.enter();
        let _ = self.k32.close_handle(h);
    }

    fn duplicate_handle(&self, h: RawHandle) -> Result<RawHandle, u32> {
        self.enter();
        self.k32.duplicate_handle(h)
    }

    fn wait(&self, h: RawHandle, ms: u32) -> u32 {
        self.enter();
        self.k32.wait_for_single_object(h, ms)
    }

    fn dos_error(&self, status: i32) -> u32 {
        dos_error(status)
    }

    fn read_overlapped(&self, h: RawHandle, len: usize) -> Box<dyn OverlappedRead + '_> {
        self.enter();
        let (started, blocks) = self.k32.read_file_overlapped(h, len);
        let finished = started != Err(crate::kernel32::ERROR_IO_PENDING);
        Box::new(EmuOverlapped {
            sys: self,
            file: h,
            blocks: Some(blocks),
            started,
            finished,
        })
    }

    fn flush(&self, h: RawHandle) -> Result<(), u32> {
        self.enter();
        self.k32.flush_file_buffers(h)
    }

    fn security_owner(&self, h: RawHandle) -> Result<String, u32> {
        self.enter();
        self.k32.security_owner(h)
    }

    fn create_mailslot_sddl(&self, name: &str, sddl: &str) -> Result<RawHandle, u32> {
        let sd = sddl_descriptor(sddl)?;
        self.enter();
        self.k32
            .create_mailslot_secured(Some(name), 0, 0, Some(&sd))
    }

    fn set_security_sddl(&self, h: RawHandle, information: u32, sddl: &str) -> Result<(), u32> {
        let sd = sddl_descriptor(sddl)?;
        self.enter();
        self.k32.set_security_info(h, information, &sd)
    }

    fn security_sddl(&self, h: RawHandle, information: u32) -> Result<String, u32> {
        self.enter();
        let bytes = self.k32.security_info(h, information)?;
        let sd = crate::se::SecurityDescriptor::from_self_relative(&bytes)
            .ok_or(ERROR_INVALID_SECURITY_DESCR)?;
        Ok(crate::sddl::render(&sd, information))
    }

    fn nt_create_mailslot(
        &self,
        n: &NtName<'_>,
        access: u32,
        options: u32,
        quota: u32,
        max: u32,
        timeout: Option<i64>,
    ) -> (i32, Option<RawHandle>, Iosb) {
        let value = timeout.map(|t| UserMem::with(&t.to_le_bytes()));
        self.create(n, |attributes, handle_out, iosb| CreateArgs {
            handle_out,
            access,
            attributes,
            iosb,
            allocation_size: 0,
            file_attributes: 0,
            share: FILE_SHARE_READ_WRITE,
            disposition: FILE_CREATE,
            options,
            mailslot: Some(MailslotArgs {
                quota,
                max_message_size: max,
                read_timeout: value.as_ref().map_or(0, |v| v.addr),
            }),
            force_access_check: false,
        })
    }

    fn nt_create_file(
        &self,
        n: &NtName<'_>,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> (i32, Option<RawHandle>, Iosb) {
        self.create(n, |attributes, handle_out, iosb| CreateArgs {
            handle_out,
            access,
            attributes,
            iosb,
            allocation_size: 0,
            file_attributes: 0,
            share,
            disposition,
            options,
            mailslot: None,
            force_access_check: false,
        })
    }

    fn nt_read(&self, h: RawHandle, len: usize, with_event: bool) -> Box<dyn NtIo + '_> {
        let c = self.k32.caller();
        self.start_io(
            h,
            UserMem::new(len),
            UserMem::new(0),
            with_event,
            |event, iosb, buf, _| nt_read_file(c, h, event, iosb, buf.addr, len as u32, 0, 0),
        )
    }

    fn nt_write(&self, h: RawHandle, data: &[u8]) -> Box<dyn NtIo + '_> {
        let c = self.k32.caller();
        self.start_io(
            h,
            UserMem::with(data),
            UserMem::new(0),
            true,
            |event, iosb, buf, _| {
                nt_write_file(c, h, event, iosb, buf.addr, data.len() as u32, 0, 0)
            },
        )
    }

    fn nt_fsctl(
        &self,
        h: RawHandle,
        code: u32,
        input: &[u8],
        out_len: usize,
    ) -> Box<dyn NtIo + '_> {
        let c = self.k32.caller();
        let in_len = input.len();
        self.start_io(
            h,
            UserMem::new(out_len),
            UserMem::with(input),
            true,
            |event, iosb, buf, aux| {
                info::nt_fs_control_file(
                    c,
                    h,
                    event,
                    iosb,
                    code,
                    aux.addr,
                    in_len as u32,
                    buf.addr,
                    out_len as u32,
                )
            },
        )
    }

    fn nt_query_directory(
        &self,
        h: RawHandle,
        class: i32,
        len: usize,
        single: bool,
        pattern: Option<&str>,
        restart: bool,
    ) -> Box<dyn NtIo + '_> {
        let c = self.k32.caller();
        let text: Vec<u8> = pattern
            .map(|p| p.encode_utf16().flat_map(u16::to_le_bytes).collect())
            .unwrap_or_default();
        // The pattern's UNICODE_STRING (16 bytes) followed by its text, as `aux`.
        let aux = UserMem::new(16 + text.len());
        aux.write(0, &(text.len() as u16).to_le_bytes());
        aux.write(2, &(text.len() as u16).to_le_bytes());
        aux.write(8, &((aux.addr + 16) as u64).to_le_bytes());
        aux.write(16, &text);
        self.start_io(h, UserMem::new(len), aux, true, |event, iosb, buf, aux| {
            info::nt_query_directory_file(
                c,
                h,
                event,
                iosb,
                buf.addr,
                len as u32,
                class as u32,
                single,
                if pattern.is_some() { aux.addr } else { 0 },
                restart,
            )
        })
    }

    fn nt_query_information(&self, h: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
        self.query(h, class, len, info::nt_query_information_file)
    }

    fn nt_set_information(&self, h: RawHandle, class: i32, data: &[u8]) -> (i32, Iosb) {
        self.enter();
        let buf = UserMem::with(data);
        let iosb = Self::marked_iosb();
        let status = info::nt_set_information_file(
            self.k32.caller(),
            h,
            iosb.addr,
            buf.addr,
            data.len() as u32,
            class as u32,
        );
        (status, Self::iosb_of(&iosb))
    }

    fn nt_set_mailslot_timeout(&self, h: RawHandle, timeout: i64) -> (i32, Iosb) {
        let (_value, set) = crate::kernel32::mailslot_set_information(self.process(), timeout);
        self.nt_set_information(h, 27, &set.read(0, set.len))
    }

    fn nt_query_volume(&self, h: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
        self.query(h, class, len, info::nt_query_volume_information_file)
    }
}

/// How long a dropped, unfinished I/O is waited for after its cancel.
const DRAIN: Duration = Duration::from_secs(5);

struct EmuOverlapped<'s> {
    sys: &'s Emulated,
    file: RawHandle,
    blocks: Option<OverlappedBlocks>,
    started: Result<u32, u32>,
    finished: bool,
}

impl EmuOverlapped<'_> {
    fn blocks(&self) -> &OverlappedBlocks {
        self.blocks.as_ref().expect("present until drop")
    }

    fn bytes(&self, n: u32) -> Vec<u8> {
        let b = self.blocks();
        b.buf.read(0, (n as usize).min(b.buf.len))
    }

    fn signalled(&self, timeout: Duration) -> bool {
        services::nt_wait(self.sys.process(), self.blocks().event, Some(timeout)) == 0
    }
}

impl OverlappedRead for EmuOverlapped<'_> {
    fn started(&self) -> Result<u32, u32> {
        self.started
    }

    fn wait(&mut self, ms: u32) -> Option<Result<Vec<u8>, u32>> {
        self.sys.enter();
        if self.finished {
            if let Ok(n) = self.started {
                return Some(Ok(self.bytes(n)));
            }
        } else if !self.signalled(Duration::from_millis(u64::from(ms))) {
            return None;
        }
        let r = self
            .sys
            .k32
            .get_overlapped_result(self.file, self.blocks(), false);
        if r == Err(ERROR_IO_INCOMPLETE) {
            return None;
        }
        self.finished = true;
        Some(r.map(|n| self.bytes(n)))
    }

    fn is_pending(&self) -> bool {
        self.sys.enter();
        !self.finished && !self.signalled(Duration::ZERO)
    }

    fn cancel(&self) -> Result<(), u32> {
        self.sys.enter();
        self.sys.k32.cancel_io_ex(self.file, self.blocks().ov.addr)
    }
}

impl Drop for EmuOverlapped<'_> {
    fn drop(&mut self) {
        self.sys.enter();
        if !self.finished && !self.signalled(Duration::ZERO) {
            let _ = self.cancel();
            if !self.signalled(DRAIN) {
                eprintln!("warning: a read did not finish after CancelIoEx; its memory is leaked");
                if let Some(b) = self.blocks.take() {
                    b.ov.leak();
                    b.buf.leak();
                }
                return;
            }
        }
        if let Some(b) = &self.blocks {
            services::nt_close(self.sys.process(), b.event);
        }
    }
}

struct EmuIo<'s> {
    sys: &'s Emulated,
    file: RawHandle,
    status: i32,
    iosb: UserMem,
    buf: UserMem,
    aux: UserMem,
    /// 0: completion signals the file object.
    event: u64,
    finished: bool,
}

impl EmuIo<'_> {
    fn signal(&self) -> u64 {
        if self.event != 0 {
            self.event
        } else {
            self.file
        }
    }
}

impl NtIo for EmuIo<'_> {
    fn status(&self) -> i32 {
        self.status
    }

    fn iosb(&self) -> Iosb {
        Emulated::iosb_of(&self.iosb)
    }

    fn wait(&mut self, ms: u32) -> bool {
        self.sys.enter();
        if !self.finished
            && services::nt_wait(
                self.sys.process(),
                self.signal(),
                Some(Duration::from_millis(u64::from(ms))),
            ) == 0
        {
            self.finished = true;
        }
        self.finished
    }

    fn buf(&self) -> Vec<u8> {
        self.buf.read(0, self.buf.len)
    }

    fn aux(&self) -> Vec<u8> {
        self.aux.read(0, self.aux.len)
    }
}

impl Drop for EmuIo<'_> {
    fn drop(&mut self) {
        self.sys.enter();
        let p = self.sys.process();
        if !self.finished && services::nt_wait(p, self.signal(), Some(Duration::ZERO)) != 0 {
            let scratch = UserMem::new(16);
            services::nt_cancel_io_file_ex(p, self.file, self.iosb.addr, scratch.addr);
            if services::nt_wait(p, self.signal(), Some(DRAIN)) != 0 {
                eprintln!("warning: an NT I/O did not finish after NtCancelIoFileEx; its memory is leaked");
                std::mem::replace(&mut self.iosb, UserMem::new(0)).leak();
                std::mem::replace(&mut self.buf, UserMem::new(0)).leak();
                std::mem::replace(&mut self.aux, UserMem::new(0)).leak();
            }
        }
        if self.event != 0 {
            services::nt_close(p, self.event);
        }
    }
}
