//! The numbers Rust and Java must agree on, in one place on each side: this module and
//! `org.esl4j.internal.NativeContract` (plus `EslException.Kind` for the error kinds and
//! `Native.java` for the exports). The tests below read the Java sources and fail on any drift,
//! so a constant is added to both files or the build fails.
//!
//! To share a new constant, add it to the `shared_constants!` list below and as a `static final` of the
//! same name and value in `NativeContract.java`.

/// Declares the shared integer constants and, for the drift test, a table of them by name.
macro_rules! shared_constants {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $value:expr;)*) => {
        $($(#[$doc])* pub(crate) const $name: $ty = $value;)*

        /// Every shared constant by name, as `NativeContract.java` must declare it.
        #[cfg(test)]
        pub(crate) const SHARED: &[(&str, i64)] = &[$((stringify!($name), $value as i64)),*];
    };
}

shared_constants! {
    /// Version of the contract between this library and the Java classes; bump it whenever an
    /// export, a callback or a constant here changes, so a stale library is refused at load.
    ABI_VERSION: i32 = 7;

    /// `connectionSubscription` commands: `event <format> <names>`.
    SUBSCRIPTION_EVENT: i32 = 0;
    /// `nixevent <names>`.
    SUBSCRIPTION_NIXEVENT: i32 = 1;
    /// `noevents`.
    SUBSCRIPTION_NOEVENTS: i32 = 2;
    /// `myevents [<uuid>] <format>`.
    SUBSCRIPTION_MYEVENTS: i32 = 3;
    /// `filter <header> <value>`.
    SUBSCRIPTION_FILTER: i32 = 4;
    /// `filter delete <header> [<value>]`, or `filter delete all` without a header.
    SUBSCRIPTION_FILTER_DELETE: i32 = 5;
    /// `log <level>`.
    SUBSCRIPTION_LOG: i32 = 6;
    /// `nolog`.
    SUBSCRIPTION_NOLOG: i32 = 7;

    /// `connectionSession` commands: `linger [<seconds>]` (forever when the number is negative).
    SESSION_LINGER: i32 = 0;
    /// `nolinger`.
    SESSION_NOLINGER: i32 = 1;
    /// `resume`.
    SESSION_RESUME: i32 = 2;
    /// `divert_events on|off` (on when the number is non-zero).
    SESSION_DIVERT_EVENTS: i32 = 3;

    /// Event formats of `event` and `myevents`.
    FORMAT_PLAIN: i32 = 0;
    /// `json`.
    FORMAT_JSON: i32 = 1;
    /// `xml`.
    FORMAT_XML: i32 = 2;

    /// `connectionExecute` flag: `event-lock: true`.
    EXECUTE_EVENT_LOCK: i32 = 1;
    /// `connectionExecute` flag: `async: true`.
    EXECUTE_ASYNC: i32 = 2;
    /// `connectionExecute` flag: complete at the matching `CHANNEL_EXECUTE_COMPLETE`.
    EXECUTE_WAIT: i32 = 4;

    /// Poll batch item kinds (`codec.rs`; appended, never renumbered): an event (plain, JSON or
    /// XML).
    KIND_EVENT: u8 = 0;
    /// A `log/data` line.
    KIND_LOG: u8 = 1;
    /// A `text/disconnect-notice` from the server (linger or final).
    KIND_DISCONNECT_NOTICE: u8 = 2;
    /// The engine lost the connection and will reconnect (header `Disconnect-Reason`).
    KIND_DISCONNECTED: u8 = 3;
    /// The engine reconnected (headers `Reconnect-Attempts`, `Reconnect-Gap-Micros`).
    KIND_RECONNECTED: u8 = 4;
    /// A frame of a content type the engine does not know, as received.
    KIND_UNKNOWN: u8 = 5;
    /// A `command/reply` or `api/response` (the one-frame batches that complete commands).
    KIND_REPLY: u8 = 6;
    /// The event queue reached its hard cap (headers `Overload-Dropped`,
    /// `Overload-Critical-Dropped`, `Overload-Queued`); the connection is closed.
    KIND_OVERLOADED: u8 = 7;
    /// Poll batch frame flag: header values are still URL-encoded (plain events).
    FLAG_VALUES_ENCODED: u8 = 1;
    /// Frame bytes (as the engine's queue counts them) one poll takes at most, at least one
    /// item: a 4096-event batch (~14 MB) cost 2.1 + 1.35 us per event in native poll + Java
    /// decode, 256 KiB batches 1.35 + 1.0 us. Java sizes its reused poll arrays from it.
    POLL_BATCH_BYTES: i32 = 192 * 1024;
}

/// Names of Java's `EslException.Kind`, in its declaration order (ordinals are kept: new kinds
/// are appended). The tests check that Java declares exactly these and that every kind the
/// native side reports (`error.rs`) is one of them.
#[cfg(test)]
pub(crate) const ERROR_KINDS: [&str; 12] = [
    "IO",
    "REFUSED",
    "TIMEOUT",
    "AUTH",
    "REJECTED",
    "CONNECTION_CLOSED",
    "PROTOCOL",
    "INVALID_COMMAND",
    "COMMAND_FAILED",
    "OVERLOADED",
    "INVALID_STATE",
    "INTERNAL",
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use esl4j_engine::ErrorKind;

    use super::*;
    use crate::error::{engine_kind, BridgeError};

    fn java_source(relative: &str) -> String {
        let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../java/src/main/java")
            .join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// `static final int|long|byte NAME = <integer>;` declarations of a Java class.
    fn java_int_constants(source: &str) -> BTreeMap<String, i64> {
        let mut constants = BTreeMap::new();
        for line in source.lines().map(str::trim) {
            let Some(declaration) = line
                .split_once("static final ")
                .map(|(_, rest)| rest)
                .and_then(|rest| rest.strip_suffix(';'))
            else {
                continue;
            };
            let Some((left, value)) = declaration.split_once('=') else {
                continue;
            };
            let mut words = left.split_whitespace();
            let (Some(kind), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            if !["int", "long", "byte"].contains(&kind) {
                continue;
            }
            let value = value.trim().trim_end_matches(['L', 'l']);
            let parsed = value
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("{name} = {value} is not a plain integer literal"));
            constants.insert(name.to_owned(), parsed);
        }
        constants
    }

    /// Java source without its comments, so a brace or keyword in Javadoc is not read as code.
    fn without_comments(source: &str) -> String {
        let mut code = String::with_capacity(source.len());
        let mut rest = source;
        loop {
            let block = rest.find("/*").map(|at| (at, "*/"));
            let line = rest.find("//").map(|at| (at, "\n"));
            let Some((at, end)) = block.into_iter().chain(line).min() else {
                code.push_str(rest);
                return code;
            };
            code.push_str(&rest[..at]);
            let after = rest[at..]
                .find(end)
                .map_or(rest.len(), |e| at + e + end.len());
            rest = &rest[after..];
            code.push('\n');
        }
    }

    /// The constant names of `enum <name> { ... }`, in order.
    fn java_enum_constants(source: &str, enum_name: &str) -> Vec<String> {
        let code = without_comments(source);
        let start = code
            .find(&format!("enum {enum_name} {{"))
            .unwrap_or_else(|| panic!("enum {enum_name} not found"));
        let body = &code[start..];
        let body = &body[body.find('{').expect("brace") + 1..body.find('}').expect("brace")];
        let body = body.split(';').next().unwrap_or_default();
        body.split(',')
            .map(str::trim)
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn native_contract_java_declares_exactly_the_shared_constants() {
        let java = java_int_constants(&without_comments(&java_source(
            "org/esl4j/internal/NativeContract.java",
        )));
        let rust: BTreeMap<String, i64> = SHARED
            .iter()
            .map(|(name, value)| ((*name).to_owned(), *value))
            .collect();
        assert_eq!(
            java, rust,
            "NativeContract.java and contract.rs disagree (left: Java, right: Rust)"
        );
    }

    #[test]
    fn error_kinds_match_java_in_order() {
        let java = java_enum_constants(&java_source("org/esl4j/EslException.java"), "Kind");
        assert_eq!(
            java, ERROR_KINDS,
            "EslException.Kind and ERROR_KINDS disagree"
        );
    }

    #[test]
    fn every_reported_kind_is_a_java_kind_in_the_engine_order() {
        let engine = [
            ErrorKind::Io,
            ErrorKind::Refused,
            ErrorKind::Timeout,
            ErrorKind::Auth,
            ErrorKind::Rejected,
            ErrorKind::ConnectionClosed,
            ErrorKind::Protocol,
            ErrorKind::InvalidCommand,
            ErrorKind::CommandFailed,
            ErrorKind::Overloaded,
        ];
        let names: Vec<&str> = engine.into_iter().map(engine_kind).collect();
        assert_eq!(names, ERROR_KINDS[..engine.len()]);
        let bridge = [
            BridgeError::InvalidState(String::new()),
            BridgeError::Panic(String::new()),
        ];
        for error in &bridge {
            assert!(ERROR_KINDS.contains(&error.kind()), "{}", error.kind());
        }
    }

    #[test]
    fn every_export_has_its_native_method_and_back() {
        let source_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut exports = BTreeSet::new();
        for entry in std::fs::read_dir(&source_dir).expect("src dir") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
            let prefix = "fn Java_org_esl4j_internal_Native_";
            let mut at = 0;
            while let Some(found) = text[at..].find(prefix) {
                let start = at + found + prefix.len();
                let end = start
                    + text[start..]
                        .find(|c: char| !c.is_ascii_alphanumeric())
                        .expect("name end");
                if end > start {
                    // (an empty name is this test's own search string)
                    exports.insert(text[start..end].to_owned());
                }
                at = end;
            }
        }
        let java = without_comments(&java_source("org/esl4j/internal/Native.java"));
        let mut natives = BTreeSet::new();
        for line in java.lines().map(str::trim) {
            if let Some((_, rest)) = line.split_once("static native ") {
                let name = rest
                    .split_once('(')
                    .and_then(|(before, _)| before.split_whitespace().last())
                    .expect("native method name");
                natives.insert(name.to_owned());
            }
        }
        assert_eq!(
            natives, exports,
            "Native.java's native methods (left) and rust/jni's exports (right) disagree"
        );
    }
}
