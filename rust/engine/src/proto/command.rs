//! Encoders for every command mod_event_socket accepts (esl-protocol.md §1.7–1.8).
//!
//! Each returns the exact bytes to write, ending with the blank line, or a [`CommandError`]
//! when a part would change the framing: a `\r` or `\n` in a single-line part could end the
//! message early and smuggle in a second command, so it is always refused. A NUL is refused
//! everywhere in the text: the server parses the header block as a C string, so a NUL hides
//! every later header, `Content-Length` included, and the body would be read as the next
//! command. A header block of [`MAX_HEADER_BLOCK_BYTES`] or more is refused too: the server cuts
//! it there and reads the rest as the next command. Error messages name the offending part,
//! never its value (it may be a password).

use super::event::EventFormat;
use crate::error::CommandError;

/// Longest `Job-UUID` the server keeps (it truncates longer ones).
pub const MAX_JOB_UUID_LEN: usize = 36;

/// Execute arguments longer than this go into a `text/plain` body instead of a header.
pub const MAX_HEADER_ARG_LEN: usize = 1024;

/// mod_event_socket ends a header block by force at 10 MiB (`max_len`, esl-protocol.md §1.2)
/// and parses what follows as a new command, so a block must stay below it.
pub const MAX_HEADER_BLOCK_BYTES: usize = 10 * 1024 * 1024;

/// mod_event_socket drops the connection when a client body exceeds 16 MiB (§1.2).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

fn no_nul<'a>(part: &'static str, value: &'a str) -> Result<&'a str, CommandError> {
    if value.contains('\0') {
        return Err(CommandError::Nul { part });
    }
    Ok(value)
}

fn single_line<'a>(part: &'static str, value: &'a str) -> Result<&'a str, CommandError> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(CommandError::LineBreak { part });
    }
    no_nul(part, value)
}

fn non_empty_line<'a>(part: &'static str, value: &'a str) -> Result<&'a str, CommandError> {
    if value.trim().is_empty() {
        return Err(CommandError::Empty { part });
    }
    single_line(part, value)
}

fn word<'a>(part: &'static str, value: &'a str) -> Result<&'a str, CommandError> {
    non_empty_line(part, value)?;
    if value.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(CommandError::Whitespace { part });
    }
    Ok(value)
}

fn header_name(value: &str) -> Result<&str, CommandError> {
    word("header name", value)?;
    if value.contains(':') {
        return Err(CommandError::Whitespace {
            part: "header name (':')",
        });
    }
    Ok(value)
}

/// Builds `line\n` + `Name: value\n`... + `\n`.
#[derive(Debug, Default)]
struct Message {
    bytes: Vec<u8>,
}

impl Message {
    fn new(first_line: &str) -> Message {
        let mut bytes = Vec::with_capacity(first_line.len() + 64);
        bytes.extend_from_slice(first_line.as_bytes());
        bytes.push(b'\n');
        Message { bytes }
    }

    fn header(mut self, name: &str, value: &str) -> Message {
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.extend_from_slice(b": ");
        self.bytes.extend_from_slice(value.as_bytes());
        self.bytes.push(b'\n');
        self
    }

    /// Ends the header block; refused when the server would cut it (see the module docs).
    fn finish(mut self) -> Result<Vec<u8>, CommandError> {
        self.bytes.push(b'\n');
        if self.bytes.len() >= MAX_HEADER_BLOCK_BYTES {
            return Err(CommandError::TooLong {
                part: "command header block",
                max: MAX_HEADER_BLOCK_BYTES - 1,
            });
        }
        Ok(self.bytes)
    }

    fn finish_with_body(self, body: &[u8]) -> Result<Vec<u8>, CommandError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(CommandError::TooLong {
                part: "body",
                max: MAX_BODY_BYTES,
            });
        }
        let mut bytes = self
            .header("Content-Length", &body.len().to_string())
            .finish()?;
        bytes.extend_from_slice(body);
        Ok(bytes)
    }
}

/// A one-line message built from checked parts.
fn simple(line: &str) -> Result<Vec<u8>, CommandError> {
    Message::new(line).finish()
}

/// A one-line message made only of this module's constants and numbers (nothing to check).
fn fixed(line: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(line.len() + 2);
    bytes.extend_from_slice(line.as_bytes());
    bytes.extend_from_slice(b"\n\n");
    bytes
}

/// `auth <password>`. The server takes the rest of the line, so spaces are allowed.
pub fn auth(password: &str) -> Result<Vec<u8>, CommandError> {
    simple(&format!("auth {}", non_empty_line("password", password)?))
}

/// `userauth <user@domain>:<password>`.
pub fn userauth(user: &str, password: &str) -> Result<Vec<u8>, CommandError> {
    let user = word("user", user)?;
    let password = non_empty_line("password", password)?;
    simple(&format!("userauth {user}:{password}"))
}

/// A command as one log line for the wire trace: its header lines joined by ` | `, the
/// password of `auth` and `userauth` replaced by `********`, a body given by its length only.
pub fn redacted(command: &[u8]) -> String {
    let text = String::from_utf8_lossy(command);
    let text = text.trim_end_matches('\n');
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut line = String::with_capacity(head.len());
    for (index, header) in head.split('\n').enumerate() {
        if index > 0 {
            line.push_str(" | ");
        }
        if index == 0 && header.starts_with("auth ") {
            line.push_str("auth ********");
        } else if let Some(rest) = header.strip_prefix("userauth ").filter(|_| index == 0) {
            let user = rest.split_once(':').map_or(rest, |(user, _)| user);
            line.push_str("userauth ");
            line.push_str(user);
            line.push_str(":********");
        } else {
            line.push_str(header);
        }
    }
    if !body.is_empty() {
        line.push_str(&format!(" (+{} byte body)", body.len()));
    }
    line
}

/// `api <command and arguments>`; the answer is an `api/response`.
pub fn api(command: &str) -> Result<Vec<u8>, CommandError> {
    simple(&format!("api {}", non_empty_line("api command", command)?))
}

/// `bgapi <command>` with an optional client-chosen `Job-UUID` (at most 36 characters).
pub fn bgapi(command: &str, job_uuid: Option<&str>) -> Result<Vec<u8>, CommandError> {
    let message = Message::new(&format!(
        "bgapi {}",
        non_empty_line("bgapi command", command)?
    ));
    let Some(job_uuid) = job_uuid else {
        return message.finish();
    };
    if word("Job-UUID", job_uuid)?.len() > MAX_JOB_UUID_LEN {
        return Err(CommandError::TooLong {
            part: "Job-UUID",
            max: MAX_JOB_UUID_LEN,
        });
    }
    message.header("Job-UUID", job_uuid).finish()
}

fn word_list(part: &'static str, words: &[&str]) -> Result<String, CommandError> {
    if words.is_empty() {
        return Err(CommandError::Empty { part });
    }
    let mut line = String::new();
    for item in words {
        line.push(' ');
        line.push_str(word(part, item)?);
    }
    Ok(line)
}

/// `event <format> <names...>`. Everything after `CUSTOM` is a subclass name, so put
/// `CUSTOM sub1 sub2` last.
pub fn event(format: EventFormat, names: &[&str]) -> Result<Vec<u8>, CommandError> {
    let names = word_list("event name", names)?;
    simple(&format!("event {}{names}", format.as_str()))
}

/// `nixevent <names...>`.
pub fn nixevent(names: &[&str]) -> Result<Vec<u8>, CommandError> {
    simple(&format!("nixevent{}", word_list("event name", names)?))
}

/// `noevents`.
pub fn noevents() -> Vec<u8> {
    fixed("noevents")
}

/// `divert_events on|off`.
pub fn divert_events(on: bool) -> Vec<u8> {
    fixed(if on {
        "divert_events on"
    } else {
        "divert_events off"
    })
}

/// `myevents [<uuid>] [<format>]`. With a uuid the format word is always sent: on an inbound
/// socket a mistyped uuid without it would silently subscribe to every channel. Without a uuid
/// (outbound) `plain`, the default, is left out, as libesl does.
pub fn myevents(uuid: Option<&str>, format: EventFormat) -> Result<Vec<u8>, CommandError> {
    simple(&match (uuid, format) {
        (Some(uuid), format) => format!("myevents {} {}", word("uuid", uuid)?, format.as_str()),
        (None, EventFormat::Plain) => "myevents".to_owned(),
        (None, format) => format!("myevents {}", format.as_str()),
    })
}

/// `filter <header> <value>`. A value starting with `-` is a negative filter, with `/` a regex.
pub fn filter(header: &str, value: &str) -> Result<Vec<u8>, CommandError> {
    let header = header_name(header)?;
    simple(&format!(
        "filter {header} {}",
        non_empty_line("filter value", value)?
    ))
}

/// `filter delete <header> [<value>]`.
pub fn filter_delete(header: &str, value: Option<&str>) -> Result<Vec<u8>, CommandError> {
    let header = header_name(header)?;
    simple(&match value {
        Some(value) => format!(
            "filter delete {header} {}",
            non_empty_line("filter value", value)?
        ),
        None => format!("filter delete {header}"),
    })
}

/// `filter delete all`.
pub fn filter_delete_all() -> Vec<u8> {
    fixed("filter delete all")
}

/// `sendevent <NAME>` with raw (not URL-encoded) headers and an optional body.
pub fn sendevent(
    name: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Vec<u8>, CommandError> {
    let mut message = Message::new(&format!("sendevent {}", word("event name", name)?));
    for &(header, value) in headers {
        if header.eq_ignore_ascii_case("content-length") {
            return Err(CommandError::ReservedHeader {
                name: "Content-Length",
            });
        }
        message = message.header(header_name(header)?, single_line("header value", value)?);
    }
    match body {
        Some(body) => message.finish_with_body(body),
        None => message.finish(),
    }
}

/// A `sendmsg` message: `execute`, `hangup`, `unicast`, `nomedia`, `xferext` and their headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMsg {
    uuid: Option<String>,
    call_command: String,
    app_name: Option<String>,
    app_arg: Option<String>,
    headers: Vec<(String, String)>,
}

impl SendMsg {
    /// A message with the given `call-command`.
    pub fn new(call_command: &str) -> SendMsg {
        SendMsg {
            uuid: None,
            call_command: call_command.to_owned(),
            app_name: None,
            app_arg: None,
            headers: Vec::new(),
        }
    }

    /// `call-command: execute` of `app` with an optional argument. Long or multi-line
    /// arguments are sent as a `text/plain` body.
    pub fn execute(app: &str, arg: Option<&str>) -> SendMsg {
        let mut message = SendMsg::new("execute");
        message.app_name = Some(app.to_owned());
        message.app_arg = arg.map(str::to_owned);
        message
    }

    /// `call-command: hangup` with an optional cause (default `NORMAL_CLEARING`).
    pub fn hangup(cause: Option<&str>) -> SendMsg {
        let message = SendMsg::new("hangup");
        match cause {
            Some(cause) => message.header("hangup-cause", cause),
            None => message,
        }
    }

    /// `call-command: nomedia` for `uuid`.
    pub fn nomedia(uuid: &str) -> SendMsg {
        SendMsg::new("nomedia").header("nomedia-uuid", uuid)
    }

    /// `call-command: unicast`; add `local-ip`, `remote-port`, ... with [`header`](Self::header).
    pub fn unicast() -> SendMsg {
        SendMsg::new("unicast")
    }

    /// Target channel; without it an outbound socket targets its own channel.
    pub fn uuid(mut self, uuid: &str) -> SendMsg {
        self.uuid = Some(uuid.to_owned());
        self
    }

    /// The channel this message targets, when set.
    pub fn target_uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> SendMsg {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `Event-UUID`: becomes `Application-UUID` of CHANNEL_EXECUTE(_COMPLETE).
    pub fn event_uuid(self, id: &str) -> SendMsg {
        self.header("Event-UUID", id)
    }

    /// `event-lock: true`.
    pub fn event_lock(self, on: bool) -> SendMsg {
        if on {
            self.header("event-lock", "true")
        } else {
            self
        }
    }

    /// `async: true`: queue instead of running inline (outbound sync sockets).
    pub fn async_execute(self, on: bool) -> SendMsg {
        if on {
            self.header("async", "true")
        } else {
            self
        }
    }

    /// `loops: n` (negative = forever).
    pub fn loops(self, count: i64) -> SendMsg {
        self.header("loops", &count.to_string())
    }

    /// Encodes the message.
    pub fn encode(&self) -> Result<Vec<u8>, CommandError> {
        let line = match &self.uuid {
            Some(uuid) => format!("sendmsg {}", word("uuid", uuid)?),
            None => "sendmsg".to_owned(),
        };
        let mut message =
            Message::new(&line).header("call-command", word("call-command", &self.call_command)?);
        if let Some(app) = &self.app_name {
            // FreeSWITCH hangs the call up on an unknown application name (§5.19), so a name
            // that cannot be one (empty, several words) is refused here.
            message = message.header("execute-app-name", word("application name", app)?);
        }
        // The argument follows the application name, as in esl-protocol.md §1.8 and §3.6;
        // a long or multi-line one goes into the body instead. The server keeps it as a C
        // string either way, so a NUL would cut it silently.
        let arg = (self.app_arg.as_deref())
            .map(|arg| no_nul("execute argument", arg))
            .transpose()?;
        let body_arg = match arg {
            Some(arg)
                if arg.len() > MAX_HEADER_ARG_LEN || arg.contains('\n') || arg.contains('\r') =>
            {
                Some(arg)
            }
            Some(arg) => {
                message = message.header("execute-app-arg", arg);
                None
            }
            None => None,
        };
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("content-type")
            {
                return Err(CommandError::ReservedHeader {
                    name: "Content-Length/Content-Type",
                });
            }
            message = message.header(header_name(name)?, single_line("header value", value)?);
        }
        match body_arg {
            Some(arg) => message
                .header("content-type", "text/plain")
                .finish_with_body(arg.as_bytes()),
            None => message.finish(),
        }
    }
}

/// `linger [seconds]`; without seconds the server lingers until the client exits.
pub fn linger(seconds: Option<u32>) -> Vec<u8> {
    match seconds {
        Some(seconds) => fixed(&format!("linger {seconds}")),
        None => fixed("linger"),
    }
}

/// `nolinger`.
pub fn nolinger() -> Vec<u8> {
    fixed("nolinger")
}

/// `resume`: continue the dialplan when the socket closes.
pub fn resume() -> Vec<u8> {
    fixed("resume")
}

/// `getvar <name>`.
pub fn getvar(name: &str) -> Result<Vec<u8>, CommandError> {
    simple(&format!("getvar {}", word("variable name", name)?))
}

/// `log <level>` (a name such as `debug` or a number 0-7).
pub fn log(level: &str) -> Result<Vec<u8>, CommandError> {
    simple(&format!("log {}", word("log level", level)?))
}

/// `nolog`.
pub fn nolog() -> Vec<u8> {
    fixed("nolog")
}

/// `exit`.
pub fn exit() -> Vec<u8> {
    fixed("exit")
}

/// `connect`: the first command on an outbound socket.
pub fn connect() -> Vec<u8> {
    fixed("connect")
}

/// A raw command, as libesl's `sendRecv`: a command line, optionally followed by
/// `Name: value` header lines separated by `\n`. Blank lines (which would start a second
/// message), `\r`, and `Content-Length` (a body cannot be sent this way) are refused.
pub fn raw(command: &str) -> Result<Vec<u8>, CommandError> {
    let command = command.trim_end_matches('\n');
    if command.trim().is_empty() {
        return Err(CommandError::Empty { part: "command" });
    }
    if command.contains('\r') || command.contains("\n\n") {
        return Err(CommandError::LineBreak { part: "command" });
    }
    no_nul("command", command)?;
    let has_length = command.lines().skip(1).any(|line| {
        line.split(':')
            .next()
            .is_some_and(|name| name.trim().eq_ignore_ascii_case("content-length"))
    });
    if has_length {
        return Err(CommandError::ReservedHeader {
            name: "Content-Length",
        });
    }
    simple(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_trace_never_shows_a_password() -> Result<(), CommandError> {
        assert_eq!(redacted(&auth("Clue Con")?), "auth ********");
        assert_eq!(
            redacted(&userauth("agent@pbx", "s3cret:x")?),
            "userauth agent@pbx:********"
        );
        assert_eq!(redacted(&api("status")?), "api status");
        let message = SendMsg::execute("playback", Some("auth secret.wav")).uuid("abc");
        let line = redacted(&message.encode()?);
        assert!(line.starts_with("sendmsg abc | "), "{line}");
        assert!(line.contains("execute-app-name: playback"), "{line}");
        Ok(())
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("commands are UTF-8")
    }

    #[test]
    fn encodes_basic_commands() {
        assert_eq!(text(api("status").expect("ok")), "api status\n\n");
        assert_eq!(
            text(bgapi("version", Some("job-1")).expect("ok")),
            "bgapi version\nJob-UUID: job-1\n\n"
        );
        assert_eq!(
            text(
                event(
                    EventFormat::Plain,
                    &["CHANNEL_ANSWER", "CUSTOM", "sofia::register"]
                )
                .expect("ok")
            ),
            "event plain CHANNEL_ANSWER CUSTOM sofia::register\n\n"
        );
        assert_eq!(
            text(myevents(None, EventFormat::Json).expect("ok")),
            "myevents json\n\n"
        );
        assert_eq!(text(linger(Some(5))), "linger 5\n\n");
        assert_eq!(
            text(filter("Unique-ID", "abc").expect("ok")),
            "filter Unique-ID abc\n\n"
        );
    }

    #[test]
    fn encodes_every_other_command() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (userauth("1000@default", "p w").expect("ok"), "userauth 1000@default:p w\n\n"),
            (nixevent(&["HEARTBEAT"]).expect("ok"), "nixevent HEARTBEAT\n\n"),
            (noevents(), "noevents\n\n"),
            (divert_events(true), "divert_events on\n\n"),
            (filter_delete("Unique-ID", None).expect("ok"), "filter delete Unique-ID\n\n"),
            (filter_delete_all(), "filter delete all\n\n"),
            (linger(None), "linger\n\n"),
            (nolinger(), "nolinger\n\n"),
            (resume(), "resume\n\n"),
            (getvar("answer_state").expect("ok"), "getvar answer_state\n\n"),
            (log("debug").expect("ok"), "log debug\n\n"),
            (nolog(), "nolog\n\n"),
            (exit(), "exit\n\n"),
            (connect(), "connect\n\n"),
            (raw("bgapi status\nJob-UUID: j1\n").expect("ok"), "bgapi status\nJob-UUID: j1\n\n"),
            (
                sendevent("CUSTOM", &[("Event-Subclass", "x::y")], Some(b"hi")).expect("ok"),
                "sendevent CUSTOM\nEvent-Subclass: x::y\nContent-Length: 2\n\nhi",
            ),
            (
                SendMsg::hangup(Some("USER_BUSY")).uuid("u1").encode().expect("ok"),
                "sendmsg u1\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n",
            ),
            (
                SendMsg::nomedia("u2").encode().expect("ok"),
                "sendmsg\ncall-command: nomedia\nnomedia-uuid: u2\n\n",
            ),
            (
                SendMsg::execute("playback", Some("x.wav")).async_execute(true).loops(3).encode().expect("ok"),
                "sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: x.wav\n\
                 async: true\nloops: 3\n\n",
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(text(bytes), expected);
        }
    }

    #[test]
    fn refuses_injection() {
        assert_eq!(
            api("status\n\nexit"),
            Err(CommandError::LineBreak {
                part: "api command"
            })
        );
        assert_eq!(
            auth("pw\r\nexit"),
            Err(CommandError::LineBreak { part: "password" })
        );
        assert!(filter("A", "b\nc").is_err());
        assert!(SendMsg::execute("playback", Some("x"))
            .header("a", "b\nc")
            .encode()
            .is_err());
        assert!(SendMsg::execute("play\nback", None).encode().is_err());
        assert!(raw("api status\n\napi version").is_err());
        assert!(raw("sendevent X\ncontent-length: 5").is_err());
        assert!(bgapi("x", Some(&"a".repeat(37))).is_err());
        assert!(sendevent("CUSTOM", &[("Content-Length", "3")], None).is_err());
    }

    #[test]
    fn error_messages_never_contain_the_secret() {
        let error = auth("sec\nret").expect_err("line break refused");
        assert!(!error.to_string().contains("sec"));
    }

    /// esl-protocol.md §3.6 (a) and (c): the `bgapi originate` messages, byte for byte.
    #[test]
    fn recipe_bgapi_originate_bytes() {
        let recipe_a = "bgapi originate {originate_timeout=30,ignore_early_media=true,\
            origination_uuid=5d7d2c1e-0b7a-4f55-9d5e-1f0a4c7e8b11,origination_caller_id_number=4000}\
            sofia/gateway/gw1/13800138000 &park()\nJob-UUID: 0f9a3d58-3a3b-4d2e-9c1e-7a0b5d1e2f33\n\n";
        let command = recipe_a
            .strip_prefix("bgapi ")
            .and_then(|rest| rest.split('\n').next())
            .expect("recipe line");
        assert_eq!(
            text(bgapi(command, Some("0f9a3d58-3a3b-4d2e-9c1e-7a0b5d1e2f33")).expect("ok")),
            recipe_a
        );
        let recipe_c = "bgapi originate {originate_timeout=30,ignore_early_media=true,origination_uuid=<A>}\
            user/1000 &bridge({originate_timeout=20,ignore_early_media=true,origination_uuid=<B>}user/2000)\n\
            Job-UUID: <J>\n\n";
        assert_eq!(
            text(
                bgapi(
                    "originate {originate_timeout=30,ignore_early_media=true,origination_uuid=<A>}user/1000 \
                     &bridge({originate_timeout=20,ignore_early_media=true,origination_uuid=<B>}user/2000)",
                    Some("<J>")
                )
                .expect("ok")
            ),
            recipe_c
        );
    }

    /// esl-protocol.md §3.6 (b): the whole outbound conversation, byte for byte.
    #[test]
    fn recipe_outbound_bridge_bytes() {
        let recipe = "connect\n\nmyevents\n\nlinger 10\n\n\
            sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: continue_on_fail=true\n\
            event-lock: true\n\n\
            sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true\n\
            Event-UUID: 8c7a0a9e-0001-4c1b-9e0f-000000000001\n\n\
            sendmsg\ncall-command: execute\nexecute-app-name: bridge\n\
            execute-app-arg: {originate_timeout=20,ignore_early_media=true}user/2000\nevent-lock: true\n\
            Event-UUID: 8c7a0a9e-0001-4c1b-9e0f-000000000002\n\n";
        let execute = |app: &str, arg: Option<&str>, id: Option<&str>| {
            let message = SendMsg::execute(app, arg).event_lock(true);
            match id {
                Some(id) => message.event_uuid(id),
                None => message,
            }
            .encode()
            .expect("ok")
        };
        let mut bytes = connect();
        bytes.extend(myevents(None, EventFormat::Plain).expect("ok"));
        bytes.extend(linger(Some(10)));
        bytes.extend(execute("set", Some("continue_on_fail=true"), None));
        bytes.extend(execute(
            "answer",
            None,
            Some("8c7a0a9e-0001-4c1b-9e0f-000000000001"),
        ));
        bytes.extend(execute(
            "bridge",
            Some("{originate_timeout=20,ignore_early_media=true}user/2000"),
            Some("8c7a0a9e-0001-4c1b-9e0f-000000000002"),
        ));
        assert_eq!(text(bytes), recipe);
    }

    #[test]
    fn sendmsg_moves_multiline_args_to_a_body() {
        let short = SendMsg::execute("playback", Some("a.wav"))
            .event_uuid("e1")
            .event_lock(true)
            .encode()
            .expect("ok");
        assert_eq!(
            text(short),
            "sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: a.wav\n\
             Event-UUID: e1\nevent-lock: true\n\n"
        );
        let long = SendMsg::execute("set", Some("x=1\ny"))
            .uuid("u1")
            .encode()
            .expect("ok");
        assert_eq!(
            text(long),
            "sendmsg u1\ncall-command: execute\nexecute-app-name: set\n\
             content-type: text/plain\nContent-Length: 5\n\nx=1\ny"
        );
    }
}
