//! Files: the state of each file a client knows (the script's and those it sends), the `file`
//! objects TDLib writes for them, and the local copies the fake writes when a download ends.
//!
//! TDLib shows a file's current state wherever the file appears, so the fake keeps one state per
//! file and client and rewrites every `file` object it emits from it ([`refresh`]). Scripts name
//! a file by its id only ([`fill_script_files`]); its size and name come from the script's
//! `files`, so a script cannot contradict itself.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::schema::Schema;
use crate::script::ScriptFile;

/// Where a file comes from, which decides what its local copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A file of the script: on the server; a download writes it into the files directory.
    Script,
    /// A file the program sent from a path of its own: uploaded; TDLib never deletes it.
    Sent,
}

/// One file as a client knows it.
#[derive(Debug, Clone)]
pub struct FileState {
    /// The file identifier.
    pub id: i32,
    /// The size in bytes.
    pub size: i64,
    /// The name of its local copy (a script file) or of the path it was sent from.
    pub name: String,
    /// Where it comes from.
    pub origin: Origin,
    /// The persistent remote identifier; empty until the file is on the server.
    pub remote_id: String,
    /// The path of the complete local copy; empty while there is none.
    pub local_path: String,
    /// How much of the local copy exists.
    pub downloaded_size: i64,
    /// The token of the running download, if one runs (a cancelled download's thread sees
    /// that its token is gone).
    pub download: Option<u64>,
    /// How much of the file is on the server while it is being uploaded.
    pub uploaded_size: i64,
    /// Whether it is being uploaded.
    pub uploading: bool,
    /// The bytes a download copies (see `ScriptFile::source`); zeros without it.
    pub source: Option<std::path::PathBuf>,
}

impl FileState {
    /// A script file, on the server and not downloaded.
    pub fn from_script(file: &ScriptFile) -> FileState {
        FileState {
            id: file.id,
            size: file.size,
            name: file.name.clone(),
            origin: Origin::Script,
            remote_id: format!("fake-remote-file-{}", file.id),
            local_path: String::new(),
            downloaded_size: 0,
            download: None,
            uploaded_size: 0,
            uploading: false,
            source: file.source.clone(),
        }
    }

    /// A file the program sends from `path` (canonical), about to be uploaded.
    pub fn sent(id: i32, path: String, size: i64) -> FileState {
        let name = Path::new(&path)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        FileState {
            id,
            size,
            name,
            origin: Origin::Sent,
            remote_id: String::new(),
            local_path: path,
            downloaded_size: size,
            download: None,
            uploaded_size: 0,
            uploading: true,
            source: None,
        }
    }

    /// Whether a complete local copy exists.
    pub fn is_downloaded(&self) -> bool {
        !self.local_path.is_empty()
    }

    /// Whether the file is on the server.
    pub fn is_uploaded(&self) -> bool {
        !self.remote_id.is_empty()
    }

    /// Ends the upload: the file is on the server. `client_id` keeps the made-up remote ids of
    /// files sent by different clients apart.
    pub fn finish_upload(&mut self, client_id: i32) {
        self.uploading = false;
        self.uploaded_size = self.size;
        self.remote_id = format!("fake-remote-file-{}-client-{client_id}", self.id);
    }

    /// The complete `file` object, fields as TDLib fills them.
    pub fn object(&self) -> Value {
        let unique_id = if self.is_uploaded() {
            self.remote_id.replacen("remote", "unique", 1)
        } else {
            String::new()
        };
        json!({
            "@type": "file",
            "id": self.id,
            "size": self.size,
            "expected_size": self.size,
            "local": {
                "@type": "localFile",
                "path": self.local_path,
                "can_be_downloaded": self.is_uploaded(),
                // TDLib deletes only copies in its own directory, not the files it was given.
                "can_be_deleted": self.is_downloaded() && self.origin == Origin::Script,
                "is_downloading_active": self.download.is_some(),
                "is_downloading_completed": self.is_downloaded(),
                "download_offset": 0,
                "downloaded_prefix_size": self.downloaded_size,
                "downloaded_size": self.downloaded_size,
            },
            "remote": {
                "@type": "remoteFile",
                "id": self.remote_id,
                "unique_id": unique_id,
                "is_uploading_active": self.uploading,
                "is_uploading_completed": self.is_uploaded(),
                "uploaded_size": if self.is_uploaded() { self.size } else { self.uploaded_size },
            },
        })
    }

    /// `updateFile` with the current state.
    pub fn update(&self) -> Value {
        json!({"@type": "updateFile", "file": self.object()})
    }
}

/// Whether `name` can be the name of a file in a directory: not empty, no `/` and no NUL, not
/// `.` or `..`.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Replaces each `file` object in a complete scripted object (at `path`) by the file of the
/// script it names. A file is named by its id only: other fields are an error, and so is an id
/// the script's `files` lack. Id 0 is left alone: completion builds such files where a script
/// leaves out a file that the schema requires.
pub fn fill_script_files(
    value: &mut Value,
    files: &[ScriptFile],
    schema: &Schema,
    path: &str,
) -> Result<(), String> {
    match value {
        Value::Object(fields) if fields.get("@type").and_then(Value::as_str) == Some("file") => {
            let id = fields.get("id").and_then(Value::as_i64).unwrap_or_default();
            if id == 0 {
                return Ok(());
            }
            let Some(file) = files.iter().find(|file| i64::from(file.id) == id) else {
                return Err(format!(
                    "{path}: file {id} is not in the script's files (give it there, with its size and name)"
                ));
            };
            let only_id = schema
                .complete(&json!({"id": id}), "file", path)
                .map_err(|error| error.with_path())?;
            if *value != only_id {
                return Err(format!(
                    "{path}: give a file by its id only ({{\"id\": {id}}}); its size and name come from the script's files"
                ));
            }
            *value = FileState::from_script(file).object();
            Ok(())
        }
        Value::Object(fields) => fields.iter_mut().try_for_each(|(key, field)| {
            fill_script_files(field, files, schema, &format!("{path}.{key}"))
        }),
        Value::Array(elements) => {
            elements
                .iter_mut()
                .enumerate()
                .try_for_each(|(index, element)| {
                    fill_script_files(element, files, schema, &format!("{path}[{index}]"))
                })
        }
        _ => Ok(()),
    }
}

/// Rewrites every `file` object in `value` that names a known file with the file's current
/// state.
pub fn refresh(value: &mut Value, files: &HashMap<i32, FileState>) {
    match value {
        Value::Object(fields) if fields.get("@type").and_then(Value::as_str) == Some("file") => {
            let id = fields.get("id").and_then(Value::as_i64).unwrap_or_default();
            if let Some(file) = i32::try_from(id).ok().and_then(|id| files.get(&id)) {
                *value = file.object();
            }
        }
        Value::Object(fields) => fields.values_mut().for_each(|field| refresh(field, files)),
        Value::Array(elements) => elements
            .iter_mut()
            .for_each(|element| refresh(element, files)),
        _ => {}
    }
}

/// The first file in `value` that is being uploaded.
pub fn uploading_file(value: &Value, files: &HashMap<i32, FileState>) -> Option<i32> {
    match value {
        Value::Object(fields) if fields.get("@type").and_then(Value::as_str) == Some("file") => {
            let id = fields.get("id").and_then(Value::as_i64)?;
            let file = files.get(&i32::try_from(id).ok()?)?;
            file.uploading.then_some(file.id)
        }
        Value::Object(fields) => fields
            .values()
            .find_map(|field| uploading_file(field, files)),
        Value::Array(elements) => elements
            .iter()
            .find_map(|element| uploading_file(element, files)),
        _ => None,
    }
}

/// Checks a file to be sent (`inputFileLocal.path`) as TDLib does, with its error texts; returns
/// its canonical path and size.
pub fn local_file(path: &str) -> Result<(String, i64), String> {
    if path.is_empty() {
        return Err("File must have non-empty path".to_owned());
    }
    let canonical = std::fs::canonicalize(path)
        .ok()
        .and_then(|canonical| canonical.to_str().map(str::to_owned))
        .ok_or_else(|| format!("Realpath failed for \"{path}\""))?;
    let metadata = std::fs::metadata(&canonical)
        .map_err(|error| format!("Can't read \"{canonical}\": {error}"))?;
    if !metadata.is_file() {
        return Err("File must be a regular file".to_owned());
    }
    if metadata.len() == 0 {
        return Err("File must be non-empty".to_owned());
    }
    let size = i64::try_from(metadata.len()).map_err(|_| "File is too big".to_owned())?;
    Ok((canonical, size))
}

/// Writes the local copy of a downloaded file: `<directory>/documents/<name>`, `size` bytes
/// (copied from `source`, or zeros),
/// created under a temporary name and renamed, so that the path names a complete file as soon
/// as it exists, also when clients share the directory. `part_tag` keeps the temporary names of
/// concurrent writers apart. Returns the canonical path.
pub fn write_local_copy(
    directory: &Path,
    name: &str,
    size: i64,
    source: Option<&Path>,
    part_tag: &str,
) -> Result<String, String> {
    let folder = directory.join("documents");
    let failed = |what: &str, path: &Path, error: std::io::Error| {
        format!("cannot {what} {}: {error}", path.display())
    };
    std::fs::create_dir_all(&folder).map_err(|error| failed("create", &folder, error))?;
    let folder =
        std::fs::canonicalize(&folder).map_err(|error| failed("resolve", &folder, error))?;
    let target = folder.join(name);
    let part = folder.join(format!(".{name}.{part_tag}.part"));
    match source {
        Some(source) => std::fs::copy(source, &part).map(drop),
        // A sparse file: its bytes (zeros) cost no disk, whatever the scripted size.
        None => std::fs::File::create(&part)
            .and_then(|file| file.set_len(u64::try_from(size).unwrap_or_default())),
    }
    .map_err(|error| failed("write", &part, error))?;
    std::fs::rename(&part, &target).map_err(|error| failed("rename into", &target, error))?;
    target
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not UTF-8", target.display()))
}

/// The MIME type of a sent document, from the extension of its name (a few common ones; TDLib
/// knows many more).
pub fn mime_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" => "text/plain",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}
