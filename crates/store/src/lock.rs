//! One writer at a time. The lock is an OS advisory lock on `_trailhunt/lock`, so it is
//! released by the kernel when the holder dies (even by SIGKILL): a crash never leaves a
//! store locked forever. The file's text names the holder for the error message.

use crate::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

pub const LOCK_PATH: &str = "_trailhunt/lock";

/// Held while writing; dropping it releases the lock.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

impl WriteLock {
    pub fn acquire(root: &Path, what: &str) -> Result<WriteLock, StoreError> {
        let path = root.join(LOCK_PATH);
        let dir = path.parent().expect("lock has a parent");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StoreError::Locked {
                    store: root.display().to_string(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{what} (pid {})", std::process::id());
        let _ = file.flush();
        Ok(WriteLock { _file: file })
    }
}
