//! The process-wide part of the fake: configuration from the environment, the table of client
//! ids, the one output queue, and the entry points behind `td_send`, `td_execute` and the old
//! per-client API. Everything that depends on a client's state is in [`crate::state`].
//!
//! The configuration is read once, at the first call of any exported function, because a
//! program under test cannot pass arguments to a library it believes is TDLib; environment
//! variables are what the test harness controls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

use crate::log::RequestLog;
use crate::queue::{Queue, Text};
use crate::schema::{Schema, schema};
use crate::script::{self, Script};
use crate::state::{Client, Sink};
use crate::write;

/// The TDLib version the fake pretends to be (from `tdlib-sys/tdlib.pin`).
pub const VERSION: &str = env!("TDLIB_FAKE_VERSION");

/// The TDLib commit the fake pretends to be built from (from `tdlib-sys/tdlib.pin`).
pub const COMMIT: &str = env!("TDLIB_FAKE_COMMIT");

/// The queue `td_receive` reads, shared by every client created with `td_create_client_id`.
pub static GLOBAL_QUEUE: Queue = Queue::new();

/// An answer: a complete object, or an error code and message.
pub type Answer = Result<Value, (i32, String)>;

/// A request as received: its text, the parsed JSON and its `@extra`.
#[derive(Debug)]
pub struct Request<'a> {
    /// The text as received (up to the NUL).
    pub text: &'a str,
    /// The parsed JSON, or the full error message for a text that is not JSON.
    pub parsed: Result<Value, String>,
    /// The `@extra` as compact JSON text, when the request parsed and has one.
    pub extra: Option<String>,
}

impl<'a> Request<'a> {
    /// A request whose text was not valid UTF-8 (`text` is a lossy copy): rejected, where
    /// TDLib would reject it or abort.
    pub fn invalid_utf8(text: &'a str) -> Request<'a> {
        Request {
            text,
            parsed: Err(
                "Failed to parse request as JSON object: Strings must be encoded in UTF-8"
                    .to_owned(),
            ),
            extra: None,
        }
    }

    /// Parses a request text the way TDLib does before looking at it. Like TDLib's parser,
    /// it refuses a value nested deeper than [`MAX_VALUE_DEPTH`] before anything else; such a
    /// refusal, like every parse error, carries no `@extra`.
    pub fn parse(text: &'a str) -> Request<'a> {
        if value_depth(text) > MAX_VALUE_DEPTH {
            return Request {
                text,
                parsed: Err(
                    "Failed to parse request as JSON object: Too big object depth".to_owned(),
                ),
                extra: None,
            };
        }
        let parsed = serde_json::from_str::<Value>(text).map_err(|error| {
            let detail = if error.classify() == serde_json::error::Category::Eof {
                "Unexpected string end".to_owned()
            } else if error.to_string().starts_with("trailing characters") {
                "Expected string end".to_owned()
            } else {
                error.to_string()
            };
            format!("Failed to parse request as JSON object: {detail}")
        });
        let extra = match &parsed {
            Ok(Value::Object(_)) => write::raw_field(text, "@extra").map(write::compact),
            _ => None,
        };
        Request {
            text,
            parsed,
            extra,
        }
    }

    /// The request for the log: the parsed JSON, or the raw text as a JSON string.
    pub fn log_json(&self) -> String {
        match &self.parsed {
            Ok(value) => value.to_string(),
            Err(_) => Value::from(self.text).to_string(),
        }
    }
}

/// TDLib's JSON parser refuses a request in which a value (a scalar too) sits at a deeper level
/// than this, the top-level object being level 1 (checked against TDLib 1.8.65: 100 nested
/// arrays holding a number pass, 101 fail; 101 nested arrays pass when the innermost is empty).
pub const MAX_VALUE_DEPTH: usize = 101;

/// The deepest level of any value in `text`, counted as TDLib does: a container or scalar inside
/// `n` containers is at level `n + 1`. A plain scan of brackets outside strings, without
/// recursion, so any depth is measured safely; it stops counting once past the limit.
pub fn value_depth(text: &str) -> usize {
    let mut containers = 0usize;
    let mut deepest = 0usize;
    let mut scan = write::StringScan::default();
    for &byte in text.as_bytes() {
        if scan.step(byte) {
            // A string is a value at the level inside the containers around it.
            deepest = deepest.max(containers + 1);
            continue;
        }
        match byte {
            b'{' | b'[' => {
                containers += 1;
                deepest = deepest.max(containers);
            }
            b'}' | b']' => containers = containers.saturating_sub(1),
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' => {}
            _ => deepest = deepest.max(containers + 1),
        }
        if deepest > MAX_VALUE_DEPTH {
            break;
        }
    }
    deepest
}

/// The fake's global state.
#[derive(Debug)]
pub struct Engine {
    script: Result<Arc<Script>, String>,
    log: Option<Arc<RequestLog>>,
    clients: Mutex<HashMap<i32, Arc<Client>>>,
    next_id: AtomicI32,
}

/// The engine, configured from the environment on first use.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::from_env)
}

impl Engine {
    /// Reads `TDLIB_FAKE_SCRIPT` and `TDLIB_FAKE_LOG`.
    fn from_env() -> Engine {
        crate::log::ms();
        let schema = schema();
        let mut problems = Vec::new();
        let log = match std::env::var_os("TDLIB_FAKE_LOG").filter(|path| !path.is_empty()) {
            None => None,
            Some(path) => match RequestLog::open(path.as_ref()) {
                Ok(log) => Some(log),
                Err(error) => {
                    // Nowhere to log this but stderr, and every answer carries it too.
                    let message = format!(
                        "cannot open TDLIB_FAKE_LOG {}: {error}",
                        std::path::Path::new(&path).display()
                    );
                    eprintln!("fake TDLib: {message}");
                    problems.push(message);
                    None
                }
            },
        };
        let script = match std::env::var_os("TDLIB_FAKE_SCRIPT").filter(|path| !path.is_empty()) {
            None => Ok(script::default_script(schema)),
            Some(path) => script::load_file(path.as_ref(), schema),
        };
        let script = match (script, problems.is_empty()) {
            (Ok(script), true) => Ok(script),
            (Ok(_), false) => Err(problems.join("; ")),
            (Err(error), _) => Err(error),
        };
        Engine::new(script, log)
    }

    /// An engine with the given script and log.
    pub fn new(script: Result<Script, String>, log: Option<RequestLog>) -> Engine {
        let log = log.map(Arc::new);
        if let (Err(error), Some(log)) = (&script, &log) {
            log.script_error(None, error);
        }
        Engine {
            script: script.map(Arc::new),
            log,
            clients: Mutex::new(HashMap::new()),
            next_id: AtomicI32::new(1),
        }
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<i32, Arc<Client>>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn client(&self, id: i32) -> Option<Arc<Client>> {
        self.clients().get(&id).cloned()
    }

    /// The script clients are created with (the default one when the script is broken: then
    /// every request is answered with the script error before it reaches a client).
    fn client_script(&self) -> Arc<Script> {
        match &self.script {
            Ok(script) => Arc::clone(script),
            Err(_) => Arc::new(script::default_script(schema())),
        }
    }

    fn add_client(&self, sink: Sink, tag_client_id: bool) -> i32 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let client = Client::new(
            id,
            self.client_script(),
            self.log.clone(),
            sink,
            tag_client_id,
        );
        self.clients().insert(id, client);
        id
    }

    /// `td_create_client_id`: a new id, 1, 2, ..., never reused. The client starts with its
    /// first request.
    pub fn create_client_id(&self) -> i32 {
        self.add_client(Sink::Global, true)
    }

    /// `td_json_client_create`: a client with its own queue and no `@client_id` in its output.
    /// Its id comes from the same counter.
    pub fn create_old_client(&self) -> i32 {
        self.add_client(Sink::Own(Queue::new()), false)
    }

    /// `td_send`; `valid` tells whether the text was valid UTF-8.
    pub fn send(&self, client_id: i32, text: &str, valid: bool) {
        let request = if valid {
            Request::parse(text)
        } else {
            Request::invalid_utf8(text)
        };
        let client = self.client(client_id);
        let problem = match (&self.script, &client) {
            (Err(error), _) => (400, format!("fake TDLib: script error: {error}")),
            (Ok(_), None) => (400, "Invalid TDLib instance specified".to_owned()),
            (Ok(_), Some(client)) => return client.handle(&request),
        };
        let body = error_body(&problem);
        match client {
            Some(client) => client.push_raw(&request, &body),
            None => {
                self.log_request(client_id, &request, &body);
                GLOBAL_QUEUE.push(write::envelope(&body, request.extra.as_deref(), client_id));
            }
        }
    }

    /// `td_execute` (also behind `td_json_client_execute`): the answer text, NUL-terminated.
    pub fn execute(&self, text: &str, valid: bool) -> String {
        let request = if valid {
            Request::parse(text)
        } else {
            Request::invalid_utf8(text)
        };
        let answer = match (&self.script, &request.parsed) {
            (Err(error), _) => Err((400, format!("fake TDLib: script error: {error}"))),
            (Ok(_), Err(error)) => Err((400, error.clone())),
            (Ok(_), Ok(value)) => match schema().check_request(value) {
                Err(message) => Err((400, message)),
                Ok((function, request)) => execute_function(&function.name, &request),
            },
        };
        let body = answer_body(schema(), answer);
        // TDLib loses `@extra` for a text that is not a JSON object (it has no `@extra` then).
        let extra = request.extra.as_deref();
        self.log_request(0, &request, &body);
        write::envelope(&body, extra, 0)
    }

    /// `td_receive`.
    pub fn receive(&self, timeout: Duration) -> Option<Text> {
        GLOBAL_QUEUE.pop(timeout)
    }

    /// `td_json_client_receive`: the client's own queue; `None` for an unknown handle (after
    /// waiting, so that a polling loop does not spin).
    pub fn old_receive(&self, client_id: i32, timeout: Duration) -> Option<Text> {
        match self.client(client_id) {
            Some(client) => client.own_queue().and_then(|queue| queue.pop(timeout)),
            None => {
                std::thread::sleep(timeout.min(Duration::from_millis(100)));
                None
            }
        }
    }

    /// `td_json_client_destroy`: closes the client quietly and forgets its id.
    pub fn destroy(&self, client_id: i32) {
        if let Some(client) = self.clients().remove(&client_id) {
            client.shut_down();
        }
    }

    /// Whether `client_id` was issued by the old API (the old entry points ignore other ids).
    pub fn is_old_client(&self, client_id: i32) -> bool {
        self.client(client_id)
            .is_some_and(|client| client.own_queue().is_some())
    }

    fn log_request(&self, client_id: i32, request: &Request<'_>, answer: &str) {
        if let Some(log) = &self.log {
            log.request(client_id, &request.log_json(), answer);
        }
    }
}

/// The text of an answer object, without envelope. An object that does not complete (a bug of
/// the fake) becomes an error answer.
pub fn answer_body(schema: &Schema, answer: Answer) -> String {
    match answer {
        Ok(value) => {
            let name = value["@type"].as_str().unwrap_or_default().to_owned();
            match schema.complete(&value, &name, "answer") {
                Ok(complete) => write::object(schema, &complete),
                Err(error) => error_body(&(
                    500,
                    format!("fake TDLib: internal error: {}", error.with_path()),
                )),
            }
        }
        Err(error) => error_body(&error),
    }
}

/// `{"@type":"error","code":..,"message":".."}`.
pub fn error_body((code, message): &(i32, String)) -> String {
    let mut out = format!("{{\"@type\":\"error\",\"code\":{code},\"message\":");
    write::string(message, &mut out);
    out.push('}');
    out
}

/// A synchronous request (`td_execute`).
fn execute_function(name: &str, request: &Value) -> Answer {
    if let Some(answer) = log_function(name, request) {
        return answer;
    }
    match name {
        "getOption" => match request["name"].as_str().unwrap_or_default() {
            "version" => Ok(json!({"@type": "optionValueString", "value": VERSION})),
            "commit_hash" => Ok(json!({"@type": "optionValueString", "value": COMMIT})),
            _ => Err((400, "The option can't be get synchronously".to_owned())),
        },
        "testReturnError" => Ok(test_return_error(request)),
        _ if schema()
            .function(name)
            .is_some_and(tdlib_tl::generate::is_synchronous) =>
        {
            Err((400, format!("fake TDLib: {name} is not implemented")))
        }
        _ => Err((400, "The method can't be executed synchronously".to_owned())),
    }
}

/// `testReturnError`: the error it carries, or 404 for none.
pub fn test_return_error(request: &Value) -> Value {
    match request.get("error") {
        Some(error) if error.is_object() => error.clone(),
        _ => json!({"@type": "error", "code": 404, "message": "Not Found"}),
    }
}

/// The log verbosity level, as set by `setLogVerbosityLevel` or `td_set_log_verbosity_level`.
pub static LOG_VERBOSITY: AtomicI32 = AtomicI32::new(5);

/// The log tags TDLib 1.8.65 knows (`getLogTags`).
const LOG_TAGS: &[&str] = &[
    "actor",
    "binlog",
    "config_recoverer",
    "connections",
    "dc",
    "dns_resolver",
    "fd",
    "file_gc",
    "file_loader",
    "file_references",
    "get_difference",
    "mtproto",
    "net_query",
    "notifications",
    "proxy",
    "raw_mtproto",
    "sqlite",
    "td_init",
    "td_requests",
    "update_file",
];

/// The logging functions, which work synchronously and through `td_send` in any state. The
/// fake writes no log; it only remembers the settings. `None` for other functions.
pub fn log_function(name: &str, request: &Value) -> Option<Answer> {
    static STREAM: Mutex<Option<Value>> = Mutex::new(None);
    static TAG_LEVELS: Mutex<Option<HashMap<String, i64>>> = Mutex::new(None);
    let level = || request["new_verbosity_level"].as_i64().unwrap_or_default();
    let tag = || request["tag"].as_str().unwrap_or_default().to_owned();
    let ok = || Ok(json!({"@type": "ok"}));
    Some(match name {
        "setLogVerbosityLevel" => match i32::try_from(level()) {
            Ok(level @ 0..=1024) => {
                LOG_VERBOSITY.store(level, Ordering::Relaxed);
                ok()
            }
            _ => Err((400, "Wrong new verbosity level specified".to_owned())),
        },
        "getLogVerbosityLevel" => Ok(json!({
            "@type": "logVerbosityLevel",
            "verbosity_level": LOG_VERBOSITY.load(Ordering::Relaxed),
        })),
        "setLogStream" => {
            *STREAM.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(request["log_stream"].clone());
            ok()
        }
        "getLogStream" => Ok(STREAM
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| json!({"@type": "logStreamDefault"}))),
        "getLogTags" => Ok(json!({"@type": "logTags", "tags": LOG_TAGS})),
        "setLogTagVerbosityLevel" | "getLogTagVerbosityLevel"
            if !LOG_TAGS.contains(&tag().as_str()) =>
        {
            Err((400, "Log tag is not found".to_owned()))
        }
        "setLogTagVerbosityLevel" => match level() {
            level @ 0..=1024 => {
                TAG_LEVELS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert_with(HashMap::new)
                    .insert(tag(), level);
                ok()
            }
            _ => Err((400, "Wrong new verbosity level specified".to_owned())),
        },
        "getLogTagVerbosityLevel" => {
            let levels = TAG_LEVELS.lock().unwrap_or_else(PoisonError::into_inner);
            let level = levels
                .as_ref()
                .and_then(|levels| levels.get(&tag()).copied())
                .unwrap_or_else(|| i64::from(LOG_VERBOSITY.load(Ordering::Relaxed)));
            Ok(json!({"@type": "logVerbosityLevel", "verbosity_level": level}))
        }
        _ => return None,
    })
}
