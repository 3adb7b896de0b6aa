//! x64 unwinding over an image's own `.pdata`/`.xdata`, as the Windows x64 exception-handling
//! ABI defines it (learn.microsoft.com, "x64 exception handling": UNWIND_INFO, UNWIND_CODE and
//! the C-specific handler's scope table). Used to dispatch a fault in the driver to its
//! structured exception handler and to print the driver's stack in a bugcheck report.
//!
//! Not implemented, and reported where it would matter: epilog detection (a frame unwound from
//! inside an epilog may be misread; only stack reports can see such frames) and machine frames.

use crate::image::{Image, RuntimeFunction};
use crate::mem;

pub const RSP: usize = 4;
pub const RBP: usize = 5;

/// The integer registers of a frame: index = the x64 register number (RAX 0, RCX 1, RDX 2,
/// RBX 3, RSP 4, RBP 5, RSI 6, RDI 7, R8..R15 8..15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    pub r: [u64; 16],
    pub rip: u64,
}

const UNW_FLAG_EHANDLER: u8 = 1;
const UNW_FLAG_UHANDLER: u8 = 2;
const UNW_FLAG_CHAININFO: u8 = 4;

/// What unwinding one frame learned about it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Frame {
    /// The frame's establisher: its RSP after the prologue (or its frame register base).
    pub establisher: u64,
    /// Language handler and its data, when the function has one of the asked kind.
    pub handler: Option<(u64, u64)>,
    pub has_unwind_handler: bool,
}

fn byte(addr: usize) -> Option<u8> {
    mem::peek_u8(addr)
}

fn word(addr: usize) -> Option<u16> {
    mem::peek_u16(addr)
}

/// Unwinds `regs` (the state inside `f` at `regs.rip`) to the caller's state. Returns what it
/// learned about the frame; `exception` picks the exception handler over a termination handler.
pub fn unwind(
    image: &Image,
    f: RuntimeFunction,
    regs: &mut Regs,
    exception: bool,
) -> Option<Frame> {
    let base = image.base;
    let offset_in_fn = (regs.rip as usize - base) as u32 - f.begin;
    let mut info_at = base + f.unwind as usize;
    let mut frame = Frame::default();
    let mut first = true;
    let mut primary_flags = 0u8;
    let mut primary_info = info_at;
    loop {
        let vf = byte(info_at)?;
        let (version, flags) = (vf & 7, vf >> 3);
        if version != 1 && version != 2 {
            return None;
        }
        let prolog = byte(info_at + 1)? as u32;
        let count = byte(info_at + 2)? as usize;
        let fr = byte(info_at + 3)?;
        let (frame_reg, frame_off) = ((fr & 0xF) as usize, (fr >> 4) as u64);
        if first {
            primary_flags = flags;
            primary_info = info_at;
            // Inside the body (or past the frame register's set-up), RSP is found from the
            // frame register when the function has one.
            if frame_reg != 0 && offset_in_fn >= prolog {
                regs.r[RSP] = regs.r[frame_reg].wrapping_sub(frame_off * 16);
            }
            frame.establisher = if frame_reg != 0 {
                regs.r[frame_reg].wrapping_sub(frame_off * 16)
            } else {
                regs.r[RSP]
            };
        }
        let codes = info_at + 4;
        let mut i = 0;
        while i < count {
            let code_offset = byte(codes + i * 2)? as u32;
            let op_byte = byte(codes + i * 2 + 1)?;
            let (op, info) = (op_byte & 0xF, (op_byte >> 4) as usize);
            let slot = |n: usize| word(codes + (i + n) * 2).map(u64::from);
            // In the primary function's prologue only the operations already executed count.
            let applies = !first || offset_in_fn >= prolog || code_offset <= offset_in_fn;
            let used = match op {
                0 => {
                    if applies {
                        regs.r[info] = mem::peek_u64(regs.r[RSP] as usize)?;
                        regs.r[RSP] += 8;
                    }
                    1
                }
                1 => {
                    let (size, used) = if info == 0 {
                        (slot(1)? * 8, 2)
                    } else {
                        (slot(1)? | (slot(2)? << 16), 3)
                    };
                    if applies {
                        regs.r[RSP] += size;
                    }
                    used
                }
                2 => {
                    if applies {
                        regs.r[RSP] += info as u64 * 8 + 8;
                    }
                    1
                }
                3 => 1, // SET_FPREG: handled when the frame was entered.
                4 => {
                    if applies {
                        regs.r[info] = mem::peek_u64((regs.r[RSP] + slot(1)? * 8) as usize)?;
                    }
                    2
                }
                5 => {
                    if applies {
                        let off = slot(1)? | (slot(2)? << 16);
                        regs.r[info] = mem::peek_u64((regs.r[RSP] + off) as usize)?;
                    }
                    3
                }
                6 => 2, // EPILOG (version 2): describes an epilog, no prologue effect.
                8 => 2, // SAVE_XMM128: floating-point state is not tracked.
                9 => 3, // SAVE_XMM128_FAR
                _ => return None, // PUSH_MACHFRAME and reserved codes.
            };
            i += used;
        }
        if flags & UNW_FLAG_CHAININFO != 0 {
            // The chained RUNTIME_FUNCTION follows the (even-padded) codes.
            let at = codes + count.div_ceil(2) * 4;
            let unwind_rva = mem::peek_u32(at + 8)?;
            info_at = base + unwind_rva as usize;
            first = false;
            continue;
        }
        break;
    }
    if primary_flags & (UNW_FLAG_EHANDLER | UNW_FLAG_UHANDLER) != 0
        && primary_flags & UNW_FLAG_CHAININFO == 0
    {
        let count = byte(primary_info + 2)? as usize;
        let at = primary_info + 4 + count.div_ceil(2) * 4;
        let handler = base as u64 + u64::from(mem::peek_u32(at)?);
        let data = (at + 4) as u64;
        frame.has_unwind_handler = primary_flags & UNW_FLAG_UHANDLER != 0;
        let wanted = if exception {
            UNW_FLAG_EHANDLER
        } else {
            UNW_FLAG_UHANDLER
        };
        if primary_flags & wanted != 0 {
            frame.handler = Some((handler, data));
        }
    }
    regs.rip = mem::peek_u64(regs.r[RSP] as usize)?;
    regs.r[RSP] += 8;
    Some(frame)
}

/// Unwinds one frame of any kind: a function with unwind data, or a leaf (return address on
/// top of the stack). `None` once the frame is not in the image or cannot be read.
pub fn step(image: &Image, regs: &mut Regs) -> Option<Frame> {
    if !image.contains(regs.rip as usize) {
        return None;
    }
    match image.function_at(regs.rip as usize) {
        Some(f) => unwind(image, f, regs, true),
        None => {
            let establisher = regs.r[RSP];
            regs.rip = mem::peek_u64(regs.r[RSP] as usize)?;
            regs.r[RSP] += 8;
            Some(Frame {
                establisher,
                ..Frame::default()
            })
        }
    }
}

/// The driver frames above `regs`, described, for a report.
pub fn stack(image: &Image, regs: Regs) -> Vec<String> {
    let mut out = vec![image.describe(regs.rip as usize)];
    let mut r = regs;
    for _ in 0..32 {
        if step(image, &mut r).is_none() || !image.contains(r.rip as usize) {
            break;
        }
        out.push(image.describe(r.rip as usize));
    }
    out
}

/// One record of the C-specific handler's scope table (image-relative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    pub begin: u32,
    pub end: u32,
    /// 1 means EXCEPTION_EXECUTE_HANDLER; otherwise the RVA of a filter function.
    pub handler: u32,
    /// 0 for a termination (__finally) handler.
    pub target: u32,
}

/// Reads a scope table: a record count followed by the records.
pub fn scope_table(at: usize) -> Option<Vec<Scope>> {
    let count = mem::peek_u32(at)? as usize;
    if count > 1024 {
        return None;
    }
    (0..count)
        .map(|i| {
            let r = at + 4 + i * 16;
            Some(Scope {
                begin: mem::peek_u32(r)?,
                end: mem::peek_u32(r + 4)?,
                handler: mem::peek_u32(r + 8)?,
                target: mem::peek_u32(r + 12)?,
            })
        })
        .collect()
}
