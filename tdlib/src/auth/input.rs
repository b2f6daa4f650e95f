//! Lines from standard input for prompts, read by one long-lived thread of the process.
//!
//! A prompt that is cancelled (its future dropped, say because the login it belongs to timed
//! out) must not take the line the user types next: that line may be the answer to the next
//! question, a password even. So the thread reads only while a prompt waits, and only what is
//! already there: it polls standard input with a short timeout and checks between polls whether
//! the prompt still waits. A line that arrives after its prompt was cancelled stays in the
//! input for the next prompt. Input is read in whatever pieces it comes and split into lines
//! here, so a partial line is never lost either.
//!
//! A hidden prompt (a password) switches the terminal's echo off while it waits, if standard
//! input is a terminal.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use tokio::sync::oneshot;

/// One prompt waiting for its line.
struct Prompt {
    text: String,
    hidden: bool,
    line: oneshot::Sender<Result<String, String>>,
}

/// Shows `prompt` on standard error and returns the next line of standard input (without its
/// line ending), or why there is none.
pub(crate) async fn read_line(prompt: String, hidden: bool) -> Result<String, String> {
    static PROMPTS: OnceLock<Mutex<Option<mpsc::Sender<Prompt>>>> = OnceLock::new();
    let (line, answer) = oneshot::channel();
    let request = Prompt {
        text: prompt,
        hidden,
        line,
    };
    {
        let mut prompts = PROMPTS
            .get_or_init(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let sender = match prompts.as_ref() {
            Some(sender) => sender.clone(),
            None => {
                let (sender, receiver) = mpsc::channel();
                std::thread::Builder::new()
                    .name("tdlib-input".into())
                    .spawn(move || Reader::default().serve(receiver))
                    .map_err(|error| format!("cannot start the input thread: {error}"))?;
                *prompts = Some(sender.clone());
                sender
            }
        };
        sender
            .send(request)
            .map_err(|_| "the input thread stopped".to_owned())?;
    }
    // A hidden prompt dropped while it waits (Ctrl-C in a program that then exits, say) gives
    // the terminal its echo back at once, not at the input thread's next look.
    let _echo_back = hidden.then(|| platform::EchoBack);
    answer
        .await
        .unwrap_or_else(|_| Err("the input thread stopped".to_owned()))
}

/// The input thread's state: what was read but not yet handed out.
#[derive(Default)]
struct Reader {
    /// Complete lines not asked for yet.
    lines: VecDeque<String>,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    /// Standard input has ended.
    ended: bool,
}

impl Reader {
    fn serve(mut self, prompts: mpsc::Receiver<Prompt>) {
        for prompt in prompts {
            if prompt.line.is_closed() {
                continue; // cancelled before its turn: nothing is shown or read
            }
            eprint!("{}", prompt.text);
            let line = self.next_line(&prompt);
            if let Some(line) = line {
                // If the prompt was cancelled meanwhile, keep the line for the next one.
                if let Err(Ok(line)) = prompt.line.send(line) {
                    self.lines.push_front(line);
                }
            }
        }
    }

    /// The next line for `prompt`; `None` if the prompt was cancelled first.
    fn next_line(&mut self, prompt: &Prompt) -> Option<Result<String, String>> {
        let _echo = prompt.hidden.then(platform::EchoOff::new);
        loop {
            if let Some(line) = self.lines.pop_front() {
                if prompt.hidden {
                    eprintln!(); // the user's Enter was not echoed
                }
                return Some(Ok(line));
            }
            if self.ended {
                if !self.partial.is_empty() {
                    let line =
                        String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
                    return Some(Ok(line));
                }
                return Some(Err("standard input is closed".to_owned()));
            }
            if prompt.line.is_closed() {
                return None;
            }
            match platform::read_available() {
                Ok(Some(bytes)) if bytes.is_empty() => self.ended = true,
                Ok(Some(bytes)) => self.take(&bytes),
                Ok(None) => {} // nothing yet: look again whether the prompt still waits
                Err(error) => return Some(Err(format!("cannot read standard input: {error}"))),
            }
        }
    }

    /// Splits what was read into lines.
    fn take(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.partial);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.lines
                    .push_back(String::from_utf8_lossy(&line).into_owned());
            } else {
                self.partial.push(byte);
            }
        }
    }
}

#[cfg(unix)]
mod platform {
    use std::sync::Mutex;

    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::termios::{LocalModes, OptionalActions, Termios, isatty, tcgetattr, tcsetattr};

    /// How long one wait for input lasts before the prompt is checked again.
    const POLL: Timespec = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };

    /// What standard input has now: `Some(empty)` at its end, `None` if nothing came within a
    /// short wait. Never blocks for longer than that.
    pub(super) fn read_available() -> std::io::Result<Option<Vec<u8>>> {
        let stdin = std::io::stdin();
        let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
        match poll(&mut fds, Some(&POLL)) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        let mut buffer = vec![0; 4096];
        match rustix::io::read(&stdin, &mut buffer[..]) {
            Ok(read) => {
                buffer.truncate(read);
                Ok(Some(buffer))
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The terminal settings before a hidden prompt switched the echo off, while it is off.
    static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

    fn saved() -> std::sync::MutexGuard<'static, Option<Termios>> {
        SAVED.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives the terminal its settings back, if a hidden prompt changed them.
    fn restore() {
        if let Some(saved) = saved().take() {
            let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &saved);
        }
    }

    /// Switches the terminal's echo off while it lives (if standard input is a terminal).
    pub(super) struct EchoOff;

    impl EchoOff {
        pub(super) fn new() -> EchoOff {
            let stdin = std::io::stdin();
            if let Some(original) = isatty(&stdin).then(|| tcgetattr(&stdin).ok()).flatten() {
                let mut quiet = original.clone();
                quiet.local_modes.remove(LocalModes::ECHO);
                quiet.local_modes.insert(LocalModes::ECHONL);
                let mut saved = saved();
                if tcsetattr(&stdin, OptionalActions::Now, &quiet).is_ok() {
                    saved.get_or_insert(original);
                }
            }
            EchoOff
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            restore();
        }
    }

    /// Held by a waiting hidden prompt: its drop restores the echo too.
    pub(super) struct EchoBack;

    impl Drop for EchoBack {
        fn drop(&mut self) {
            restore();
        }
    }
}

#[cfg(not(unix))]
mod platform {
    //! Without `poll` on standard input, a helper thread blocks in `read` and passes what it
    //! reads on; the reader above takes it as it comes, so no line is lost either. Echo cannot
    //! be switched off here: hidden prompts are read visibly.

    use std::io::Read;
    use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
    use std::sync::{Mutex, OnceLock};
    use std::time::Duration;

    pub(super) fn read_available() -> std::io::Result<Option<Vec<u8>>> {
        static CHUNKS: OnceLock<Mutex<Receiver<std::io::Result<Vec<u8>>>>> = OnceLock::new();
        let chunks = CHUNKS.get_or_init(|| {
            let (sender, receiver) = channel();
            std::thread::spawn(move || {
                let mut buffer = vec![0; 4096];
                loop {
                    let chunk = std::io::stdin()
                        .read(&mut buffer)
                        .map(|read| buffer[..read].to_vec());
                    let end = !matches!(&chunk, Ok(bytes) if !bytes.is_empty());
                    if sender.send(chunk).is_err() || end {
                        return;
                    }
                }
            });
            Mutex::new(receiver)
        });
        let chunks = chunks.lock().unwrap_or_else(|p| p.into_inner());
        match chunks.recv_timeout(Duration::from_millis(100)) {
            Ok(chunk) => chunk.map(Some),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Ok(Some(Vec::new())),
        }
    }

    pub(super) struct EchoOff;

    impl EchoOff {
        pub(super) fn new() -> EchoOff {
            EchoOff
        }
    }

    pub(super) struct EchoBack;
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn input_is_split_into_lines_whatever_the_pieces() {
        let mut reader = Reader::default();
        reader.take(b"12");
        reader.take(b"34\r\nsec");
        reader.take(b"ret\n\nlast");
        assert_eq!(
            reader.lines.iter().collect::<Vec<_>>(),
            ["1234", "secret", ""]
        );
        assert_eq!(reader.partial, b"last");
    }
}
