//! A file descriptor that a host's event loop polls to learn that a queue has entries.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// One end of a socket pair that becomes readable when raised, until cleared.
///
/// The queues that use it raise it only when they go from empty to non-empty, under
/// their own lock, so a host wakes once per batch and never misses an entry.
pub(crate) struct WakeSignal {
    reader: UnixStream,
    writer: UnixStream,
}

impl WakeSignal {
    pub(crate) fn new() -> std::io::Result<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(WakeSignal { reader, writer })
    }

    /// The descriptor the host polls for input.
    pub(crate) fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Makes the descriptor readable. It does not log a failure itself, because the log
    /// queue uses it too and must never log from inside its own push.
    pub(crate) fn raise(&self) -> std::io::Result<()> {
        match (&self.writer).write(&[1]) {
            // A full socket buffer already means "readable".
            Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Empties the descriptor, so that polling it blocks again.
    pub(crate) fn clear(&self) {
        let mut sink = [0u8; 64];
        while let Ok(read) = (&self.reader).read(&mut sink) {
            if read == 0 {
                break;
            }
        }
    }
}
