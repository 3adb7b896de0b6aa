//! The loader: maps a PE32+ kernel image the way the Windows memory manager would, at a base
//! that is never its preferred one (so every base relocation is exercised), binds its imports by
//! name to the emulator's exports (an import the emulator lacks fails the load, naming it),
//! applies section protections, and keeps `.pdata` and the `.pdb`'s public symbols so any
//! address inside the image can be named `image!function+0xoffset`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile64};
use object::LittleEndian as LE;
use object::{Object, ObjectSection};

use crate::mem;

/// One `RUNTIME_FUNCTION` of `.pdata`, image-relative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeFunction {
    pub begin: u32,
    pub end: u32,
    pub unwind: u32,
}

#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub rva: u32,
    pub size: u32,
    pub prot: i32,
}

#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    /// Where the bound address is stored (image-relative).
    pub iat_rva: u32,
}

/// A mapped image.
#[derive(Debug)]
pub struct Image {
    pub name: String,
    pub base: usize,
    pub size: usize,
    pub preferred_base: u64,
    pub entry: usize,
    pub sections: Vec<Section>,
    pub imports: Vec<Import>,
    pub functions: Vec<RuntimeFunction>,
    /// Public symbols from the `.pdb` (demangled), by RVA.
    pub symbols: BTreeMap<u32, String>,
    pub relocations_applied: usize,
}

/// Each image gets its own 4 GiB window above [`mem::IMAGE_BASE`].
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

fn section_prot(characteristics: u32) -> i32 {
    let mut prot = 0;
    if characteristics & pe::IMAGE_SCN_MEM_READ != 0 {
        prot |= mem::PROT_READ;
    }
    if characteristics & pe::IMAGE_SCN_MEM_WRITE != 0 {
        prot |= libc::PROT_WRITE;
    }
    if characteristics & pe::IMAGE_SCN_MEM_EXECUTE != 0 {
        prot |= libc::PROT_EXEC;
    }
    prot
}

impl Image {
    /// Maps the image file at `path`. `resolve(module, name)` returns the address an import
    /// binds to; the load fails naming every import it cannot resolve.
    pub fn load(
        path: &Path,
        resolve: &mut dyn FnMut(&str, &str) -> Option<usize>,
    ) -> Result<Image, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let file =
            PeFile64::parse(&*data).map_err(|e| format!("{name}: not a PE32+ image: {e}"))?;
        let nt = file.nt_headers();
        let opt = nt.optional_header();
        if nt.file_header().machine.get(LE) != pe::IMAGE_FILE_MACHINE_AMD64 {
            return Err(format!("{name}: not an x64 image"));
        }
        let size = opt.size_of_image() as usize;
        let preferred_base = opt.image_base();
        let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
        let base = mem::IMAGE_BASE + slot * 0x1_0000_0000;
        if base as u64 == preferred_base {
            return Err("emulator bug: an image at its preferred base".into());
        }
        let mapped = mem::round_up(size, mem::PAGE);
        mem::map_fixed(base, mapped, mem::PROT_RW)
            .map_err(|e| format!("{name}: mapping {mapped:#x} bytes at {base:#x}: {e}"))?;
        // SAFETY: the whole image range was just mapped read-write for this image alone.
        let image = unsafe { mem::Raw::new(base, mapped) };

        let headers = opt.size_of_headers() as usize;
        image.write_bytes(0, data.get(..headers.min(data.len())).unwrap_or(&[]));
        let mut sections = Vec::new();
        for s in file.section_table().iter() {
            let rva = s.virtual_address.get(LE);
            let vsize = s.virtual_size.get(LE);
            let (raw_at, raw_len) = (
                s.pointer_to_raw_data.get(LE) as usize,
                s.size_of_raw_data.get(LE) as usize,
            );
            let copy = raw_len.min(vsize as usize);
            let bytes = data
                .get(raw_at..raw_at + copy)
                .ok_or_else(|| format!("{name}: section data outside the file"))?;
            image.write_bytes(rva as usize, bytes);
            sections.push(Section {
                name: String::from_utf8_lossy(s.raw_name())
                    .trim_end_matches('\0')
                    .into(),
                rva,
                size: vsize,
                prot: section_prot(s.characteristics.get(LE)),
            });
        }

        // Base relocations: only DIR64 (and the ABSOLUTE padding) occur in an x64 image.
        let delta = (base as u64).wrapping_sub(preferred_base);
        let mut relocations_applied = 0;
        let dirs = file.data_directories();
        if let Some(mut blocks) = dirs
            .relocation_blocks(&*data, &file.section_table())
            .map_err(|e| format!("{name}: relocations: {e}"))?
        {
            while let Some(block) = blocks
                .next()
                .map_err(|e| format!("{name}: relocations: {e}"))?
            {
                for r in block {
                    match r.typ {
                        pe::IMAGE_REL_BASED_ABSOLUTE => {}
                        pe::IMAGE_REL_BASED_DIR64 => {
                            let at = r.virtual_address as usize;
                            image.w64(at, image.r64(at).wrapping_add(delta));
                            relocations_applied += 1;
                        }
                        other => {
                            return Err(format!(
                                "{name}: relocation type {other} at {:#x}",
                                r.virtual_address
                            ))
                        }
                    }
                }
            }
        }

        // Imports, bound by name.
        let mut imports = Vec::new();
        let mut missing = Vec::new();
        if let Some(table) = file
            .import_table()
            .map_err(|e| format!("{name}: imports: {e}"))?
        {
            let mut descriptors = table
                .descriptors()
                .map_err(|e| format!("{name}: imports: {e}"))?;
            while let Some(d) = descriptors
                .next()
                .map_err(|e| format!("{name}: imports: {e}"))?
            {
                let module = String::from_utf8_lossy(
                    table
                        .name(d.name.get(LE))
                        .map_err(|e| format!("{name}: import name: {e}"))?,
                )
                .into_owned();
                let lookup = match d.original_first_thunk.get(LE) {
                    0 => d.first_thunk.get(LE),
                    n => n,
                };
                let mut thunks = table
                    .thunks(lookup)
                    .map_err(|e| format!("{name}: thunks: {e}"))?;
                let mut index = 0u32;
                while let Some(thunk) = thunks
                    .next::<pe::ImageNtHeaders64>()
                    .map_err(|e| format!("{name}: thunks: {e}"))?
                {
                    let import = table
                        .import::<pe::ImageNtHeaders64>(thunk)
                        .map_err(|e| format!("{name}: import: {e}"))?;
                    let func = match import {
                        object::read::pe::Import::Name(_, n) => {
                            String::from_utf8_lossy(n).into_owned()
                        }
                        object::read::pe::Import::Ordinal(o) => format!("#{o}"),
                    };
                    let iat_rva = d.first_thunk.get(LE) + index * 8;
                    match resolve(&module, &func) {
                        Some(addr) => image.w64(iat_rva as usize, addr as u64),
                        None => missing.push(format!("{module}!{func}")),
                    }
                    imports.push(Import {
                        module: module.clone(),
                        name: func,
                        iat_rva,
                    });
                    index += 1;
                }
            }
        }
        if !missing.is_empty() {
            mem::unmap(base, mapped);
            return Err(format!(
                "{name} imports what the emulated kernel does not export: {}",
                missing.join(", ")
            ));
        }

        let mut functions = Vec::new();
        if let Some(pdata) = file.section_by_name(".pdata") {
            let bytes = pdata.data().map_err(|e| format!("{name}: .pdata: {e}"))?;
            for chunk in bytes.chunks_exact(12) {
                let word = |i: usize| {
                    u32::from_le_bytes([chunk[i], chunk[i + 1], chunk[i + 2], chunk[i + 3]])
                };
                if word(0) != 0 {
                    functions.push(RuntimeFunction {
                        begin: word(0),
                        end: word(4),
                        unwind: word(8),
                    });
                }
            }
            functions.sort_by_key(|f| f.begin);
        }

        // Protections last: headers read-only, each section as its characteristics say.
        mem::protect(base, mem::round_up(headers, mem::PAGE), mem::PROT_READ)
            .map_err(|e| format!("{name}: protecting headers: {e}"))?;
        for s in &sections {
            let len = mem::round_up(s.size as usize, mem::PAGE);
            mem::protect(base + s.rva as usize, len, s.prot)
                .map_err(|e| format!("{name}: protecting {}: {e}", s.name))?;
        }

        let symbols = load_pdb_publics(&path.with_extension("pdb")).unwrap_or_default();
        Ok(Image {
            name,
            base,
            size,
            preferred_base,
            entry: base + opt.address_of_entry_point() as usize,
            sections,
            imports,
            functions,
            symbols,
            relocations_applied,
        })
    }

    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.base && addr < self.base + self.size
    }

    pub fn rva(&self, addr: usize) -> Option<u32> {
        self.contains(addr).then(|| (addr - self.base) as u32)
    }

    /// The `.pdata` entry whose range holds `addr`.
    pub fn function_at(&self, addr: usize) -> Option<RuntimeFunction> {
        let rva = self.rva(addr)?;
        let i = self.functions.partition_point(|f| f.begin <= rva);
        let f = *self.functions.get(i.checked_sub(1)?)?;
        (rva < f.end).then_some(f)
    }

    /// The section an address lies in.
    pub fn section_at(&self, addr: usize) -> Option<&Section> {
        let rva = self.rva(addr)?;
        self.sections.iter().find(|s| {
            rva >= s.rva && rva < s.rva + mem::round_up(s.size as usize, mem::PAGE) as u32
        })
    }

    /// `rsmailslot.sys!rsmailslot::io::read+0x1a`, or `rsmailslot.sys+0x2345` without symbols.
    pub fn describe(&self, addr: usize) -> String {
        let Some(rva) = self.rva(addr) else {
            return format!("{addr:#x}");
        };
        let start = self.function_at(addr).map(|f| f.begin);
        let named = self
            .symbols
            .range(..=rva)
            .next_back()
            .filter(|(at, _)| start.is_none_or(|s| **at >= s));
        match (named, start) {
            (Some((at, sym)), _) => format!("{}!{sym}+{:#x}", self.name, rva - at),
            (None, Some(s)) => format!("{}!function@{s:#x}+{:#x}", self.name, rva - s),
            (None, None) => format!("{}+{rva:#x}", self.name),
        }
    }

    /// The address of a public symbol whose demangled name ends with `suffix`.
    pub fn symbol(&self, suffix: &str) -> Option<usize> {
        self.symbols
            .iter()
            .find(|(_, n)| n.ends_with(suffix))
            .map(|(rva, _)| self.base + *rva as usize)
    }

    /// Writable sections' ranges: where a driver's statics (and any KDPC it keeps there) live.
    pub fn writable_ranges(&self) -> Vec<(usize, usize)> {
        self.sections
            .iter()
            .filter(|s| s.prot & libc::PROT_WRITE != 0)
            .map(|s| (self.base + s.rva as usize, s.size as usize))
            .collect()
    }
}

/// Function symbols of a `.pdb`, demangled, by RVA: the publics, and the procedures of every
/// module (which name the functions the linker kept local, such as closures and inlined
/// helpers' outlined copies); `None` when there is no readable `.pdb`.
fn load_pdb_publics(path: &Path) -> Option<BTreeMap<u32, String>> {
    use pdb::FallibleIterator;
    let file = std::fs::File::open(path).ok()?;
    let mut pdb = pdb::PDB::open(file).ok()?;
    let map = pdb.address_map().ok()?;
    let mut out = BTreeMap::new();
    let mut add = |offset: pdb::PdbInternalSectionOffset, raw: String| {
        if let Some(rva) = offset.to_rva(&map) {
            out.entry(rva.0)
                .or_insert_with(|| format!("{:#}", rustc_demangle::demangle(&raw)));
        }
    };
    let globals = pdb.global_symbols().ok()?;
    let mut symbols = globals.iter();
    while let Ok(Some(sym)) = symbols.next() {
        if let Ok(pdb::SymbolData::Public(p)) = sym.parse() {
            add(p.offset, p.name.to_string().into_owned());
        }
    }
    let dbi = pdb.debug_information().ok()?;
    let mut modules = dbi.modules().ok()?;
    while let Ok(Some(module)) = modules.next() {
        let Ok(Some(info)) = pdb.module_info(&module) else {
            continue;
        };
        let Ok(mut symbols) = info.symbols() else {
            continue;
        };
        while let Ok(Some(sym)) = symbols.next() {
            if let Ok(pdb::SymbolData::Procedure(p)) = sym.parse() {
                add(p.offset, p.name.to_string().into_owned());
            }
        }
    }
    Some(out)
}
