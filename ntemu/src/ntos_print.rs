//! The printf subset of DbgPrintEx: `%s` (a narrow string), `%S`/`%ws` (a wide one), `%d`
//! `%i` `%u` `%x` `%X` `%p` `%c` `%%`, with the `l`, `ll`, `I64` and `z` size prefixes and a
//! width. Strings are read without trusting their pointers.

use crate::mem;

fn narrow(addr: u64) -> String {
    let mut out = Vec::new();
    let mut at = addr as usize;
    while out.len() < 4096 {
        match mem::peek_u8(at) {
            Some(0) | None => break,
            Some(b) => out.push(b),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn wide(addr: u64) -> String {
    let mut out = Vec::new();
    let mut at = addr as usize;
    while out.len() < 4096 {
        match mem::peek_u16(at) {
            Some(0) | None => break,
            Some(u) => out.push(u),
        }
        at += 2;
    }
    String::from_utf16_lossy(&out)
}

/// Formats the NUL-terminated format string at `format` with `args` (one 8-byte slot each).
pub fn format(format: usize, args: &[u64]) -> String {
    let fmt = narrow(format as u64);
    let mut out = String::new();
    let mut next = args.iter().copied();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '-' || d == '0' {
                width.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let mut long = false;
        loop {
            match chars.peek() {
                Some('l') | Some('z') | Some('h') => {
                    long = true;
                    chars.next();
                }
                Some('I') => {
                    chars.next();
                    for _ in 0..2 {
                        chars.next();
                    }
                    long = true;
                }
                Some('w') => {
                    chars.next();
                    if chars.peek() == Some(&'s') {
                        chars.next();
                        out.push_str(&wide(next.next().unwrap_or(0)));
                    }
                    break;
                }
                _ => break,
            }
        }
        let pad = width.trim_start_matches('-').parse::<usize>().unwrap_or(0);
        let zero = width.starts_with('0');
        let spec = chars.next().unwrap_or('%');
        let text = match spec {
            '%' => "%".to_string(),
            's' => narrow(next.next().unwrap_or(0)),
            'S' => wide(next.next().unwrap_or(0)),
            'c' => char::from(next.next().unwrap_or(0) as u8).to_string(),
            'd' | 'i' => {
                let v = next.next().unwrap_or(0);
                if long {
                    (v as i64).to_string()
                } else {
                    (v as i32).to_string()
                }
            }
            'u' => {
                let v = next.next().unwrap_or(0);
                if long {
                    v.to_string()
                } else {
                    (v as u32).to_string()
                }
            }
            'x' | 'X' | 'p' => {
                let v = next.next().unwrap_or(0);
                let v = if long || spec == 'p' {
                    v
                } else {
                    u64::from(v as u32)
                };
                let s = if spec == 'X' {
                    format!("{v:X}")
                } else {
                    format!("{v:x}")
                };
                if spec == 'p' {
                    format!("{s:0>16}")
                } else {
                    s
                }
            }
            other => format!("%{other}"),
        };
        if text.len() < pad {
            let fill = if zero { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(fill, pad - text.len()));
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_what_drivers_print() {
        let f = b"%s failed: 0x%08X (%d, %u, %p) %%\0";
        let s = b"WdfDriverCreate\0";
        let out = format(
            f.as_ptr() as usize,
            &[
                s.as_ptr() as u64,
                0xC000_009A,
                (-5i32) as u32 as u64,
                7,
                0x1234,
            ],
        );
        assert_eq!(
            out,
            "WdfDriverCreate failed: 0xC000009A (-5, 7, 0000000000001234) %"
        );
    }
}
