//! Channel model: states, caller profile, variables and the headers FreeSWITCH puts on
//! channel events (switch_channel_event_set_data).

use crate::event::Event;

/// Channel states (`switch_channel_state_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// CS_NEW
    New,
    /// CS_INIT
    Init,
    /// CS_ROUTING
    Routing,
    /// CS_EXECUTE
    Execute,
    /// CS_CONSUME_MEDIA
    ConsumeMedia,
    /// CS_HANGUP
    Hangup,
    /// CS_REPORTING
    Reporting,
    /// CS_DESTROY
    Destroy,
}

impl ChannelState {
    /// Name and number as in `Channel-State` / `Channel-State-Number`.
    pub fn name_and_number(self) -> (&'static str, u32) {
        match self {
            ChannelState::New => ("CS_NEW", 0),
            ChannelState::Init => ("CS_INIT", 1),
            ChannelState::Routing => ("CS_ROUTING", 2),
            ChannelState::Execute => ("CS_EXECUTE", 4),
            ChannelState::ConsumeMedia => ("CS_CONSUME_MEDIA", 7),
            ChannelState::Hangup => ("CS_HANGUP", 10),
            ChannelState::Reporting => ("CS_REPORTING", 11),
            ChannelState::Destroy => ("CS_DESTROY", 12),
        }
    }
}

/// What a channel's remote side did, as seen by the channel (and its originator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// 180 Ringing.
    Ring,
    /// 183 Session Progress with media.
    EarlyMedia,
    /// 200 OK.
    Answer,
    /// The remote side hung up or rejected with this cause.
    Hangup(String),
}

/// One channel of the call model.
#[derive(Debug, Clone)]
pub struct Channel {
    pub uuid: String,
    pub name: String,
    pub outbound: bool,
    pub state: ChannelState,
    pub call_state: &'static str,
    pub answer_state: &'static str,
    pub hangup_cause: Option<String>,
    pub hit_dialplan: bool,
    pub call_uuid: String,
    pub vars: Vec<(String, String)>,
    pub exported: Vec<String>,
    pub caller_id_name: String,
    pub caller_id_number: String,
    pub orig_caller_id_number: String,
    pub callee_id_name: String,
    pub callee_id_number: String,
    pub destination: String,
    pub source: String,
    pub created_us: u64,
    pub answered_us: u64,
    pub progress_us: u64,
    pub progress_media_us: u64,
    pub hangup_us: u64,
    pub bridged_us: u64,
    /// The other leg while bridged (or the originator's peer, for Other-Leg headers).
    pub other_leg: Option<String>,
}

impl Channel {
    /// A new channel in CS_NEW.
    pub fn new(uuid: String, name: String, outbound: bool, now_us: u64) -> Self {
        Channel {
            call_uuid: uuid.clone(),
            uuid,
            name,
            outbound,
            state: ChannelState::New,
            call_state: "DOWN",
            answer_state: "ringing",
            hangup_cause: None,
            hit_dialplan: !outbound,
            vars: Vec::new(),
            exported: Vec::new(),
            caller_id_name: String::new(),
            caller_id_number: "0000000000".into(),
            orig_caller_id_number: "0000000000".into(),
            callee_id_name: "Outbound Call".into(),
            callee_id_number: "default".into(),
            destination: String::new(),
            source: "mod_loopback".into(),
            created_us: now_us,
            answered_us: 0,
            progress_us: 0,
            progress_media_us: 0,
            hangup_us: 0,
            bridged_us: 0,
            other_leg: None,
        }
    }

    /// A channel variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (replaces in place) or, for an empty value, removes a channel variable.
    pub fn set_var(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if value.is_empty() {
            self.vars.retain(|(n, _)| n != name);
            return;
        }
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }

    /// Whether the channel has hung up.
    pub fn is_down(&self) -> bool {
        self.hangup_cause.is_some()
    }

    /// Whether the channel has been answered.
    pub fn is_answered(&self) -> bool {
        self.answered_us != 0
    }

    fn direction(&self) -> &'static str {
        if self.outbound {
            "outbound"
        } else {
            "inbound"
        }
    }

    /// The caller-profile headers with a prefix (`Caller`, `Channel`, `Other-Leg`); empty
    /// caller / callee ids are left out, as `switch_caller_profile_event_set_data` does.
    pub fn add_profile(&self, event: &mut Event, prefix: &str) {
        let direction = self.direction();
        let mut add = |name: &str, value: &str| {
            event.add(&format!("{prefix}-{name}"), value);
        };
        add("Direction", direction);
        add("Logical-Direction", direction);
        add("Dialplan", "xml");
        for (name, value) in [
            ("Caller-ID-Name", &self.caller_id_name),
            ("Caller-ID-Number", &self.caller_id_number),
            ("Orig-Caller-ID-Number", &self.orig_caller_id_number),
            ("Callee-ID-Name", &self.callee_id_name),
            ("Callee-ID-Number", &self.callee_id_number),
        ] {
            if !value.is_empty() {
                add(name, value);
            }
        }
        add("ANI", &self.orig_caller_id_number);
        add("Destination-Number", &self.destination);
        add("Unique-ID", &self.uuid);
        add("Source", &self.source);
        add("Context", "default");
        add("Channel-Name", &self.name);
        if prefix != "Other-Leg" {
            add("Profile-Index", "1");
        }
        let times = [
            ("Profile-Created-Time", self.created_us),
            ("Channel-Created-Time", self.created_us),
            ("Channel-Answered-Time", self.answered_us),
            ("Channel-Progress-Time", self.progress_us),
            ("Channel-Progress-Media-Time", self.progress_media_us),
            ("Channel-Hangup-Time", self.hangup_us),
            ("Channel-Transfer-Time", 0),
            ("Channel-Resurrect-Time", 0),
            ("Channel-Bridged-Time", self.bridged_us),
            ("Channel-Last-Hold", 0),
            ("Channel-Hold-Accum", 0),
        ];
        for (name, value) in times {
            add(name, &value.to_string());
        }
        add("Screen-Bit", "true");
        add("Privacy-Hide-Name", "false");
        add("Privacy-Hide-Number", "false");
    }

    /// `Channel-State` ... `Answer-State` (and `Hangup-Cause`); `state` overrides the state
    /// name and number (CODEC events report `CS_NONE` before the state machine starts).
    pub fn add_state_headers(&self, event: &mut Event, state: Option<(&str, u32)>) {
        let (state, number) = state.unwrap_or_else(|| self.state.name_and_number());
        event
            .add("Channel-State", state)
            .add("Channel-Call-State", self.call_state)
            .add("Channel-State-Number", number.to_string())
            .add("Channel-Name", self.name.clone())
            .add("Unique-ID", self.uuid.clone())
            .add("Call-Direction", self.direction())
            .add("Presence-Call-Direction", self.direction())
            .add(
                "Channel-HIT-Dialplan",
                if self.hit_dialplan { "true" } else { "false" },
            )
            .add("Channel-Call-UUID", self.call_uuid.clone())
            .add("Answer-State", self.answer_state);
        if let Some(cause) = &self.hangup_cause {
            event.add("Hangup-Cause", cause.clone());
        }
    }

    /// `switch_channel_event_set_data`: state headers, codec, caller profile, the other leg,
    /// and on extended events every channel variable.
    pub fn add_headers(&self, event: &mut Event, other: Option<&Channel>, extended: bool) {
        self.add_state_headers(event, None);
        for (kind, value) in [("Read", "L16"), ("Write", "L16")] {
            event
                .add(&format!("Channel-{kind}-Codec-Name"), value)
                .add(&format!("Channel-{kind}-Codec-Rate"), "8000")
                .add(&format!("Channel-{kind}-Codec-Bit-Rate"), "128000");
        }
        self.add_profile(event, "Caller");
        if let Some(other) = other {
            event.add(
                "Other-Type",
                if self.outbound {
                    "originator"
                } else {
                    "originatee"
                },
            );
            other.add_profile(event, "Other-Leg");
        }
        if extended {
            for (name, value) in &self.vars {
                event.add(&format!("variable_{name}"), value.clone());
            }
        }
    }
}

/// `Channel-Call-State-Number` of a call state (`switch_channel_callstate_t`).
pub fn call_state_number(call_state: &str) -> u32 {
    match call_state {
        "DOWN" => 0,
        "DIALING" => 1,
        "RINGING" => 2,
        "EARLY" => 3,
        "ACTIVE" => 4,
        "HELD" => 5,
        "RING_WAIT" => 6,
        "HANGUP" => 7,
        _ => 8,
    }
}

/// Events that carry the channel variables (`switch_channel_event_set_extended_data`).
pub fn is_extended(event_name: &str) -> bool {
    !matches!(
        event_name,
        "CHANNEL_STATE" | "CHANNEL_CALLSTATE" | "CHANNEL_OUTGOING" | "CODEC"
    )
}

/// `DIALSTATUS` of a failed originate.
pub fn dial_status(cause: &str) -> String {
    match cause {
        "NO_ANSWER" | "NO_USER_RESPONSE" => "NOANSWER".into(),
        "USER_BUSY" => "BUSY".into(),
        "ORIGINATOR_CANCEL" => "CANCEL".into(),
        "INVALID_NUMBER_FORMAT" => "INVALIDARGS".into(),
        other => other.into(),
    }
}

/// Q.850 / FreeSWITCH cause numbers (switch_types.h) of the causes the simulator produces.
pub fn cause_number(cause: &str) -> Option<u32> {
    Some(match cause {
        "UNALLOCATED_NUMBER" => 1,
        "NO_ROUTE_DESTINATION" => 3,
        "NORMAL_CLEARING" => 16,
        "USER_BUSY" => 17,
        "NO_USER_RESPONSE" => 18,
        "NO_ANSWER" => 19,
        "SUBSCRIBER_ABSENT" => 20,
        "CALL_REJECTED" => 21,
        "DESTINATION_OUT_OF_ORDER" => 27,
        "INVALID_NUMBER_FORMAT" => 28,
        "NORMAL_TEMPORARY_FAILURE" => 41,
        "CHAN_NOT_IMPLEMENTED" => 66,
        "ORIGINATOR_CANCEL" => 487,
        "USER_NOT_REGISTERED" => 606,
        "LOSE_RACE" => 702,
        "ALLOTTED_TIMEOUT" => 802,
        "PROGRESS_TIMEOUT" => 807,
        _ => return None,
    })
}
