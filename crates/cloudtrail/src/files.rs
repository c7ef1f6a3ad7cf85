//! Opening input files: only regular files are ever opened. A FIFO would block the scan
//! forever, a device could never end (`/dev/zero`) or have side effects when opened; they are
//! reported instead.

use std::fs::File;
use std::path::Path;

/// What a path is when it is not a regular file, in words; `None` for a regular file.
pub fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_char_device() {
        Some("a character device")
    } else {
        Some("not a regular file")
    }
}

/// Opens a regular file for reading, and nothing else: the type is checked before opening
/// (so a FIFO or device is never opened) and again on the open file (in case the path was
/// swapped in between; `O_NONBLOCK` keeps that open from blocking on a FIFO).
pub(crate) fn open_regular(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open: {e}"))?;
    if let Some(what) = not_regular(&meta) {
        return Err(format!("{what}, not a regular file: skipped, never opened"));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if let Some(what) = not_regular(&meta) {
        return Err(format!("{what}, not a regular file: skipped, never read"));
    }
    Ok(file)
}
