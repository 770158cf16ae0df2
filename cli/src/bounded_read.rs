//! Reading a file the user names whole, within a limit on its size: a list, a labels file, a
//! photo or a part file that is endless (`/dev/zero`, a pipe that never closes) or huge is an
//! error naming the limit, never a read that grows until the machine runs out of memory.

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// The most bytes a `--list` file may hold: ten million paths of a hundred bytes.
pub const MAX_LIST_BYTES: u64 = 1 << 30;

/// The most bytes a labels file may hold (ImageNet's 1000 names take 30 KB).
pub const MAX_LABELS_BYTES: u64 = 64 << 20;

/// The most bytes a photo's file may hold (an uncompressed 2^27-pixel BMP takes 400 MB).
pub const MAX_IMAGE_FILE_BYTES: u64 = 1 << 30;

/// The bytes of `path` when it holds at most `max_bytes`.
///
/// A regular file larger than the limit is refused before anything is read; a stream (a pipe,
/// a device) is read up to one byte past the limit. The error of a file over the limit has
/// kind [`ErrorKind::FileTooLarge`] and names the limit.
///
/// ```
/// use tiled_occlusion_cli::bounded_read::read_bounded;
/// let path = std::env::temp_dir().join("bounded_read_doctest.txt");
/// std::fs::write(&path, "0123456789").unwrap();
/// assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
/// assert_eq!(read_bounded(&path, 9).unwrap_err().kind(), std::io::ErrorKind::FileTooLarge);
/// ```
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(Error::new(ErrorKind::IsADirectory, "it is a folder, not a file"));
    }
    let too_large = || {
        Error::new(
            ErrorKind::FileTooLarge,
            format!("it holds more than {max_bytes} bytes, the most such a file may hold"),
        )
    };
    if metadata.is_file() && metadata.len() > max_bytes {
        return Err(too_large());
    }
    // A regular file's length sizes the buffer; a stream's is unknown (0).
    let capacity = usize::try_from(metadata.len().min(max_bytes)).unwrap_or(0);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(capacity).map_err(|_| Error::new(ErrorKind::OutOfMemory, "out of memory"))?;
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of `path` when it holds at most `max_bytes` of UTF-8 (see [`read_bounded`]).
///
/// ```
/// use tiled_occlusion_cli::bounded_read::read_bounded_text;
/// let path = std::env::temp_dir().join("bounded_read_text_doctest.txt");
/// std::fs::write(&path, [0xff, 0xfe]).unwrap();
/// assert_eq!(read_bounded_text(&path, 100).unwrap_err().to_string(), "it is not UTF-8 text");
/// ```
pub fn read_bounded_text(path: &Path, max_bytes: u64) -> Result<String, Error> {
    String::from_utf8(read_bounded(path, max_bytes)?)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "it is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tiled-occlusion-bounded-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_endless_stream_stops_one_byte_past_the_limit() {
        // /dev/zero never ends: read_to_end on it grows until memory runs out.
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("more than 1048576 bytes"), "{e}");
    }

    #[test]
    fn a_regular_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = scratch("big");
        let path = dir.join("big");
        // A sparse file of 8 GiB: reading it would take 8 GiB of memory.
        std::fs::File::create(&path).unwrap().set_len(8 << 30).unwrap();
        let e = read_bounded(&path, 1 << 30).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge, "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn files_at_the_limit_and_empty_files_are_read_and_folders_are_named() {
        let dir = scratch("small");
        let path = dir.join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(read_bounded(&path, 3).unwrap(), b"abc");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(read_bounded(&path, 0).unwrap(), b"");
        assert_eq!(read_bounded(&dir, 10).unwrap_err().kind(), ErrorKind::IsADirectory);
        assert_eq!(read_bounded(&dir.join("none"), 10).unwrap_err().kind(), ErrorKind::NotFound);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
