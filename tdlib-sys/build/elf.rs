//! Reads the SONAME of an ELF shared library, so a `libtdjson.so` of another TDLib release is
//! caught at build time (its SONAME carries the full version: `libtdjson.so.1.8.65`) instead
//! of at run time.
//!
//! Follows the loader's own path (program headers → `PT_DYNAMIC` → `DT_SONAME` in `DT_STRTAB`),
//! which works on stripped libraries too. Every offset is bounds-checked: a malformed file gives
//! an error, never a panic.

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
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
        return Ok(None); // A static executable or object: no dynamic section, no SONAME.
    };

    let entry_size = if is_64 { 16 } else { 8 };
    let mut strtab_vaddr = None;
    let mut soname_offset = None;
    for index in 0..dyn_size / entry_size {
        let entry = dyn_offset + index * entry_size;
        let tag = r.word(entry)?;
        let value = r.word(entry + entry_size / 2)?;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab_vaddr = Some(value),
            DT_SONAME => soname_offset = Some(value),
            _ => {}
        }
    }
    let Some(name_offset) = soname_offset else {
        return Ok(None);
    };
    let strtab_vaddr = strtab_vaddr.ok_or("dynamic section has DT_SONAME but no DT_STRTAB")?;
    let strtab_file_offset = loads
        .iter()
        .find(|(vaddr, _, filesz)| strtab_vaddr >= *vaddr && strtab_vaddr < vaddr + filesz)
        .map(|(vaddr, offset, _)| strtab_vaddr - vaddr + offset)
        .ok_or("DT_STRTAB is outside every loaded segment")?;

    let start = usize::try_from(strtab_file_offset + name_offset)
        .ok()
        .filter(|start| *start < bytes.len())
        .ok_or("DT_SONAME points past the end of the file")?;
    let len = bytes[start..]
        .iter()
        .position(|byte| *byte == 0)
        .ok_or("DT_SONAME string is not terminated")?;
    String::from_utf8(bytes[start..start + len].to_vec())
        .map(Some)
        .map_err(|_| "DT_SONAME is not valid UTF-8".to_owned())
}
