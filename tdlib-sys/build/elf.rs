//! Reads the dynamic section of an ELF file: the SONAME of a shared library, so a
//! `libtdjson.so` of another TDLib release is caught at build time (its SONAME carries the full
//! version: `libtdjson.so.1.8.65`) instead of at run time; and the `NEEDED` libraries of a
//! program, which the tests check (a `static-deps` program needs only the C library).
//!
//! Follows the loader's own path (program headers → `PT_DYNAMIC` → `DT_SONAME`/`DT_NEEDED` in
//! `DT_STRTAB`), which works on stripped files too. Every offset is bounds-checked: a malformed
//! file gives an error, never a panic.

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_SONAME: u64 = 14;

struct Reader<'a> {
    bytes: &'a [u8],
    is_64: bool,
    little_endian: bool,
}

impl Reader<'_> {
    fn uint(&self, offset: u64, size: usize) -> Result<u64, String> {
        let start = usize::try_from(offset).map_err(|_| "offset out of range".to_owned())?;
        let field = start
            .checked_add(size)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| format!("truncated ELF file (wanted {size} bytes at {offset})"))?;
        let mut value = 0u64;
        for (index, byte) in field.iter().enumerate() {
            let shift = if self.little_endian {
                index
            } else {
                size - 1 - index
            };
            value |= u64::from(*byte) << (8 * shift);
        }
        Ok(value)
    }

    /// A word: 8 bytes in ELF64, 4 in ELF32.
    fn word(&self, offset: u64) -> Result<u64, String> {
        self.uint(offset, if self.is_64 { 8 } else { 4 })
    }
}

/// Returns the `DT_SONAME` of an ELF shared object, `Ok(None)` if it has none, or an error if
/// the bytes are not a well-formed ELF file.
pub fn soname(bytes: &[u8]) -> Result<Option<String>, String> {
    Ok(dynamic_strings(bytes, DT_SONAME)?.into_iter().next())
}

/// Returns the `DT_NEEDED` entries of an ELF file (the shared libraries the loader must find
/// for it), in order; empty for a static executable.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "only the tests read NEEDED lists")
)]
pub fn needed(bytes: &[u8]) -> Result<Vec<String>, String> {
    dynamic_strings(bytes, DT_NEEDED)
}

/// The strings of every dynamic-section entry tagged `wanted`, in order.
fn dynamic_strings(bytes: &[u8], wanted: u64) -> Result<Vec<String>, String> {
    if bytes.len() < 16 || &bytes[..4] != b"\x7fELF" {
        return Err("not an ELF file".to_owned());
    }
    let is_64 = match bytes[4] {
        1 => false,
        2 => true,
        class => return Err(format!("unknown ELF class {class}")),
    };
    let little_endian = match bytes[5] {
        1 => true,
        2 => false,
        data => return Err(format!("unknown ELF data encoding {data}")),
    };
    let r = Reader {
        bytes,
        is_64,
        little_endian,
    };

    // Program header table location and entry size.
    let (phoff, phentsize, phnum) = if is_64 {
        (r.uint(0x20, 8)?, r.uint(0x36, 2)?, r.uint(0x38, 2)?)
    } else {
        (r.uint(0x1c, 4)?, r.uint(0x2a, 2)?, r.uint(0x2c, 2)?)
    };

    // (p_vaddr, p_offset, p_filesz) of each PT_LOAD, and the PT_DYNAMIC segment's file range.
    let mut loads = Vec::new();
    let mut dynamic = None;
    for index in 0..phnum {
        let ph = phoff + index * phentsize;
        let p_type = r.uint(ph, 4)? as u32;
        let (offset, vaddr, filesz) = if is_64 {
            (r.uint(ph + 8, 8)?, r.uint(ph + 16, 8)?, r.uint(ph + 32, 8)?)
        } else {
            (r.uint(ph + 4, 4)?, r.uint(ph + 8, 4)?, r.uint(ph + 16, 4)?)
        };
        match p_type {
            PT_LOAD => loads.push((vaddr, offset, filesz)),
            PT_DYNAMIC => dynamic = Some((offset, filesz)),
            _ => {}
        }
    }
    let Some((dyn_offset, dyn_size)) = dynamic else {
        return Ok(Vec::new()); // A static executable or object: no dynamic section.
    };

    let entry_size = if is_64 { 16 } else { 8 };
    let mut strtab_vaddr = None;
    let mut name_offsets = Vec::new();
    for index in 0..dyn_size / entry_size {
        let entry = dyn_offset + index * entry_size;
        let tag = r.word(entry)?;
        let value = r.word(entry + entry_size / 2)?;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab_vaddr = Some(value),
            tag if tag == wanted => name_offsets.push(value),
            _ => {}
        }
    }
    if name_offsets.is_empty() {
        return Ok(Vec::new());
    }
    let strtab_vaddr = strtab_vaddr.ok_or("dynamic section has names but no DT_STRTAB")?;
    let strtab_file_offset = loads
        .iter()
        .find(|(vaddr, _, filesz)| {
            strtab_vaddr
                .checked_sub(*vaddr)
                .is_some_and(|into| into < *filesz)
        })
        .map(|(vaddr, offset, _)| strtab_vaddr - vaddr + offset)
        .ok_or("DT_STRTAB is outside every loaded segment")?;

    name_offsets
        .into_iter()
        .map(|name_offset| {
            let start = strtab_file_offset
                .checked_add(name_offset)
                .and_then(|start| usize::try_from(start).ok())
                .filter(|start| *start < bytes.len())
                .ok_or("a dynamic-section name points past the end of the file")?;
            let len = bytes[start..]
                .iter()
                .position(|byte| *byte == 0)
                .ok_or("a dynamic-section name is not terminated")?;
            String::from_utf8(bytes[start..start + len].to_vec())
                .map_err(|_| "a dynamic-section name is not valid UTF-8".to_owned())
        })
        .collect()
}
