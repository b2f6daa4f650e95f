//! The desktop example as a person uses it: on a virtual screen (Xvfb), against the scripted
//! fake libtdjson (an account with chats, messages and a photo). The test types and clicks with
//! xdotool, reads the screen with OCR (tesseract) to find what to click and to check what is
//! shown, and checks the photo's pixels on the screenshot. The last screenshot is kept; its
//! path is printed.
//!
//! Needs `Xvfb`, `xdotool`, `import` (ImageMagick) and `tesseract` (`scripts/setup` installs
//! them).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tdlib_fake_harness::Fake;

const PHONE: &str = "+15550001234";
const BOB: i64 = 78;
const TYPED: &str = "hello from the virtual screen";

/// A child process killed when dropped (a failing test leaves nothing running).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(found, "{name} is needed for the GUI test: run scripts/setup (it installs it)");
    Command::new(name)
}

/// Starts Xvfb on a display number it picks itself (free, also when tests run in parallel).
fn virtual_screen() -> (Running, String) {
    let mut child = tool("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Xvfb writes the display number, then a newline, once it accepts connections.
    let mut stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut number = String::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        number.push(char::from(byte[0]));
    }
    assert!(!number.is_empty(), "Xvfb did not start");
    (running, format!(":{}", number.trim()))
}

fn xdotool(display: &str, args: &[&str]) {
    let status = tool("xdotool").env("DISPLAY", display).args(args).status().unwrap();
    assert!(status.success(), "xdotool {args:?}");
}

fn screenshot(display: &str, path: &Path) {
    let status = tool("import")
        .args(["-display", display, "-window", "root", path.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success(), "import");
}

/// A word tesseract read, and where (in screen pixels).
#[derive(Debug)]
struct Word {
    text: String,
    center: (u32, u32),
}

/// The words on a screenshot, read twice: scaled up (OCR reads screen fonts better that way),
/// and scaled up with a threshold (which brings out light grey text, such as a field's hint,
/// but loses text on coloured backgrounds). Both readings count.
fn read_screen(shot: &Path) -> Vec<Word> {
    let mut words = ocr(shot, 3, &[]);
    words.extend(ocr(shot, 2, &["-threshold", "75%"]));
    words
}

fn ocr(shot: &Path, scale: u32, extra: &[&str]) -> Vec<Word> {
    let prepared = shot.with_extension(format!("ocr{scale}.png"));
    let status = tool("convert")
        .arg(shot)
        .args(["-colorspace", "Gray", "-resize", &format!("{}%", scale * 100)])
        .args(extra)
        .arg(&prepared)
        .status()
        .unwrap();
    assert!(status.success(), "convert");
    let output =
        tool("tesseract").arg(&prepared).args(["-", "tsv"]).stderr(Stdio::null()).output().unwrap();
    assert!(output.status.success(), "tesseract");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [.., left, top, width, height, _, text] = fields[..] else { return None };
            let number = |field: &str| field.parse::<u32>().ok();
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let (left, top) = (number(left)?, number(top)?);
            let (width, height) = (number(width)?, number(height)?);
            Some(Word {
                text: text.to_owned(),
                center: ((left + width / 2) / scale, (top + height / 2) / scale),
            })
        })
        .collect()
}

fn has_words(words: &[Word], wanted: &[&str]) -> bool {
    wanted.iter().all(|wanted| words.iter().any(|word| word.text.contains(wanted)))
}

/// Screenshots until `ready` holds for the words read, or panics after `limit`, keeping the
/// last screenshot.
fn wait_for_screen(
    display: &str,
    shot: &Path,
    what: &str,
    limit: Duration,
    mut ready: impl FnMut(&[Word], &Path) -> bool,
) -> Vec<Word> {
    let deadline = Instant::now() + limit;
    loop {
        screenshot(display, shot);
        let words = read_screen(shot);
        if ready(&words, shot) {
            return words;
        }
        if Instant::now() > deadline {
            let seen: Vec<&str> = words.iter().map(|word| word.text.as_str()).collect();
            panic!("the screen never showed {what}; read: {seen:?}; see {}", shot.display());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// How many pixels of the screenshot are pure magenta: the scripted photo's colour, which
/// nothing else in the window has.
fn magenta_pixels(shot: &Path) -> usize {
    let image = image::open(shot).unwrap().into_rgb8();
    image.pixels().filter(|pixel| pixel.0 == [255, 0, 255]).count()
}

fn script(photo: &Path) -> serde_json::Value {
    let chat = |id: i64, title: &str| {
        json!({"id": id, "title": title, "type": {"@type": "chatTypePrivate", "user_id": id},
               "available_reactions": {"@type": "chatAvailableReactionsAll"}})
    };
    let from_bob = |id: i64, content: serde_json::Value| {
        json!({"id": id, "chat_id": BOB, "date": 1_700_000_000 + id,
               "sender_id": {"@type": "messageSenderUser", "user_id": BOB}, "content": content})
    };
    json!({
        "login": {"phone_number": PHONE, "code": "24680"},
        "chats": [chat(77, "Alice"), chat(BOB, "Bob Builder"), chat(79, "Carol")],
        "files": [{"id": 7, "name": "magenta.png", "source": photo.to_str().unwrap()}],
        "download": {"steps": 3, "step_ms": 100},
        "history": [
            from_bob(1, json!({"@type": "messageText", "text": {"text": "Greetings from Bob"}})),
            from_bob(2, json!({"@type": "messagePhoto", "caption": {"text": ""},
                "photo": {"sizes": [{"type": "s", "photo": {"id": 7}, "width": 64, "height": 64}]}})),
        ]
    })
}

/// A scratch folder for one test's pictures.
fn scratch(name: &str) -> PathBuf {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    scratch
}

/// Starts the app on `display` against `fake`, and waits for its window, which gets the
/// keyboard (without a window manager nothing else gives it).
fn launch(fake: &Fake, display: &str) -> Running {
    let mut app = Command::new(env!("CARGO_BIN_EXE_tdlib-desktop"));
    fake.configure(&mut app);
    app.env("DISPLAY", display)
        .env("TDLIB_API_ID", "94575")
        .env("TDLIB_API_HASH", "0123456789abcdef0123456789abcdef")
        .env("TDLIB_DATA_DIR", fake.dir())
        .env_remove("TDLIB_BOT_TOKEN")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let app = Running(app.spawn().unwrap());
    let found = tool("timeout")
        .args(["30", "xdotool", "search", "--sync", "--onlyvisible", "--name", "TDLib desktop"])
        .args(["windowfocus", "--sync"])
        .env("DISPLAY", display)
        .output()
        .unwrap();
    assert!(found.status.success(), "no window: {}", String::from_utf8_lossy(&found.stderr));
    xdotool(display, &["mousemove", "640", "400"]);
    app
}

/// Quits with Ctrl+Q and checks that the app closed its client and exited cleanly.
fn quit(mut app: Running, display: &str, fake: &Fake) {
    xdotool(display, &["key", "ctrl+q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = app.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the app did not exit after ctrl+q");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    app.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(fake.requests().iter().any(|logged| logged.request_type() == "close"));
    assert_eq!(fake.script_errors(), Vec::<String>::new());
}

#[test]
fn logs_in_shows_chats_and_photos_and_sends_a_typed_message_on_a_virtual_screen() {
    let scratch = scratch("desktop-gui");
    let photo = scratch.join("magenta.png");
    image::RgbImage::from_pixel(64, 64, image::Rgb([255, 0, 255])).save(&photo).unwrap();
    let fake = Fake::new("desktop-gui", &script(&photo));
    let shot = scratch.join("screenshot.png");
    let (_screen, display) = virtual_screen();
    let app = launch(&fake, &display);
    let limit = Duration::from_secs(60);

    // Log in as a person does: the phone number, then the code.
    wait_for_screen(&display, &shot, "the phone prompt", limit, |words, _| {
        has_words(words, &["Phone"])
    });
    xdotool(&display, &["type", "--delay", "40", PHONE]);
    xdotool(&display, &["key", "Return"]);
    wait_for_screen(&display, &shot, "the code prompt", limit, |words, _| {
        has_words(words, &["code"])
    });
    xdotool(&display, &["type", "--delay", "40", "24680"]);
    xdotool(&display, &["key", "Return"]);

    // The chat list shows the scripted chats.
    let words = wait_for_screen(&display, &shot, "the chat list", limit, |words, _| {
        has_words(words, &["Alice", "Bob", "Carol"])
    });
    let bob = words.iter().find(|word| word.text.contains("Bob")).unwrap().center;
    xdotool(&display, &["mousemove", &bob.0.to_string(), &bob.1.to_string(), "click", "1"]);

    // Bob's last messages, with the photo downloaded and drawn.
    wait_for_screen(&display, &shot, "Bob's messages and photo", limit, |words, shot| {
        has_words(words, &["Greetings"]) && magenta_pixels(shot) >= 64 * 64
    });

    // A typed message is sent to Bob's chat, and shown once the server has it.
    xdotool(&display, &["type", "--delay", "30", TYPED]);
    xdotool(&display, &["key", "Return"]);
    let deadline = Instant::now() + limit;
    let sent = loop {
        let sent = fake.requests().into_iter().find(|logged| {
            logged.request_type() == "sendMessage"
                && logged.request["input_message_content"]["text"]["text"] == TYPED
        });
        if let Some(sent) = sent {
            break sent;
        }
        assert!(Instant::now() < deadline, "no sendMessage with the typed text reached TDLib");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(sent.request["chat_id"], BOB);
    // Shown as the account's own ("You: ..."), no longer "sending", and the field is empty
    // again (its hint shows).
    wait_for_screen(&display, &shot, "the sent message", limit, |words, _| {
        has_words(words, &["You", "virtual", "screen", "message"])
            && !has_words(words, &["sending"])
    });
    let kept = scratch.join("desktop-final.png");
    std::fs::copy(&shot, &kept).unwrap();
    println!("screenshot: {}", kept.display());

    // Ctrl+Q closes the window, and the app closes its client before it exits.
    quit(app, &display, &fake);
}

/// The QR login: the code is drawn in the window (black modules on white), and once the other
/// device confirms, the chats are shown.
#[test]
fn logs_in_with_a_qr_code_drawn_in_the_window() {
    let scratch = scratch("desktop-gui-qr");
    let mut script = script(&scratch.join("unused.png"));
    script["login"] = json!({"phone_number": PHONE, "qr": true, "qr_confirm_ms": 4000});
    script["files"] = json!([]);
    script["history"] = json!([]);
    let fake = Fake::new("desktop-gui-qr", &script);
    let shot = scratch.join("screenshot.png");
    let (_screen, display) = virtual_screen();
    let app = launch(&fake, &display);
    let limit = Duration::from_secs(60);
    let words = wait_for_screen(&display, &shot, "the QR button", limit, |words, _| {
        has_words(words, &["QR"])
    });
    let button = words.iter().find(|word| word.text.contains("QR")).unwrap().center;
    xdotool(&display, &["mousemove", &button.0.to_string(), &button.1.to_string(), "click", "1"]);
    wait_for_screen(&display, &shot, "a QR code", limit, |words, shot| {
        has_words(words, &["Scan"]) && black_pixels(shot) > 10_000
    });
    std::fs::copy(&shot, scratch.join("qr.png")).unwrap();
    wait_for_screen(&display, &shot, "the chat list after the QR login", limit, |words, _| {
        has_words(words, &["Alice", "Carol"])
    });
    quit(app, &display, &fake);
}

/// How many pixels of the screenshot are pure black (a QR code's modules; the window's text is
/// antialiased, and the screen outside the window is not counted: it is the only other black).
fn black_pixels(shot: &Path) -> usize {
    let image = image::open(shot).unwrap().into_rgb8();
    let (width, height) = image.dimensions();
    // The window is 960 x 640 at the top left.
    (0..height.min(640))
        .flat_map(|y| (0..width.min(960)).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0 == [0, 0, 0])
        .count()
}
