//! File transfers of the blocking face: the same trackers as the async face
//! ([`crate::transfer`]), with their events in a channel an event loop can poll or `select!`.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tdlib_types::{functions, types};

use super::{Client, wait_guard};
use crate::Error;
use crate::transfer::{self, Downloaded, Output, Transfer, TransferEvent};

/// A channel's sending side, dropped after the last event so that the channel disconnects.
struct ChannelOutput<T>(Mutex<Option<Sender<TransferEvent<T>>>>);

impl<T: Send> Output<T> for ChannelOutput<T> {
    fn send(&self, event: TransferEvent<T>) -> bool {
        let sender = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sender
            .as_ref()
            .is_some_and(|sender| sender.send(event).is_ok())
    }

    fn close(&self) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
    }
}

fn channel<T: Send + 'static>() -> (Box<dyn Output<T>>, Receiver<TransferEvent<T>>) {
    let (sender, receiver) = crossbeam_channel::unbounded();
    (Box::new(ChannelOutput(Mutex::new(Some(sender)))), receiver)
}

/// A download (blocking face): its [`TransferEvent`]s in a channel ([`Download::events`]),
/// which disconnects after the first `Done` or `Failed` (or when the `Download` is dropped). Dropping it stops following the
/// download; the last one of a file dropped before the download completed cancels it
/// (`cancelDownloadFile`).
pub struct Download {
    file_id: i32,
    events: Receiver<TransferEvent<Downloaded>>,
    transfer: Transfer,
}

/// A message being sent (blocking face): upload progress if it has a file, then the message
/// as the server has it (its final id), or why it was not sent; in a channel
/// ([`OutgoingMessage::events`]).
pub struct OutgoingMessage {
    events: Receiver<TransferEvent<types::Message>>,
    transfer: Transfer,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Download")
            .field("file_id", &self.file_id)
            .field("ended", &self.transfer.is_ended())
            .finish()
    }
}

impl fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::OutgoingMessage")
            .field("ended", &self.transfer.is_ended())
            .finish()
    }
}

impl Download {
    /// The file being downloaded.
    pub fn file_id(&self) -> i32 {
        self.file_id
    }

    /// The channel of its events, for `try_recv` in an event loop or `select!`.
    pub fn events(&self) -> &Receiver<TransferEvent<Downloaded>> {
        &self.events
    }

    /// Blocks until the download ends: the downloaded file, or why not.
    pub fn finish(self) -> Result<Downloaded, Error> {
        wait_guard("blocking::Download::finish")?;
        finish(&self.events)
    }

    /// [`Download::finish`] with a time limit (then an error whose
    /// [`is_timeout`](Error::is_timeout) is true, and the download goes on while this is kept).
    pub fn finish_timeout(&self, limit: Duration) -> Result<Downloaded, Error> {
        wait_guard("blocking::Download::finish_timeout")?;
        finish_timeout(&self.events, limit)
    }
}

impl OutgoingMessage {
    /// The message's temporary id while it is being sent, once TDLib has answered (see
    /// [`crate::transfer::OutgoingMessage::pending_message_id`]).
    pub fn pending_message_id(&self) -> Option<i64> {
        self.transfer.pending_message_id()
    }

    /// The channel of its events, for `try_recv` in an event loop or `select!`.
    pub fn events(&self) -> &Receiver<TransferEvent<types::Message>> {
        &self.events
    }

    /// Blocks until the message is sent (the message with its final id) or failed.
    pub fn finish(self) -> Result<types::Message, Error> {
        wait_guard("blocking::OutgoingMessage::finish")?;
        finish(&self.events)
    }

    /// [`OutgoingMessage::finish`] with a time limit.
    pub fn finish_timeout(&self, limit: Duration) -> Result<types::Message, Error> {
        wait_guard("blocking::OutgoingMessage::finish_timeout")?;
        finish_timeout(&self.events, limit)
    }
}

fn finish<T>(events: &Receiver<TransferEvent<T>>) -> Result<T, Error> {
    finish_timeout(events, Duration::MAX)
}

fn finish_timeout<T>(events: &Receiver<TransferEvent<T>>, limit: Duration) -> Result<T, Error> {
    let deadline = std::time::Instant::now().checked_add(limit);
    loop {
        let event = match deadline {
            Some(deadline) => events.recv_deadline(deadline),
            None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(TransferEvent::Done(done)) => return Ok(done),
            Ok(TransferEvent::Failed(error)) => return Err(error),
            Ok(TransferEvent::Progress(_)) => {}
            Err(RecvTimeoutError::Timeout) => return Err(Error::timeout()),
            // Only after the last event, which was returned above (or taken by someone else
            // reading the channel).
            Err(RecvTimeoutError::Disconnected) => return Err(Error::closed()),
        }
    }
}

impl Client {
    /// Downloads a file (priority 1; see [`crate::Client::download_file`]): progress, then the
    /// path or why not, through [`Download::events`].
    pub fn download_file(&self, file_id: i32) -> Download {
        self.download_file_with_priority(file_id, 1)
    }

    /// [`Client::download_file`] with TDLib's priority, 1 to 32 (higher first).
    pub fn download_file_with_priority(&self, file_id: i32, priority: i32) -> Download {
        let (output, events) = channel();
        let transfer = transfer::download(&self.inner, file_id, priority, output);
        Download {
            file_id,
            events,
            transfer,
        }
    }

    /// Sends a message and follows it until the server has it (see
    /// [`crate::Client::send_message`]).
    pub fn send_message(&self, request: functions::SendMessage) -> OutgoingMessage {
        let (output, events) = channel();
        let transfer = transfer::send_message(&self.inner, request, output);
        OutgoingMessage { events, transfer }
    }
}
