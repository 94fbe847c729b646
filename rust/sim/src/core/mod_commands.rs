//! The API commands of mod_commands that call-control applications use every day, with
//! FreeSWITCH's replies (texts from mod_commands.c; where its versions differ in
//! capitalisation, the one of the recorded `uuid_kill` reply). Any other command is refused as
//! FreeSWITCH refuses a command it does not know.

use super::api::{split_command, uptime_text};
use super::calls::{AppCall, AppOrigin};
use super::{Core, VERSION};
use crate::dial::separate_string;
use crate::event::{url_encode, Event};
use crate::model::{Channel, ChannelState};
use crate::util::new_uuid;

const NO_SUCH_CHANNEL: &str = "-ERR No such channel!\n";
/// mod_commands' `SHOW_SYNTAX`.
const SHOW_USAGE: &str = "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits\n";
/// The columns of `show channels` the simulator fills (FreeSWITCH's `channels` table has more).
const CHANNEL_COLUMNS: [&str; 10] = [
    "uuid",
    "direction",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "dest",
    "callstate",
    "call_uuid",
];

impl Core {
    /// Runs a non-blocking API command and returns its output; a command that prints nothing
    /// answers `-ERR no reply` as mod_event_socket does.
    pub fn api_exec(&mut self, name: &str, arg: &str) -> String {
        let output = self
            .run_api(name, arg)
            .unwrap_or_else(|| format!("-ERR {name} Command not found!\n"));
        if output.is_empty() {
            "-ERR no reply\n".into()
        } else {
            output
        }
    }

    /// The output of a command the simulator implements; `None` for any other (one match arm
    /// per command: the table of commands).
    fn run_api(&mut self, name: &str, arg: &str) -> Option<String> {
        let output = match name {
            "status" => self.status_text(),
            "version" => format!("{VERSION}\n"),
            "hostname" => self.cfg.hostname.clone(),
            "create_uuid" => new_uuid(),
            // mod_commands' echo_function: the argument as given
            "echo" => arg.to_string(),
            "url_encode" => url_encode(arg),
            "url_decode" => url_decode(arg),
            "eval" => self.api_eval(arg),
            "expand" => self.api_expand(arg),
            "global_getvar" => self.api_global_getvar(arg),
            "global_setvar" => self.api_global_setvar(arg),
            "uuid_kill" => self.api_uuid_kill(arg),
            "uuid_answer" => self.api_uuid_answer(arg),
            "uuid_break" => self.api_uuid_break(arg),
            "uuid_exists" => self.chans.contains_key(arg).to_string(),
            "uuid_getvar" => self.api_uuid_getvar(arg),
            "uuid_setvar" => self.api_uuid_setvar(arg),
            "uuid_dump" => self.api_uuid_dump(arg),
            "uuid_bridge" => self.api_uuid_bridge(arg),
            "uuid_transfer" => self.api_uuid_transfer(arg),
            "uuid_broadcast" => self.api_uuid_broadcast(arg),
            "sched_api" => self.api_sched_api(arg),
            "sched_del" => self.api_sched_del(arg),
            "hupall" => self.api_hupall(arg),
            "show" => self.show(arg),
            _ => return None,
        };
        Some(output)
    }

    /// `eval [uuid:<uuid> ]<text>`: `${var}` from the channel's data (its `variable_*` and
    /// profile headers) when a uuid is given, then from the globals.
    fn api_eval(&mut self, arg: &str) -> String {
        let (uuid, input) = uuid_prefix(arg);
        let channel = uuid.and_then(|u| self.channel_data(u, "eval_function", 0));
        self.expand_variables(input, channel.as_ref())
    }

    /// `expand [uuid:<uuid> ]<command> <args>`: the arguments expanded like `eval`, then the
    /// command run (an unknown one as `switch_api_execute` reports it).
    fn api_expand(&mut self, arg: &str) -> String {
        let (uuid, input) = uuid_prefix(arg);
        if input.is_empty() {
            return "-ERR, no input\n".into();
        }
        let channel = uuid.and_then(|u| self.channel_data(u, "expand_function", 0));
        let (inner, inner_arg) = split_command(input);
        let expanded = self.expand_variables(&inner_arg, channel.as_ref());
        match self.run_api(&inner, &expanded) {
            Some(output) => output,
            None => "INVALID COMMAND!\n-ERR, error executing command\n".into(),
        }
    }

    /// `${name}` and `$${name}` replaced by the `channel` data's header of that name, else the
    /// global variable (unset ones by nothing).
    fn expand_variables(&self, text: &str, channel: Option<&Event>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + 2 + len];
            let prefix = &rest[..start];
            out.push_str(prefix.strip_suffix('$').unwrap_or(prefix));
            let value = channel
                .and_then(|c| c.get(name))
                .or_else(|| self.global(name));
            out.push_str(value.unwrap_or(""));
            rest = &rest[start + 3 + len..];
        }
        out.push_str(rest);
        out
    }

    fn global(&self, name: &str) -> Option<&str> {
        self.globals
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `global_getvar [<var>]`: one value, or every `name=value` line.
    fn api_global_getvar(&self, arg: &str) -> String {
        if arg.is_empty() {
            return self
                .globals
                .iter()
                .map(|(n, v)| format!("{n}={v}\n"))
                .collect();
        }
        self.global(arg).unwrap_or("").to_string()
    }

    /// `global_setvar <var>=<value> [=<value2>]`: an empty value unsets; with `value2` the
    /// variable is set only while it holds `value2` (`switch_core_set_var_conditional`).
    fn api_global_setvar(&mut self, arg: &str) -> String {
        let parts = separate_string(arg, '=', 3);
        let Some(var) = parts.first().filter(|v| !arg.is_empty() && !v.is_empty()) else {
            return "-USAGE: <var>=<value> [=<value2>]\n".into();
        };
        let value = parts.get(1).filter(|v| !v.is_empty());
        if let Some(expected) = parts.get(2).filter(|v| !v.is_empty()) {
            if self.global(var) != Some(expected.as_str()) {
                return "+OK".into();
            }
        }
        self.globals.retain(|(n, _)| n != var);
        if let Some(value) = value {
            self.globals.push((var.clone(), value.clone()));
        }
        "+OK".into()
    }

    /// `uuid_kill <uuid> [cause]`.
    fn api_uuid_kill(&mut self, arg: &str) -> String {
        if arg.is_empty() {
            return "-USAGE: <uuid> [cause]\n".into();
        }
        let (uuid, cause) = arg.split_once(' ').unwrap_or((arg, ""));
        if !self.chan_up(uuid) {
            return NO_SUCH_CHANNEL.into();
        }
        let cause = Some(cause.trim()).filter(|c| !c.is_empty());
        self.hangup(uuid, cause.unwrap_or("NORMAL_CLEARING"), None);
        "+OK\n".into()
    }

    fn api_uuid_answer(&mut self, uuid: &str) -> String {
        if !self.chan_up(uuid) {
            return NO_SUCH_CHANNEL.into();
        }
        self.answer(uuid);
        "+OK\n".into()
    }

    fn api_uuid_break(&mut self, arg: &str) -> String {
        let uuid = arg.split(' ').next().unwrap_or("");
        if !self.chan_up(uuid) {
            return NO_SUCH_CHANNEL.into();
        }
        self.break_media(uuid);
        "+OK\n".into()
    }

    /// `uuid_getvar <uuid> <var>`: the value, or `_undef_`.
    fn api_uuid_getvar(&self, arg: &str) -> String {
        let parts = separate_string(arg, ' ', 4);
        if parts.len() < 2 || parts[0].is_empty() {
            return "-USAGE: <uuid> <var>\n".into();
        }
        match self.chans.get(&parts[0]) {
            Some(chan) => chan.ch.var(&parts[1]).unwrap_or("_undef_").to_string(),
            None => NO_SUCH_CHANNEL.into(),
        }
    }

    /// `uuid_setvar <uuid> <var> [value]`: without a value the variable is unset; the value
    /// is the rest of the line.
    fn api_uuid_setvar(&mut self, arg: &str) -> String {
        let parts = separate_string(arg, ' ', 3);
        if !(2..=3).contains(&parts.len()) || parts[0].is_empty() {
            return "-USAGE: <uuid> <var> [value]\n".into();
        }
        match self.chans.get_mut(&parts[0]) {
            Some(chan) => {
                let value = parts.get(2).cloned().unwrap_or_default();
                chan.ch.set_var(&parts[1], value);
                "+OK\n".into()
            }
            None => NO_SUCH_CHANNEL.into(),
        }
    }

    fn api_uuid_dump(&mut self, arg: &str) -> String {
        let uuid = arg.split(' ').next().unwrap_or("");
        if uuid.is_empty() {
            return "-USAGE: <uuid> [format]\n".into();
        }
        match self.channel_data(uuid, "uuid_dump", 0) {
            Some(event) => event.to_plain(),
            None => NO_SUCH_CHANNEL.into(),
        }
    }

    fn api_uuid_bridge(&mut self, arg: &str) -> String {
        let words: Vec<&str> = arg.split_whitespace().collect();
        match (words.first(), words.get(1)) {
            (Some(a), Some(b)) if self.chan_up(a) && self.chan_up(b) => {
                let (a, b) = (a.to_string(), b.to_string());
                self.link_bridge(&a, &b);
                format!("+OK {b}\n")
            }
            (Some(_), Some(_)) => "-ERR Invalid uuid\n".into(),
            _ => "-USAGE: <uuid> <other_uuid>\n".into(),
        }
    }

    /// `uuid_transfer <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]`: the
    /// channel leaves what it runs (and its bridge) and routes `dest-exten` like a new call
    /// of the simulator's dialplan (`set_route`); an unknown extension hangs it up with
    /// NO_ROUTE_DESTINATION.
    fn api_uuid_transfer(&mut self, arg: &str) -> String {
        const USAGE: &str = "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n";
        let parts = separate_string(arg, ' ', 5);
        if arg.is_empty() || !(2..=5).contains(&parts.len()) {
            return USAGE.into();
        }
        if !self.chan_up(&parts[0]) {
            return NO_SUCH_CHANNEL.into();
        }
        let (leg, dest) = match parts[1].strip_prefix('-') {
            Some(leg) => (Some(leg.to_ascii_lowercase()), parts.get(2)),
            None => (None, parts.get(1)),
        };
        let Some(dest) = dest.cloned() else {
            return "-ERR\n".into();
        };
        let peer = self
            .chans
            .get(&parts[0])
            .and_then(|c| c.ch.var("bridge_uuid"))
            .map(str::to_string)
            .filter(|p| self.chan_up(p));
        let targets = match (leg.as_deref(), peer) {
            (Some("bleg"), Some(peer)) => vec![peer],
            (Some("both"), Some(peer)) => vec![peer, parts[0].clone()],
            _ => vec![parts[0].clone()],
        };
        for uuid in targets {
            self.transfer(&uuid, &dest);
        }
        "+OK\n".into()
    }

    /// `switch_ivr_session_transfer`: the running applications end, the bridge (if any) is
    /// left, and the channel routes the new extension.
    fn transfer(&mut self, uuid: &str, dest: &str) {
        let peer = self.chans.get_mut(uuid).and_then(|c| {
            c.ch.destination = dest.to_string();
            c.ch.set_var("transfer_destination", dest);
            c.bridged_with.take()
        });
        if let Some(peer) = peer {
            self.emit_with(
                uuid,
                "CHANNEL_UNBRIDGE",
                &[
                    ("Bridge-A-Unique-ID", uuid.to_string()),
                    ("Bridge-B-Unique-ID", peer.clone()),
                ],
            );
            if let Some(chan) = self.chans.get_mut(uuid) {
                chan.ch.other_leg = None;
            }
            self.release_bridge_peer(peer, "NORMAL_CLEARING");
        }
        while self.chans.get(uuid).is_some_and(|c| !c.stack.is_empty()) {
            self.unpark_if_parked(uuid);
            self.complete_top(uuid, None);
        }
        let dialplan = match self.routes.get(dest) {
            Some(apps) => apps.iter().map(|(a, b)| AppCall::dialplan(a, b)).collect(),
            None => [AppCall::dialplan("hangup", "NO_ROUTE_DESTINATION")].into(),
        };
        if let Some(chan) = self.chans.get_mut(uuid) {
            chan.dialplan = dialplan;
            chan.idle = false;
        }
        self.set_state(uuid, ChannelState::Routing);
        self.wake(uuid);
    }

    /// `uuid_broadcast <uuid> <path> [aleg|bleg|holdb|both]`: queues `playback <path>` (or
    /// `app::args`) on the channel and, for `bleg` / `both`, on its bridge peer. FreeSWITCH
    /// answers `+OK Message Sent` whether or not the channel exists.
    fn api_uuid_broadcast(&mut self, arg: &str) -> String {
        let parts = separate_string(arg, ' ', 4);
        if arg.is_empty() || parts.len() < 2 {
            return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n".into();
        }
        let legs = parts.get(2).map(|l| l.to_ascii_lowercase());
        let (aleg, bleg) = match legs.as_deref() {
            None => (true, false),
            Some(l) => (
                l.contains("aleg") || l.contains("both"),
                l.contains("bleg") || l.contains("both"),
            ),
        };
        let (name, app_arg) = match parts[1].split_once("::") {
            Some((app, app_arg)) => (app.to_string(), app_arg.to_string()),
            None => ("playback".to_string(), parts[1].clone()),
        };
        let peer = self
            .chans
            .get(&parts[0])
            .and_then(|c| c.bridged_with.clone());
        let targets = [(aleg, Some(parts[0].clone())), (bleg, peer)];
        for uuid in targets
            .into_iter()
            .filter_map(|(wanted, uuid)| uuid.filter(|_| wanted))
        {
            let call = AppCall {
                origin: AppOrigin::Queued {
                    private_command: None,
                },
                ..AppCall::dialplan(&name, &app_arg)
            };
            if let Some(chan) = self.chans.get_mut(&uuid).filter(|c| !c.ch.is_down()) {
                chan.private.push_back(call);
                self.wake(&uuid);
            }
        }
        "+OK Message Sent\n".into()
    }

    /// `hupall [cause] [<var> <value>]`.
    fn api_hupall(&mut self, arg: &str) -> String {
        let parts = separate_string(arg, ' ', 3);
        let cause = parts
            .first()
            .filter(|c| crate::model::cause_number(c).is_some())
            .cloned()
            .unwrap_or_else(|| "MANAGER_REQUEST".into());
        let matching = match (parts.get(1), parts.get(2)) {
            (Some(var), Some(value)) => Some((var.clone(), value.clone())),
            _ => None,
        };
        let all: Vec<String> = self
            .chan_order
            .iter()
            .filter(|u| self.chan_up(u))
            .filter(|u| {
                matching.as_ref().map_or(true, |(var, value)| {
                    self.chans.get(*u).and_then(|c| c.ch.var(var)) == Some(value.as_str())
                })
            })
            .cloned()
            .collect();
        for uuid in all {
            self.hangup(&uuid, &cause, None);
        }
        match matching {
            Some((var, value)) => {
                format!("+OK hangup all channels matching [{var}]=[{value}] with cause: {cause}\n")
            }
            None => format!("+OK hangup all channels with cause {cause}\n"),
        }
    }

    pub(super) fn status_text(&self) -> String {
        format!(
            "UP {}\nFreeSWITCH (Version 1.11.3-dev git cc93a68 2026-08-21 14:10:14Z 64bit) is ready\n{} session(s) since startup\n{} session(s) - peak {}, last 5min {} \n0 session(s) per Sec out of max 200, peak 0, last 5min 0 \n1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n",
            uptime_text(self.now_ms),
            self.session_count,
            self.chans.len(),
            self.session_count,
            self.session_count
        )
    }

    /// `show channels|calls [count] [as json|delim]`; other kinds of `show` are not modelled
    /// and get the usage.
    fn show(&self, arg: &str) -> String {
        let words: Vec<&str> = arg.split(' ').filter(|w| !w.is_empty()).collect();
        let (columns, rows): (Vec<&str>, Vec<Vec<String>>) = match words.first() {
            Some(&"channels") => (CHANNEL_COLUMNS.to_vec(), self.channel_rows()),
            Some(&"calls") => self.call_rows(),
            _ => return SHOW_USAGE.into(),
        };
        let count = words.get(1) == Some(&"count");
        let format = match (count, words.get(1), words.get(2), words.get(3)) {
            (true, _, Some(&"as"), Some(format)) => *format,
            (false, Some(&"as"), Some(format), _) => *format,
            _ => "delim",
        };
        match format {
            "delim" | "csv" if count => format!("\n{} total.\n", rows.len()),
            "delim" | "csv" => {
                let mut out = columns.join(",");
                out.push('\n');
                for row in &rows {
                    out.push_str(&row.join(","));
                    out.push('\n');
                }
                out + &format!("\n{} total.\n", rows.len())
            }
            "json" if rows.is_empty() => "{\"row_count\": 0}\n".into(),
            "json" => {
                let objects: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        let mut object = Event::default();
                        for (name, value) in columns.iter().zip(row) {
                            object.add(name, value.clone());
                        }
                        object.to_json()
                    })
                    .collect();
                let listed = if count {
                    String::new()
                } else {
                    objects.join(",")
                };
                format!("{{\"row_count\":{},\"rows\":[{listed}]}}", rows.len())
            }
            other => format!("-ERR Cannot find format {other}\n"),
        }
    }

    fn channel_rows(&self) -> Vec<Vec<String>> {
        self.chan_order
            .iter()
            .filter_map(|u| self.chans.get(u))
            .map(|c| channel_columns(&c.ch))
            .collect()
    }

    /// `basic_calls`: every channel that is not the callee of a bridge, with its callee's
    /// columns prefixed `b_` (empty when it is not bridged).
    fn call_rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let mut columns: Vec<&'static str> = CHANNEL_COLUMNS.to_vec();
        columns.extend(CHANNEL_COLUMNS.iter().map(|c| B_COLUMNS[column_index(c)]));
        let rows = self
            .chan_order
            .iter()
            .filter_map(|u| self.chans.get(u))
            .filter(|c| !(c.bridged_as_callee && c.bridged_with.is_some()))
            .map(|c| {
                let callee = c
                    .bridged_with
                    .as_ref()
                    .and_then(|b| self.chans.get(b))
                    .map(|b| channel_columns(&b.ch))
                    .unwrap_or_else(|| vec![String::new(); CHANNEL_COLUMNS.len()]);
                let mut row = channel_columns(&c.ch);
                row.extend(callee);
                row
            })
            .collect();
        (columns, rows)
    }
}

/// The callee columns of `show calls`.
const B_COLUMNS: [&str; 10] = [
    "b_uuid",
    "b_direction",
    "b_created_epoch",
    "b_name",
    "b_state",
    "b_cid_name",
    "b_cid_num",
    "b_dest",
    "b_callstate",
    "b_call_uuid",
];

fn column_index(column: &str) -> usize {
    CHANNEL_COLUMNS
        .iter()
        .position(|c| *c == column)
        .unwrap_or(0)
}

fn channel_columns(c: &Channel) -> Vec<String> {
    vec![
        c.uuid.clone(),
        if c.outbound { "outbound" } else { "inbound" }.into(),
        (c.created_us / 1_000_000).to_string(),
        c.name.clone(),
        c.state.name_and_number().0.into(),
        c.caller_id_name.clone(),
        c.caller_id_number.clone(),
        c.destination.clone(),
        c.call_state.into(),
        c.call_uuid.clone(),
    ]
}

/// `uuid:<uuid> <rest>` of eval and expand: the uuid and the rest; no blank after the uuid
/// leaves nothing to run.
fn uuid_prefix(arg: &str) -> (Option<&str>, &str) {
    let Some(rest) = arg
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("uuid:"))
        .map(|_| &arg[5..])
    else {
        return (None, arg);
    };
    match rest.split_once(' ') {
        Some((uuid, input)) => (Some(uuid), input),
        None => (None, ""),
    }
}

/// `switch_url_decode`: `%` followed by at least two characters is read with `sscanf("%2x")`
/// (leading blanks skipped, then up to two hex digits, a sign allowed) and always consumes
/// those two characters; `+` stays `+`. Bytes that are not UTF-8 become U+FFFD here.
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && bytes.len() - i > 2 {
            if let Some(byte) = scan_hex_byte(&bytes[i + 1..]) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `sscanf(s, "%2x")`: blanks skipped, then a sign and hex digits within a width of two.
fn scan_hex_byte(s: &[u8]) -> Option<u8> {
    let start = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let field = &s[start..s.len().min(start + 2)];
    let (negative, digits) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        Some(b'+') => (false, &field[1..]),
        _ => (false, field),
    };
    let hex: Vec<u8> = digits
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .copied()
        .collect();
    let value = u32::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?;
    // the value goes through `unsigned int` into a `char`: only its low byte is kept
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Some(value as u8)
}

#[cfg(test)]
mod tests {
    use super::{url_decode, uuid_prefix};
    use crate::event::url_encode;

    #[test]
    fn url_encode_escapes_utf8_bytes_and_the_unsafe_set() {
        for (text, encoded) in [
            ("你好 héllo", "%E4%BD%A0%E5%A5%BD%20h%C3%A9llo"),
            ("\u{1F600}", "%F0%9F%98%80"),
            ("a+b=c&d?e#f", "a%2Bb%3Dc%26d%3Fe%23f"),
            ("safe-._~!$'()*,/", "safe-._~!$'()*,/"),
            // switch_url_encode does not encode an escape twice
            ("100%25 done", "100%25%20done"),
        ] {
            assert_eq!(url_encode(text), encoded, "{text}");
        }
    }

    #[test]
    fn url_decode_reads_like_sscanf() {
        for (text, decoded) in [
            ("%E4%BD%A0%E5%A5%BD%20h%C3%A9llo", "你好 héllo"),
            ("%f0%9f%98%80", "\u{1F600}"),
            ("a+b", "a+b"),
            ("100%", "100%"),
            ("%4", "%4"),
            ("%4g!", "\u{4}!"),
            ("%zz", "%zz"),
        ] {
            assert_eq!(url_decode(text), decoded, "{text}");
        }
    }

    #[test]
    fn the_uuid_prefix_of_eval_needs_a_blank() {
        assert_eq!(uuid_prefix("uuid:abc ${x}"), (Some("abc"), "${x}"));
        assert_eq!(uuid_prefix("UUID:abc"), (None, ""));
        assert_eq!(uuid_prefix("${x}"), (None, "${x}"));
    }
}
