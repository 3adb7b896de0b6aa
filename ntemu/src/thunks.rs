//! The entry points the driver's imports and its KMDF function table are bound to.
//!
//! Each export gets a small piece of machine code of its own, so that every call the driver
//! makes into the emulated kernel passes one gate first: it records which export was called
//! and from where (the return address, naming the driver function and offset in any report),
//! and checks the caller's IRQL against the export's documented maximum,
//! before jumping to the implementation with the caller's arguments untouched. The gate also
//! keeps the driver's RSP and RBP at the call, so a report made inside the kernel can unwind
//! the driver's stack from the return address.
//!
//! The code of one entry (Windows x64 calling convention, so RCX, RDX, R8 and R9 carry the
//! first four arguments and the rest are on the stack, which the entry leaves as it found it):
//!
//! ```text
//!   push rcx; push rdx; push r8; push r9      ; keep the four register arguments
//!   mov  rcx, [rsp+0x20]                      ; the caller's return address
//!   mov  edx, <index>                          ; which export this is
//!   lea  r8, [rsp+0x28]                       ; the caller's RSP once the call returns
//!   mov  r9, rbp                              ; the caller's frame pointer, if it has one
//!   sub  rsp, 0x28                            ; shadow space, 16-byte alignment for the call
//!   mov  rax, <gate>; call rax
//!   add  rsp, 0x28
//!   pop  r9; pop r8; pop rdx; pop rcx
//!   mov  rax, <implementation>; jmp rax        ; tail jump: it returns straight to the driver
//! ```
//!
//! No export takes floating-point arguments, so XMM0-XMM3 need no saving.

use crate::mem;

/// Bytes per entry (the code above is 67 bytes).
pub const ENTRY: usize = 80;

/// The gate every entry calls first: `(return address, export index, caller RSP, caller RBP)`.
pub type Gate = extern "win64" fn(usize, u32, usize, usize);

/// A page range of entries, executable and read-only once built.
#[derive(Debug)]
pub struct Thunks {
    pub base: usize,
    pub count: usize,
}

fn entry_code(index: u32, gate: usize, target: usize) -> Vec<u8> {
    let mut c = Vec::with_capacity(ENTRY);
    c.extend_from_slice(&[0x51, 0x52, 0x41, 0x50, 0x41, 0x51]); // push rcx, rdx, r8, r9
    c.extend_from_slice(&[0x48, 0x8B, 0x4C, 0x24, 0x20]); // mov rcx, [rsp+0x20]
    c.push(0xBA); // mov edx, imm32
    c.extend_from_slice(&index.to_le_bytes());
    c.extend_from_slice(&[0x4C, 0x8D, 0x44, 0x24, 0x28]); // lea r8, [rsp+0x28]
    c.extend_from_slice(&[0x49, 0x89, 0xE9]); // mov r9, rbp
    c.extend_from_slice(&[0x48, 0x83, 0xEC, 0x28]); // sub rsp, 0x28
    c.extend_from_slice(&[0x48, 0xB8]); // mov rax, imm64
    c.extend_from_slice(&(gate as u64).to_le_bytes());
    c.extend_from_slice(&[0xFF, 0xD0]); // call rax
    c.extend_from_slice(&[0x48, 0x83, 0xC4, 0x28]); // add rsp, 0x28
    c.extend_from_slice(&[0x41, 0x59, 0x41, 0x58, 0x5A, 0x59]); // pop r9, r8, rdx, rcx
    c.extend_from_slice(&[0x48, 0xB8]); // mov rax, imm64
    c.extend_from_slice(&(target as u64).to_le_bytes());
    c.extend_from_slice(&[0xFF, 0xE0]); // jmp rax
    assert!(c.len() <= ENTRY);
    c.resize(ENTRY, 0xCC); // int3 padding
    c
}

impl Thunks {
    /// Builds one entry per target, all passing through `gate`.
    pub fn build(targets: &[usize], gate: Gate) -> std::io::Result<Thunks> {
        let len = mem::round_up((targets.len() * ENTRY).max(1), mem::PAGE);
        let base = mem::map_anywhere(len, mem::PROT_RW)?;
        // SAFETY: the range was just mapped read-write for these entries alone.
        let page = unsafe { mem::Raw::new(base, len) };
        for (i, &target) in targets.iter().enumerate() {
            page.write_bytes(i * ENTRY, &entry_code(i as u32, gate as usize, target));
        }
        mem::protect(base, len, mem::PROT_RX)?;
        Ok(Thunks {
            base,
            count: targets.len(),
        })
    }

    pub fn entry(&self, index: usize) -> usize {
        assert!(index < self.count);
        self.base + index * ENTRY
    }

    /// The export index of an entry address, for reports.
    pub fn index_of(&self, addr: usize) -> Option<usize> {
        (addr >= self.base && addr < self.base + self.count * ENTRY)
            .then(|| (addr - self.base) / ENTRY)
    }
}
