//! The emulated machine's address space, and the only place that touches raw memory.
//!
//! A Linux x86-64 process cannot place memory above 0x7FFF_FFFF_FFFF, so the emulated split
//! between user and kernel space is drawn lower: everything below [`USER_PROBE_ADDRESS`] is
//! user space (the emulated processes' memory, placed in [`USER_BASE`]..[`USER_LIMIT`]), and
//! everything above it is kernel space: pool, the driver's image, the emulator's own heap and
//! stacks. `MmUserProbeAddress` exports this value, so the driver's own range checks
//! (`msfs_io::user_range_ok`) separate the two exactly as they would on Windows.
//!
//! Access to memory the emulator does not own (a user buffer, a driver's KDPC) goes through
//! [`copy_in`]/[`copy_out`], which use `process_vm_readv`/`process_vm_writev` on this very
//! process: an unmapped or protected address makes them fail instead of faulting.

use std::io;

pub const PAGE: usize = 4096;
/// The lowest address of emulated user memory.
pub const USER_BASE: usize = 0x0000_1000_0000_0000;
/// One past the highest address of emulated user memory.
pub const USER_LIMIT: usize = 0x0000_1800_0000_0000;
/// Where a 32-bit (WoW64) process's memory that must be reachable through a 4-byte pointer is
/// placed: below 4 GiB, as all of a 32-bit process's memory is.
pub const USER32_BASE: usize = 0x4000_0000;
pub const USER32_LIMIT: usize = 0xC000_0000;
/// `MmUserProbeAddress` of the emulated machine: every user address is below it, every
/// kernel address (pool, image, the emulator's own memory) above.
pub const USER_PROBE_ADDRESS: usize = 0x0000_2000_0000_0000;
/// Where pool lives: one reservation, handed out in page-granular pieces that are never reused.
pub const POOL_BASE: usize = 0x0000_3000_0000_0000;
pub const POOL_SIZE: usize = 0x0000_0400_0000_0000;
/// Where driver images are mapped: never their preferred base (0x1_8000_0000 for lld).
pub const IMAGE_BASE: usize = 0x0000_5000_0000_0000;

pub fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

pub const PROT_NONE: i32 = libc::PROT_NONE;
pub const PROT_READ: i32 = libc::PROT_READ;
pub const PROT_RW: i32 = libc::PROT_READ | libc::PROT_WRITE;
pub const PROT_RX: i32 = libc::PROT_READ | libc::PROT_EXEC;

/// Maps `len` bytes at exactly `addr` (which must be free) with `prot`.
pub fn map_fixed(addr: usize, len: usize, prot: i32) -> io::Result<()> {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping: it fails instead, so no
    // memory anyone uses can be affected; the result is checked to be the requested address.
    let got = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len,
            prot,
            libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_FIXED_NOREPLACE
                | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if got == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    if got as usize != addr {
        // A kernel older than 4.17 ignores MAP_FIXED_NOREPLACE and treats it as a hint.
        // SAFETY: the mapping just made, at the address the kernel chose, is ours to undo.
        unsafe { libc::munmap(got, len) };
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{addr:#x} is taken"),
        ));
    }
    Ok(())
}

/// Maps `len` bytes anywhere; the address.
pub fn map_anywhere(len: usize, prot: i32) -> io::Result<usize> {
    // SAFETY: a fresh anonymous mapping at an address the kernel chooses touches nothing else.
    let got = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if got == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(got as usize)
    }
}

/// Changes the protection of pages the emulator mapped itself.
pub fn protect(addr: usize, len: usize, prot: i32) -> io::Result<()> {
    // SAFETY: callers pass page ranges inside mappings this module made for them; changing
    // their protection affects no memory Rust code holds references into (the emulator only
    // reaches those pages through this module's raw accessors).
    if unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Unmaps pages the emulator mapped itself.
pub fn unmap(addr: usize, len: usize) {
    // SAFETY: as for `protect`: only ranges this module mapped, reached only through it.
    unsafe { libc::munmap(addr as *mut libc::c_void, len) };
}

fn iov(addr: usize, len: usize) -> libc::iovec {
    libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len,
    }
}

/// Reads `out.len()` bytes at `addr` without trusting it: false when any byte is unmapped or
/// unreadable. This is how the emulator reads memory it does not own.
pub fn copy_in(addr: usize, out: &mut [u8]) -> bool {
    if out.is_empty() {
        return true;
    }
    let local = iov(out.as_mut_ptr() as usize, out.len());
    let remote = iov(addr, out.len());
    // SAFETY: the kernel copies between our own buffer (valid for out.len() bytes) and the
    // remote range of this same process, checking the remote range itself; no fault can occur.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == out.len() as isize
}

/// Writes `data` at `addr` without trusting it: false when any byte is unmapped or read-only.
pub fn copy_out(addr: usize, data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    let local = iov(data.as_ptr() as usize, data.len());
    let remote = iov(addr, data.len());
    // SAFETY: as in `copy_in`, the kernel checks the remote range.
    let n = unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == data.len() as isize
}

/// Little-endian integer reads and writes of memory the emulator does not own; `None` or
/// false when the address is not accessible.
pub fn peek_u64(addr: usize) -> Option<u64> {
    let mut b = [0u8; 8];
    copy_in(addr, &mut b).then(|| u64::from_le_bytes(b))
}

pub fn peek_u32(addr: usize) -> Option<u32> {
    let mut b = [0u8; 4];
    copy_in(addr, &mut b).then(|| u32::from_le_bytes(b))
}

pub fn peek_u16(addr: usize) -> Option<u16> {
    let mut b = [0u8; 2];
    copy_in(addr, &mut b).then(|| u16::from_le_bytes(b))
}

pub fn peek_u8(addr: usize) -> Option<u8> {
    let mut b = [0u8; 1];
    copy_in(addr, &mut b).then_some(b[0])
}

pub fn poke_u64(addr: usize, v: u64) -> bool {
    copy_out(addr, &v.to_le_bytes())
}

pub fn poke_u32(addr: usize, v: u32) -> bool {
    copy_out(addr, &v.to_le_bytes())
}

pub fn poke_u16(addr: usize, v: u16) -> bool {
    copy_out(addr, &v.to_le_bytes())
}

pub fn poke_u8(addr: usize, v: u8) -> bool {
    copy_out(addr, &[v])
}

/// A block of memory the emulator allocated and owns for as long as the value lives (an IRP,
/// a FILE_OBJECT, a system buffer): its accessors check bounds and then touch it directly.
/// The memory may also be shared with the driver, which reads and writes it concurrently as
/// the kernel's contracts allow, so every access is a volatile one.
#[derive(Debug)]
pub struct Raw {
    pub addr: usize,
    pub len: usize,
}

impl Raw {
    /// # Safety
    /// `[addr, addr + len)` is mapped read-write and stays so while the value lives.
    pub unsafe fn new(addr: usize, len: usize) -> Raw {
        Raw { addr, len }
    }

    fn at(&self, offset: usize, size: usize) -> usize {
        assert!(
            offset.checked_add(size).is_some_and(|end| end <= self.len),
            "emulator bug: access at {offset:#x}+{size} outside a block of {:#x} bytes",
            self.len
        );
        self.addr + offset
    }

    pub fn r8(&self, offset: usize) -> u8 {
        let a = self.at(offset, 1);
        // SAFETY: in bounds of a block that is mapped read-write while `self` lives.
        unsafe { std::ptr::read_volatile(a as *const u8) }
    }

    pub fn r16(&self, offset: usize) -> u16 {
        let a = self.at(offset, 2);
        // SAFETY: as in `r8`; unaligned reads are allowed on x86-64.
        unsafe { std::ptr::read_volatile(a as *const [u8; 2]) }.pipe(u16::from_le_bytes)
    }

    pub fn r32(&self, offset: usize) -> u32 {
        let a = self.at(offset, 4);
        // SAFETY: as in `r8`.
        unsafe { std::ptr::read_volatile(a as *const [u8; 4]) }.pipe(u32::from_le_bytes)
    }

    pub fn r64(&self, offset: usize) -> u64 {
        let a = self.at(offset, 8);
        // SAFETY: as in `r8`.
        unsafe { std::ptr::read_volatile(a as *const [u8; 8]) }.pipe(u64::from_le_bytes)
    }

    pub fn w8(&self, offset: usize, v: u8) {
        let a = self.at(offset, 1);
        // SAFETY: in bounds of a block that is mapped read-write while `self` lives.
        unsafe { std::ptr::write_volatile(a as *mut u8, v) }
    }

    pub fn w16(&self, offset: usize, v: u16) {
        let a = self.at(offset, 2);
        // SAFETY: as in `w8`.
        unsafe { std::ptr::write_volatile(a as *mut [u8; 2], v.to_le_bytes()) }
    }

    pub fn w32(&self, offset: usize, v: u32) {
        let a = self.at(offset, 4);
        // SAFETY: as in `w8`.
        unsafe { std::ptr::write_volatile(a as *mut [u8; 4], v.to_le_bytes()) }
    }

    pub fn w64(&self, offset: usize, v: u64) {
        let a = self.at(offset, 8);
        // SAFETY: as in `w8`.
        unsafe { std::ptr::write_volatile(a as *mut [u8; 8], v.to_le_bytes()) }
    }

    /// Copies `len` bytes out of the block.
    pub fn read_bytes(&self, offset: usize, len: usize) -> Vec<u8> {
        let a = self.at(offset, len);
        // SAFETY: in bounds of a live read-write block; a copy into a fresh Vec.
        unsafe { std::slice::from_raw_parts(a as *const u8, len) }.to_vec()
    }

    pub fn write_bytes(&self, offset: usize, data: &[u8]) {
        let a = self.at(offset, data.len());
        // SAFETY: in bounds of a live read-write block; `data` cannot overlap it (it is a Rust
        // borrow of other memory, or a copy made by `read_bytes`).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), a as *mut u8, data.len()) }
    }

    pub fn fill(&self, offset: usize, len: usize, byte: u8) {
        let a = self.at(offset, len);
        // SAFETY: in bounds of a live read-write block.
        unsafe { std::ptr::write_bytes(a as *mut u8, byte, len) }
    }

    /// The 64-bit word at `offset` as an atomic, for fields the driver exchanges with
    /// interlocked operations (`Irp->CancelRoutine`).
    pub fn atomic64(&self, offset: usize) -> &std::sync::atomic::AtomicU64 {
        let a = self.at(offset, 8);
        assert!(a % 8 == 0, "emulator bug: unaligned atomic at {a:#x}");
        // SAFETY: aligned, in bounds, live for as long as `self`, and every access to this word
        // by the emulator and the driver is an atomic or volatile access of the same size.
        unsafe { std::sync::atomic::AtomicU64::from_ptr(a as *mut u64) }
    }
}

trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

/// Hex dump of a few bytes for reports.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_fail_instead_of_faulting() {
        let mut b = [0u8; 8];
        assert!(!copy_in(0x1000, &mut b), "page zero is never mapped");
        assert!(!copy_out(0x1000, &b));
        let v = 0x1122_3344_5566_7788u64;
        assert_eq!(peek_u64(&v as *const u64 as usize), Some(v));
        let page = map_anywhere(PAGE, PROT_RW).unwrap();
        assert!(poke_u32(page + 8, 7));
        protect(page, PAGE, PROT_NONE).unwrap();
        assert_eq!(peek_u32(page + 8), None);
        protect(page, PAGE, PROT_READ).unwrap();
        assert_eq!(peek_u32(page + 8), Some(7));
        assert!(!poke_u32(page + 8, 9), "read-only");
        // Not read again once unmapped: another test's thread may map the range at once (a
        // flake seen here). Unmapped memory is page zero's case above.
        unmap(page, PAGE);
    }

    #[test]
    fn the_address_space_split_holds_for_this_process() {
        let heap = Box::new(0u8);
        let stack = 0u8;
        for kernel in [&*heap as *const u8 as usize, &stack as *const u8 as usize] {
            assert!(
                kernel >= USER_PROBE_ADDRESS,
                "{kernel:#x} would look like user memory"
            );
        }
        const {
            assert!(USER32_LIMIT <= USER_BASE);
            assert!(USER_LIMIT <= USER_PROBE_ADDRESS && USER_PROBE_ADDRESS <= POOL_BASE)
        };
    }
}
