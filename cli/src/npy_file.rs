//! Reading `.npy` files and the arrays of `.npz` archives that a user names, safely: the
//! header's shape is checked against the bytes that are really there before anything is
//! allocated for the values (a 128-byte file claiming 2⁴⁰ values aborted the process when the
//! values were allocated first), and the element type is read from the header, not guessed.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::npy::header::Header;
use ndarray_npy::ReadNpyExt;

use crate::cli_error::{usage, CliError};

/// The values of a `.npy` array, in the element type its header names.
#[derive(Debug)]
pub enum NpyArray {
    /// `f4`.
    F32(ArrayD<f32>),
    /// `f8`.
    F64(ArrayD<f64>),
    /// `i8`.
    I64(ArrayD<i64>),
    /// `i4`.
    I32(ArrayD<i32>),
}

impl NpyArray {
    /// The element type as numpy names it (`float32`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            NpyArray::F32(_) => "float32",
            NpyArray::F64(_) => "float64",
            NpyArray::I64(_) => "int64",
            NpyArray::I32(_) => "int32",
        }
    }
}

/// The element types read, by the code after the byte order in the header's `descr`, with
/// their sizes in bytes.
const TYPES: [(&str, usize, &str); 4] =
    [("f4", 4, "float32"), ("f8", 8, "float64"), ("i8", 8, "int64"), ("i4", 4, "int32")];

/// Reads the `.npy` file at `path` (`what` names it in errors: `input`, `--mask`, …), straight
/// from the file (the values are allocated once, after the header is checked).
pub fn read_npy_file(path: &Path, what: &str) -> Result<NpyArray, CliError> {
    if !path.is_file() {
        return usage(format!("{what} {} does not exist", path.display()));
    }
    let source = format!("{what} {}", path.display());
    let file = File::open(path).or_else(|e| usage(format!("{source}: {e}")))?;
    let total = file.metadata().or_else(|e| usage(format!("{source}: {e}")))?.len();
    read_npy_from(BufReader::new(file), total, &source)
}

/// Reads array `name` (or `name.npy`, as numpy names them) of the `.npz` archive `file`.
pub fn read_npz_member(file: &Path, name: &str, what: &str) -> Result<NpyArray, CliError> {
    let source = format!("{what} {}:{name}", file.display());
    let f = File::open(file).or_else(|e| usage(format!("{what} {}: {e}", file.display())))?;
    let mut archive =
        zip::ZipArchive::new(f).or_else(|e| usage(format!("{what} {} is not a .npz archive: {e}", file.display())))?;
    let entry = [name.to_string(), format!("{name}.npy")].into_iter().find(|n| archive.file_names().any(|f| f == n));
    let Some(entry) = entry else {
        let names: Vec<&str> = archive.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n)).collect();
        return usage(format!("{source}: the archive has no array {name:?}; it holds {}", names.join(", ")));
    };
    let mut member = archive.by_name(&entry).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(why) if why.contains("Compression") => CliError::Usage(format!(
            "{source}: the archive is compressed (numpy.savez_compressed), which is not read; save it with numpy.savez or as .npy files"
        )),
        other => CliError::Usage(format!("{source}: {other}")),
    })?;
    // Read what is there (the entry's declared size is not trusted for the allocation). Members
    // are stored, not compressed (zip is built without decompressors), so this is at most the
    // archive's size; reading compressed members would need a cap here against zip bombs.
    let mut bytes = Vec::new();
    member.read_to_end(&mut bytes).or_else(|e| usage(format!("{source}: {e}")))?;
    let total = bytes.len() as u64;
    read_npy_from(Cursor::new(bytes), total, &source)
}

/// Reads a `.npy` of `total` bytes from `reader`: the header's own length, then its shape, are
/// checked against the bytes there before anything of their size is allocated, then the values
/// are read in the element type the header names.
fn read_npy_from<R: Read + Seek>(mut reader: R, total: u64, source: &str) -> Result<NpyArray, CliError> {
    let io = |e: std::io::Error| CliError::Usage(format!("{source}: {e}"));
    // Magic (6 bytes), version (2), then the header's length: 2 bytes in version 1, 4 in
    // versions 2 and 3 (ndarray-npy allocates that much, up to 4 GiB, before parsing it).
    let mut prefix = Vec::with_capacity(12);
    reader.by_ref().take(12).read_to_end(&mut prefix).map_err(io)?;
    let header_end = match (prefix.get(6), prefix.get(8..12)) {
        (Some(1), Some(len)) => 10 + u64::from(u16::from_le_bytes([len[0], len[1]])),
        (Some(2 | 3), Some(len)) => 12 + u64::from(u32::from_le_bytes([len[0], len[1], len[2], len[3]])),
        _ => 0,
    };
    if header_end > total {
        return usage(format!(
            "{source} is not a .npy file: its header claims {header_end} bytes, the file holds {total}"
        ));
    }
    reader.rewind().map_err(io)?;
    let header = Header::from_reader(&mut reader).or_else(|e| usage(format!("{source} is not a .npy file: {e}")))?;
    let available = total.saturating_sub(reader.stream_position().map_err(io)?);
    let descr = header.type_descriptor.to_string();
    let code = descr.trim_matches(|c| c == '\'' || c == '"');
    let code = code.strip_prefix(['<', '>']).unwrap_or(code);
    let Some(&(code, size, _)) = TYPES.iter().find(|(c, _, _)| *c == code) else {
        let known: Vec<&str> = TYPES.iter().map(|t| t.2).collect();
        return usage(format!("{source} holds values of type {descr}, which is not read ({} are)", known.join(", ")));
    };
    let values = header.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let needed = values.and_then(|v| v.checked_mul(size));
    if needed.is_none_or(|n| n as u64 > available) {
        return usage(format!(
            "{source}: the header claims shape {:?} ({} bytes of values) but the file holds {available} bytes after it (damaged or cut short)",
            header.shape,
            needed.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
        ));
    }
    reader.rewind().map_err(io)?;
    let bad = |e: ndarray_npy::ReadNpyError| CliError::Usage(format!("{source}: {e}"));
    Ok(match code {
        "f4" => NpyArray::F32(ArrayD::<f32>::read_npy(&mut reader).map_err(bad)?),
        "f8" => NpyArray::F64(ArrayD::<f64>::read_npy(&mut reader).map_err(bad)?),
        "i8" => NpyArray::I64(ArrayD::<i64>::read_npy(&mut reader).map_err(bad)?),
        _ => NpyArray::I32(ArrayD::<i32>::read_npy(&mut reader).map_err(bad)?),
    })
}

/// [`read_npy_from`] on bytes in memory.
#[cfg(test)]
fn parse_npy(bytes: &[u8], source: &str) -> Result<NpyArray, CliError> {
    read_npy_from(Cursor::new(bytes), bytes.len() as u64, source)
}

#[cfg(test)]
mod tests {
    use super::{parse_npy, NpyArray};

    /// A version-1 `.npy` of `descr` and `shape` followed by `data`, as numpy lays it out.
    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn values_are_read_in_the_type_the_header_names() {
        let data: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        match parse_npy(&npy("<f4", "(2,)", &data), "x") {
            Ok(NpyArray::F32(a)) => assert_eq!(a.iter().copied().collect::<Vec<_>>(), [1.5, -2.0]),
            other => panic!("{other:?}"),
        }
        let data: Vec<u8> = [7i64, -3].iter().flat_map(|v| v.to_be_bytes()).collect();
        match parse_npy(&npy(">i8", "(1, 2)", &data), "x") {
            Ok(NpyArray::I64(a)) => {
                assert_eq!((a.shape(), a.iter().copied().collect::<Vec<_>>()), (&[1, 2][..], vec![7, -3]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_header_claiming_more_values_than_the_file_holds_is_refused_before_any_allocation() {
        let four_bytes = 1.0f32.to_le_bytes();
        for shape in ["(1099511627776,)", "(4294967296, 4294967296)", "(18446744073709551615, 2)", "(2,)"] {
            let error = parse_npy(&npy("<f4", shape, &four_bytes), "--baseline b.npy").expect_err(shape).to_string();
            assert!(error.contains("--baseline b.npy: the header claims shape"), "{error}");
            assert!(error.contains("holds 4 bytes after it"), "{error}");
        }
        let error = parse_npy(&npy("<u2", "(2,)", &four_bytes), "m.npy").expect_err("u2").to_string();
        assert!(error.contains("holds values of type '<u2', which is not read (float32"), "{error}");
        // A version-2 header claiming 4 GiB of header was allocated before it was parsed.
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&u32::MAX.to_le_bytes());
        v2.extend_from_slice(b"{'descr': '<f4'");
        let error = parse_npy(&v2, "v2.npy").expect_err("v2").to_string();
        assert!(
            error.contains("v2.npy is not a .npy file: its header claims 4294967307 bytes, the file holds 27"),
            "{error}"
        );
        let error = parse_npy(b"\x93NUMPY\x01", "cut.npy").expect_err("cut").to_string();
        assert!(error.contains("cut.npy is not a .npy file"), "{error}");
        // Extra bytes after the values are a damaged file too.
        let error = parse_npy(&npy("<f4", "(0,)", &four_bytes), "extra.npy").expect_err("extra").to_string();
        assert!(error.starts_with("extra.npy: "), "{error}");
    }
}
