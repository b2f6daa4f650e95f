//! The script (`TDLIB_FAKE_SCRIPT`): a JSON file that describes the world the fake pretends to
//! be connected to: how login works, who "me" is, which chats, messages and files exist, what
//! happens after login (the conversation), which sends fail and how fast files move.
//!
//! The whole script is checked and completed against the schema when it is loaded, so a typo or
//! an incomplete object fails loudly at the first request (every request then gets a script
//! error) instead of producing objects the real TDLib would never send. Unknown keys are errors
//! at every level. The format is described in the crate's `README.md`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::files;
use crate::schema::Schema;

/// The login the default script allows, and the one used when a script has no `login`.
pub const DEFAULT_BOT_TOKEN: &str = "123456:fake-token";

/// The code asked for when the script gives a phone number (or an email address) but no code.
pub const DEFAULT_CODE: &str = "12345";

/// A loaded, complete script.
#[derive(Debug, Clone)]
pub struct Script {
    /// The fake's clock (Unix time): option `unix_time` and the date of sent messages.
    pub unix_time: i64,
    /// Whether the connection state becomes Ready after `setTdlibParameters` (else it stays
    /// Connecting, like TDLib offline).
    pub connection_ready: bool,
    /// How the client may log in.
    pub login: Login,
    /// The logged-in user, a complete `user`.
    pub me: Value,
    /// The chats that exist, complete `chat` objects.
    pub chats: Vec<Value>,
    /// What happens after login, in order, on the client's own thread.
    pub conversation: Vec<Step>,
    /// Errors that the next `sendMessage` requests get instead of a message, in order.
    pub send_errors: Vec<SendError>,
    /// Failures that the next sends end with (`updateMessageSendFailed`), in order.
    pub send_failures: Vec<SendFailure>,
    /// The files the account can see; scripted objects name them by id.
    pub files: Vec<ScriptFile>,
    /// Messages that exist from the start (for `getMessage` and forwarding), complete.
    pub history: Vec<Value>,
    /// How downloads progress.
    pub download: Pacing,
    /// How uploads progress.
    pub upload: Pacing,
    /// Whether the database folder keeps the login and the conversation's progress across
    /// restarts, as TDLib's database does.
    pub persistent: bool,
}

/// A file of the account, as the script gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFile {
    /// The file identifier (positive).
    pub id: i32,
    /// The size in bytes (positive).
    pub size: i64,
    /// The name of its local copy: a plain file name.
    pub name: String,
    /// Whether a complete local copy exists from `setTdlibParameters` on.
    pub downloaded: bool,
    /// A file whose bytes a download copies (a real picture, for a program that shows it);
    /// without it, a download writes zeros.
    pub source: Option<std::path::PathBuf>,
}

/// How a transfer moves: `steps` equal parts, `step` apart; the last part completes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// How many parts (at least 1).
    pub steps: u64,
    /// The time each part takes.
    pub step: Duration,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            steps: 4,
            step: Duration::from_millis(50),
        }
    }
}

/// Which credentials the fake accepts.
#[derive(Debug, Clone, Default)]
pub struct Login {
    /// `checkAuthenticationBotToken` with this token logs in.
    pub bot_token: Option<String>,
    /// `setAuthenticationPhoneNumber` with this number starts a user login.
    pub phone_number: Option<String>,
    /// The code for `checkAuthenticationCode`.
    pub code: String,
    /// A code that came too late: refused with `PHONE_CODE_EXPIRED`, after the state went back
    /// to `authorizationStateWaitPhoneNumber` (TDLib moves on while the answer is on its way).
    pub expired_code: Option<String>,
    /// When set, the phone login first asks for this email address and then for `email_code`.
    pub email_address: Option<String>,
    /// The code for `checkAuthenticationEmailCode`.
    pub email_code: String,
    /// When set, the login asks for this 2-step verification password at the end.
    pub password: Option<String>,
    /// The hint shown with the password request.
    pub password_hint: String,
    /// Whether the phone number is new, so that the login asks for `registerUser`.
    pub register: bool,
    /// Whether `requestQrCodeAuthentication` is allowed.
    pub qr: bool,
    /// How long after the QR link the "other device" confirms it.
    pub qr_confirm: Duration,
}

/// One step of the conversation.
#[derive(Debug, Clone)]
pub enum Step {
    /// Emit this complete update.
    Update(Value),
    /// Wait.
    Sleep(Duration),
    /// Wait until the client has received `count` requests of type `request` in total.
    WaitFor {
        /// The function name, e.g. `sendMessage`.
        request: String,
        /// How many requests of that type, counted from the start of the client.
        count: u64,
        /// After this long, log a script error and go on.
        timeout: Duration,
    },
    /// Emit the same complete update `count` times.
    Burst {
        /// The update.
        update: Value,
        /// How many times.
        count: u64,
    },
    /// Emit `count` distinct new messages (see [`Messages`]).
    Messages(Messages),
}

/// New messages numbered 1..=`count`, message `n` in chat `chats[(n - 1) % chats.len()]` with
/// id `n << 20` (a server message id) and text `n`.
#[derive(Debug, Clone)]
pub struct Messages {
    /// The chats, in turn.
    pub chats: Vec<i64>,
    /// How many messages.
    pub count: u64,
    /// A complete `updateNewMessage` whose id, chat and text are replaced.
    pub template: Value,
    /// After this many messages, a pause (and, with `persistent`, the progress is saved).
    pub pause_every: u64,
    /// How long each pause lasts.
    pub pause: Duration,
    /// How many of the messages before a saved point are emitted again after a restart (TDLib
    /// saves its place in the update sequence after it handed updates out, so a program killed
    /// in between gets the last ones again).
    pub replay: u64,
}

/// An error answered instead of a sent message.
#[derive(Debug, Clone)]
pub struct SendError {
    /// A complete `error` object.
    pub error: Value,
    /// The chat whose next send gets it; `None`: the next send in any chat.
    pub chat_id: Option<i64>,
    /// The flood wait it announces, read from its message ("retry after N", "FLOOD_WAIT_N").
    pub retry_after: Option<f64>,
}

/// A send that fails after its pending message was answered.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// A complete `error` object.
    pub error: Value,
    /// Seconds before the message may be resent.
    pub retry_after: f64,
}

/// The user the fake is logged in as when the script does not say otherwise.
pub fn default_me() -> Value {
    json!({
        "id": 1000001,
        "first_name": "Fake",
        "usernames": {"active_usernames": ["fake_bot"], "editable_username": "fake_bot"},
        "status": {"@type": "userStatusEmpty"},
        "have_access": true,
        "type": {"@type": "userTypeBot", "can_join_groups": true},
    })
}

/// The script used when `TDLIB_FAKE_SCRIPT` is not set: a bot login, nothing else.
pub fn default_script(schema: &Schema) -> Script {
    load(&json!({}), schema).expect("the default script is valid")
}

/// Reads the script file at `path`.
pub fn load_file(path: &std::path::Path, schema: &Schema) -> Result<Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|error| format!("{} is not valid JSON: {error}", path.display()))?;
    load(&value, schema)
}

/// Checks and completes a script.
pub fn load(value: &Value, schema: &Schema) -> Result<Script, String> {
    let top = object(value, "the script")?;
    known_keys(
        top,
        "the script",
        &[
            "unix_time",
            "connection",
            "login",
            "me",
            "chats",
            "conversation",
            "send_errors",
            "send_failures",
            "files",
            "history",
            "download",
            "upload",
            "persistent",
        ],
    )?;
    // First, so that the objects below can name the files.
    let files = script_files(top)?;
    let unix_time = match top.get("unix_time") {
        None => 1_700_000_000,
        Some(value) => value.as_i64().ok_or("unix_time: expected an integer")?,
    };
    let connection_ready = match top.get("connection").map(|value| value.as_str()) {
        None | Some(Some("ready")) => true,
        Some(Some("connecting")) => false,
        Some(_) => return Err("connection: expected \"ready\" or \"connecting\"".to_owned()),
    };
    let login = match top.get("login") {
        None => Login {
            bot_token: Some(DEFAULT_BOT_TOKEN.to_owned()),
            ..login(&json!({}))?
        },
        Some(value) => login(value)?,
    };
    let mut me = default_me();
    if let Some(given) = top.get("me") {
        let given = object(given, "me")?;
        if let Some(fields) = me.as_object_mut() {
            fields.extend(
                given
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
        }
    }
    let complete = |value: &Value, ty: &str, path: &str| -> Result<Value, String> {
        let mut value = schema
            .complete(value, ty, path)
            .map_err(|error| error.with_path())?;
        files::fill_script_files(&mut value, &files, schema, path)?;
        Ok(value)
    };
    let me = complete(&me, "user", "me")?;
    let chats = list(top, "chats")?
        .iter()
        .enumerate()
        .map(|(index, chat)| complete(chat, "chat", &format!("chats[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let history = list(top, "history")?
        .iter()
        .enumerate()
        .map(|(index, message)| complete(message, "message", &format!("history[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let conversation = list(top, "conversation")?
        .iter()
        .enumerate()
        .map(|(index, step_value)| {
            step(
                step_value,
                &format!("conversation[{index}]"),
                schema,
                &complete,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let download = pacing(top, "download")?;
    let upload = pacing(top, "upload")?;
    let persistent = match top.get("persistent") {
        None => false,
        Some(value) => value
            .as_bool()
            .ok_or("persistent: expected true or false")?,
    };
    let send_errors = list(top, "send_errors")?
        .iter()
        .enumerate()
        .map(|(index, error)| {
            // `chat_id` belongs to the script, not to the error object.
            let mut error = error.clone();
            let chat_id =
                match error
                    .as_object_mut()
                    .and_then(|fields| fields.remove("chat_id"))
                {
                    None => None,
                    Some(chat_id) => Some(chat_id.as_i64().ok_or_else(|| {
                        format!("send_errors[{index}].chat_id: expected a chat id")
                    })?),
                };
            let error = schema
                .complete(&error, "error", &format!("send_errors[{index}]"))
                .map_err(|error| error.with_path())?;
            let retry_after = retry_after(error["message"].as_str().unwrap_or_default());
            Ok(SendError {
                error,
                chat_id,
                retry_after,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let send_failures = list(top, "send_failures")?
        .iter()
        .enumerate()
        .map(|(index, failure)| {
            let path = format!("send_failures[{index}]");
            let fields = object(failure, &path)?;
            known_keys(fields, &path, &["error", "retry_after"])?;
            let error = fields
                .get("error")
                .ok_or_else(|| format!("{path}.error: missing"))?;
            let error = schema
                .complete(error, "error", &format!("{path}.error"))
                .map_err(|error| error.with_path())?;
            let retry_after = match fields.get("retry_after") {
                None => retry_after(error["message"].as_str().unwrap_or_default()).unwrap_or(0.0),
                Some(value) => value
                    .as_f64()
                    .filter(|seconds| *seconds >= 0.0)
                    .ok_or_else(|| format!("{path}.retry_after: expected a number of seconds"))?,
            };
            Ok(SendFailure { error, retry_after })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Script {
        unix_time,
        connection_ready,
        login,
        me,
        chats,
        conversation,
        send_errors,
        send_failures,
        files,
        history,
        download,
        upload,
        persistent,
    })
}

/// `files`: ids and names unique, names usable as file names.
fn script_files(top: &Map<String, Value>) -> Result<Vec<ScriptFile>, String> {
    let mut files: Vec<ScriptFile> = Vec::new();
    for (index, value) in list(top, "files")?.iter().enumerate() {
        let path = format!("files[{index}]");
        let fields = object(value, &path)?;
        known_keys(
            fields,
            &path,
            &["id", "size", "name", "downloaded", "source"],
        )?;
        let source = match fields.get("source") {
            None => None,
            Some(Value::String(source)) => Some(std::path::PathBuf::from(source)),
            Some(_) => return Err(format!("{path}.source: expected the path of a file")),
        };
        let source_size = match &source {
            Some(source) => Some(
                std::fs::metadata(source)
                    .map_err(|error| format!("{path}.source: {}: {error}", source.display()))?
                    .len() as i64,
            ),
            None => None,
        };
        let id = fields
            .get("id")
            .and_then(Value::as_i64)
            .and_then(|id| i32::try_from(id).ok())
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{path}.id: expected a positive int32"))?;
        let size = match (fields.get("size"), source_size) {
            (None, Some(size)) if size > 0 => size,
            (Some(given), Some(size)) if given.as_i64() == Some(size) && size > 0 => size,
            (_, Some(size)) => {
                return Err(format!(
                    "{path}.source: the file has {size} bytes; give no size, or this one (and not an empty file)"
                ));
            }
            (given, None) => given
                .and_then(Value::as_i64)
                .filter(|size| *size > 0)
                .ok_or_else(|| format!("{path}.size: expected a positive number of bytes"))?,
        };
        let name = fields
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| files::is_plain_file_name(name))
            .ok_or_else(|| {
                format!(
                    "{path}.name: expected a file name (not empty, no '/', not \".\" or \"..\")"
                )
            })?;
        let downloaded = match fields.get("downloaded") {
            None => false,
            Some(Value::Bool(downloaded)) => *downloaded,
            Some(_) => return Err(format!("{path}.downloaded: expected true or false")),
        };
        // Downloads of two files with one name would overwrite each other's local copy.
        if let Some(other) = files
            .iter()
            .position(|file| file.id == id || file.name == name)
        {
            return Err(format!(
                "{path}: files[{other}] has the same id or name; each file needs its own"
            ));
        }
        files.push(ScriptFile {
            id,
            size,
            name: name.to_owned(),
            downloaded,
            source,
        });
    }
    Ok(files)
}

/// `download` or `upload`: `{"steps": .., "step_ms": ..}`, both optional.
fn pacing(top: &Map<String, Value>, key: &str) -> Result<Pacing, String> {
    let Some(value) = top.get(key) else {
        return Ok(Pacing::default());
    };
    let fields = object(value, key)?;
    known_keys(fields, key, &["steps", "step_ms"])?;
    let default = Pacing::default();
    let steps = match fields.get("steps") {
        None => default.steps,
        Some(steps) => steps
            .as_u64()
            .filter(|steps| *steps > 0)
            .ok_or_else(|| format!("{key}.steps: expected a positive count"))?,
    };
    let step = match fields.get("step_ms") {
        None => default.step,
        Some(step) => step
            .as_u64()
            .map(Duration::from_millis)
            .ok_or_else(|| format!("{key}.step_ms: expected a number of milliseconds"))?,
    };
    Ok(Pacing { steps, step })
}

fn login(value: &Value) -> Result<Login, String> {
    let fields = object(value, "login")?;
    known_keys(
        fields,
        "login",
        &[
            "bot_token",
            "phone_number",
            "code",
            "expired_code",
            "email_address",
            "email_code",
            "password",
            "password_hint",
            "register",
            "qr",
            "qr_confirm_ms",
        ],
    )?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match fields.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(format!("login.{key}: expected a string")),
        }
    };
    let flag = |key: &str| -> Result<bool, String> {
        match fields.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(format!("login.{key}: expected true or false")),
        }
    };
    let qr_confirm_ms = match fields.get("qr_confirm_ms") {
        None => 100,
        Some(value) => value
            .as_u64()
            .ok_or("login.qr_confirm_ms: expected a number of milliseconds")?,
    };
    Ok(Login {
        bot_token: text("bot_token")?,
        phone_number: text("phone_number")?,
        code: text("code")?.unwrap_or_else(|| DEFAULT_CODE.to_owned()),
        expired_code: text("expired_code")?,
        email_address: text("email_address")?,
        email_code: text("email_code")?.unwrap_or_else(|| DEFAULT_CODE.to_owned()),
        password: text("password")?,
        password_hint: text("password_hint")?.unwrap_or_default(),
        register: flag("register")?,
        qr: flag("qr")?,
        qr_confirm: Duration::from_millis(qr_confirm_ms),
    })
}

/// Completes a scripted object of a type and fills in the files it names.
type Complete<'a> = dyn Fn(&Value, &str, &str) -> Result<Value, String> + 'a;

fn step(
    value: &Value,
    path: &str,
    schema: &Schema,
    complete: &Complete<'_>,
) -> Result<Step, String> {
    let fields = object(value, path)?;
    let kinds = ["update", "sleep_ms", "wait_for", "burst", "messages"];
    known_keys(fields, path, &kinds)?;
    if fields.len() != 1 {
        return Err(format!(
            "{path}: expected exactly one of {}",
            kinds.join(", ")
        ));
    }
    let update = |value: &Value, path: &str| complete(value, "Update", path);
    let milliseconds = |value: &Value, path: &str| {
        value
            .as_u64()
            .map(Duration::from_millis)
            .ok_or_else(|| format!("{path}: expected a number of milliseconds"))
    };
    if let Some(value) = fields.get("update") {
        return Ok(Step::Update(update(value, &format!("{path}.update"))?));
    }
    if let Some(value) = fields.get("sleep_ms") {
        return Ok(Step::Sleep(milliseconds(
            value,
            &format!("{path}.sleep_ms"),
        )?));
    }
    if let Some(value) = fields.get("wait_for") {
        let path = format!("{path}.wait_for");
        let wait = object(value, &path)?;
        known_keys(wait, &path, &["request", "count", "timeout_ms"])?;
        let request = wait
            .get("request")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{path}.request: expected a function name"))?;
        if schema.function(request).is_none() {
            return Err(format!(
                "{path}.request: \"{request}\" is not a function of the schema"
            ));
        }
        let count = match wait.get("count") {
            None => 1,
            Some(count) => count
                .as_u64()
                .ok_or_else(|| format!("{path}.count: expected a count"))?,
        };
        let timeout = match wait.get("timeout_ms") {
            None => Duration::from_secs(10),
            Some(value) => milliseconds(value, &format!("{path}.timeout_ms"))?,
        };
        return Ok(Step::WaitFor {
            request: request.to_owned(),
            count,
            timeout,
        });
    }
    if let Some(value) = fields.get("messages") {
        return messages(value, &format!("{path}.messages"), &update);
    }
    let path = format!("{path}.burst");
    let burst = object(&fields["burst"], &path)?;
    known_keys(burst, &path, &["update", "count"])?;
    let value = burst
        .get("update")
        .ok_or_else(|| format!("{path}.update: missing"))?;
    let count = burst
        .get("count")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("{path}.count: expected a count"))?;
    Ok(Step::Burst {
        update: update(value, &format!("{path}.update"))?,
        count,
    })
}

fn messages(
    value: &Value,
    path: &str,
    update: &dyn Fn(&Value, &str) -> Result<Value, String>,
) -> Result<Step, String> {
    let fields = object(value, path)?;
    known_keys(
        fields,
        path,
        &["chats", "count", "pause_every", "pause_ms", "replay"],
    )?;
    let chats = fields
        .get("chats")
        .and_then(Value::as_array)
        .map(|chats| chats.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
        .and_then(|chats| chats.filter(|chats| !chats.is_empty()))
        .ok_or_else(|| format!("{path}.chats: expected a list of chat ids"))?;
    let number = |key: &str, default: u64| match fields.get(key) {
        None => Ok(default),
        Some(value) => value
            .as_u64()
            .ok_or_else(|| format!("{path}.{key}: expected a count")),
    };
    let count = number("count", 0)?;
    // Ids are `n << 20`, which must stay a valid int53 for JSON readers.
    if count == 0 || count > 1 << 32 {
        return Err(format!("{path}.count: expected 1 to 2^32 messages"));
    }
    let template = update(
        &json!({
            "@type": "updateNewMessage",
            "message": {
                "chat_id": chats[0],
                "sender_id": {"@type": "messageSenderUser", "user_id": 1000002},
                "content": {"@type": "messageText", "text": {"@type": "formattedText"}},
            },
        }),
        path,
    )?;
    Ok(Step::Messages(Messages {
        chats,
        count,
        template,
        pause_every: number("pause_every", u64::MAX)?.max(1),
        pause: Duration::from_millis(number("pause_ms", 0)?),
        replay: number("replay", 0)?,
    }))
}

/// The flood wait announced by an error message: "retry after N" (Bot API style) or
/// "FLOOD_WAIT_N" (MTProto style), in seconds.
pub fn retry_after(message: &str) -> Option<f64> {
    let number = |rest: &str| -> Option<f64> {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    };
    let lower = message.to_ascii_lowercase();
    if let Some(at) = lower.find("retry after ") {
        return number(&message[at + "retry after ".len()..]);
    }
    message
        .find("FLOOD_WAIT_")
        .and_then(|at| number(&message[at + "FLOOD_WAIT_".len()..]))
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path}: expected a JSON object"))
}

fn list<'a>(top: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match top.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key}: expected a JSON array")),
    }
}

fn known_keys(fields: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), String> {
    match fields.keys().find(|key| !known.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => Err(format!(
            "{path}: unknown key \"{key}\" (known: {})",
            known.join(", ")
        )),
    }
}
