//! Event type names and the per-user permissions of `userauth` (the `esl-allowed-events`,
//! `esl-allowed-api` and `esl-allowed-log` directory params), as mod_event_socket applies them.

use std::collections::HashSet;

/// `switch_event_types_t` by name (fs:src/switch_event.c `EVENT_NAMES`), without `ALL`.
const EVENT_NAMES: [&str; 93] = [
    "CUSTOM",
    "CLONE",
    "CHANNEL_CREATE",
    "CHANNEL_DESTROY",
    "CHANNEL_STATE",
    "CHANNEL_CALLSTATE",
    "CHANNEL_ANSWER",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_UNPARK",
    "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "API",
    "LOG",
    "INBOUND_CHAN",
    "OUTBOUND_CHAN",
    "STARTUP",
    "SHUTDOWN",
    "PUBLISH",
    "UNPUBLISH",
    "TALK",
    "NOTALK",
    "SESSION_CRASH",
    "MODULE_LOAD",
    "MODULE_UNLOAD",
    "DTMF",
    "MESSAGE",
    "PRESENCE_IN",
    "NOTIFY_IN",
    "PRESENCE_OUT",
    "PRESENCE_PROBE",
    "MESSAGE_WAITING",
    "MESSAGE_QUERY",
    "ROSTER",
    "CODEC",
    "BACKGROUND_JOB",
    "DETECTED_SPEECH",
    "DETECTED_TONE",
    "PRIVATE_COMMAND",
    "HEARTBEAT",
    "TRAP",
    "ADD_SCHEDULE",
    "DEL_SCHEDULE",
    "EXE_SCHEDULE",
    "RE_SCHEDULE",
    "RELOADXML",
    "NOTIFY",
    "PHONE_FEATURE",
    "PHONE_FEATURE_SUBSCRIBE",
    "SEND_MESSAGE",
    "RECV_MESSAGE",
    "REQUEST_PARAMS",
    "CHANNEL_DATA",
    "GENERAL",
    "COMMAND",
    "SESSION_HEARTBEAT",
    "CLIENT_DISCONNECTED",
    "SERVER_DISCONNECTED",
    "SEND_INFO",
    "RECV_INFO",
    "RECV_RTCP_MESSAGE",
    "SEND_RTCP_MESSAGE",
    "CALL_SECURE",
    "NAT",
    "RECORD_START",
    "RECORD_STOP",
    "PLAYBACK_START",
    "PLAYBACK_STOP",
    "CALL_UPDATE",
    "FAILURE",
    "SOCKET_DATA",
    "MEDIA_BUG_START",
    "MEDIA_BUG_STOP",
    "CONFERENCE_DATA_QUERY",
    "CONFERENCE_DATA",
    "CALL_SETUP_REQ",
    "CALL_SETUP_RESULT",
    "CALL_DETAIL",
    "DEVICE_STATE",
    "TEXT",
    "SHUTDOWN_REQUESTED",
    "CERT_RELOAD",
];

/// What a word of an `event` / `nixevent` line names (`switch_name_event`: case-insensitive,
/// an optional `SWITCH_EVENT_` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    All,
    Custom,
    Named(&'static str),
}

pub(crate) fn event_type(word: &str) -> Option<EventType> {
    let upper = word.to_ascii_uppercase();
    let name = upper.strip_prefix("SWITCH_EVENT_").unwrap_or(&upper);
    match name {
        "ALL" => Some(EventType::All),
        "CUSTOM" => Some(EventType::Custom),
        _ => EVENT_NAMES
            .iter()
            .find(|n| **n == name)
            .map(|n| EventType::Named(n)),
    }
}

/// Every event type but `ALL`: what `nixevent X` leaves after `event ALL` (the ALL bit is
/// cleared and every single type set instead).
pub(crate) fn every_event_name() -> impl Iterator<Item = &'static str> {
    EVENT_NAMES.iter().copied()
}

/// `esl-allowed-events`: the event types (or all) and CUSTOM subclasses a user may subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllowedEvents {
    all: bool,
    names: HashSet<&'static str>,
    custom: bool,
    subclasses: HashSet<String>,
}

impl AllowedEvents {
    /// Parses the param like mod_event_socket: split on blanks when there is one, else on
    /// commas; unknown names are skipped; words after `CUSTOM` are subclasses.
    pub fn parse(list: &str) -> AllowedEvents {
        let delimiter = if list.contains(' ') { ' ' } else { ',' };
        let mut allowed = AllowedEvents::default();
        let mut after_custom = false;
        for word in list.split(delimiter) {
            if after_custom {
                allowed.subclasses.insert(word.to_string());
                continue;
            }
            match event_type(word) {
                Some(EventType::All) => allowed.all = true,
                Some(EventType::Custom) => {
                    allowed.custom = true;
                    after_custom = true;
                }
                Some(EventType::Named(name)) => {
                    allowed.names.insert(name);
                }
                None => {}
            }
        }
        allowed
    }

    pub fn allows(&self, wanted: EventType) -> bool {
        self.all
            || match wanted {
                EventType::All => false,
                EventType::Custom => self.custom,
                EventType::Named(name) => self.names.contains(name),
            }
    }

    pub fn allows_subclass(&self, subclass: &str) -> bool {
        self.subclasses.contains(subclass)
    }
}

/// API commands that run another command (`auth_api_command`'s "sneaky commands"): the command
/// they wrap must be allowed too.
const WRAPPING_COMMANDS: [&str; 5] = ["bgapi", "sched_api", "eval", "expand", "xml_wrap"];

/// `esl-allowed-api`: the API commands a user may run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllowedApi {
    commands: HashSet<String>,
}

impl AllowedApi {
    /// Split on blanks when there is one, else on commas (mod_event_socket).
    pub fn parse(list: &str) -> AllowedApi {
        let delimiter = if list.contains(' ') { ' ' } else { ',' };
        AllowedApi {
            commands: list.split(delimiter).map(str::to_string).collect(),
        }
    }

    /// `auth_api_command`: the command must be listed (case-sensitive, as the hash is) and,
    /// while it wraps another command, so must each wrapped one.
    pub fn allows(&self, command: &str, arg: &str) -> bool {
        // a command without arguments wraps nothing
        let wrapped = (!arg.is_empty())
            .then(|| arg.split(' '))
            .into_iter()
            .flatten();
        let mut words = std::iter::once(command).chain(wrapped);
        loop {
            let Some(word) = words.next() else {
                return true;
            };
            if !self.commands.contains(word) {
                return false;
            }
            if !WRAPPING_COMMANDS
                .iter()
                .any(|w| w.eq_ignore_ascii_case(word))
            {
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_case_insensitive_with_an_optional_prefix() {
        assert_eq!(
            event_type("switch_event_channel_answer"),
            Some(EventType::Named("CHANNEL_ANSWER"))
        );
        assert_eq!(event_type("all"), Some(EventType::All));
        assert_eq!(event_type("NO_SUCH_EVENT"), None);
        assert_eq!(every_event_name().count(), 93);
    }

    #[test]
    fn allowed_events_split_on_blanks_or_commas() {
        let listed = AllowedEvents::parse("CHANNEL_ANSWER,HEARTBEAT");
        assert!(listed.allows(EventType::Named("HEARTBEAT")));
        assert!(!listed.allows(EventType::Named("CHANNEL_HANGUP")));
        assert!(!listed.allows(EventType::All));
        let custom = AllowedEvents::parse("HEARTBEAT CUSTOM sofia::register");
        assert!(custom.allows(EventType::Custom));
        assert!(custom.allows_subclass("sofia::register"));
        assert!(!custom.allows_subclass("conference::maintenance"));
        assert!(AllowedEvents::parse("all").allows(EventType::Named("API")));
    }

    #[test]
    fn wrapping_commands_need_the_wrapped_command_allowed_too() {
        let allowed = AllowedApi::parse("status,expand,bgapi");
        assert!(allowed.allows("status", ""));
        assert!(!allowed.allows("originate", "user/1000 &park"));
        assert!(allowed.allows("expand", "status"));
        assert!(!allowed.allows("expand", "originate user/1000 &park"));
        assert!(allowed.allows("bgapi", "expand status"));
        assert!(!allowed.allows("Status", ""), "the hash is case-sensitive");
        assert!(allowed.allows("expand", ""));
    }
}
