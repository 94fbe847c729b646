//! Forwards `tracing` events from the engine to Java (`NativeLog`: slf4j if present, else
//! java.util.logging).
//!
//! Only events are forwarded; spans are accepted and ignored. Java sets the maximum level at
//! init and whenever it changes, so disabled levels cost one atomic load.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use crate::callbacks;

/// 0 = off, 1 = error, 2 = warn, 3 = info, 4 = debug, 5 = trace.
/// Keep in sync with `NativeLog.OFF..TRACE`.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// Set while this thread is forwarding a record, so logging from inside the forwarding
    /// path (e.g. a JNI failure) cannot recurse.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// Installs the forwarding subscriber as the process default (once) and sets the level.
pub(crate) fn init(max_level: i32) {
    set_max_level(max_level);
    // Fails only if a subscriber is already installed, e.g. by an earlier init: keep it.
    let _ = tracing::subscriber::set_global_default(JavaLogSubscriber);
}

/// Changes the maximum level forwarded to Java.
pub(crate) fn set_max_level(max_level: i32) {
    MAX_LEVEL.store(max_level.clamp(0, 5) as u8, Ordering::Relaxed);
}

fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

struct JavaLogSubscriber;

impl Subscriber for JavaLogSubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at run time, so ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && level_number(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if FORWARDING.with(|flag| flag.replace(true)) {
            return;
        }
        let mut text = MessageText::default();
        event.record(&mut text);
        let metadata = event.metadata();
        // Logging must never fail the caller: a record that cannot be delivered is dropped.
        let _ = callbacks::log(
            i32::from(level_number(metadata.level())),
            metadata.target(),
            &text.0,
        );
        FORWARDING.with(|flag| flag.set(false));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// `message k=v k=v`.
#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            // The message goes first whatever order the fields arrive in.
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_from_error_to_trace() {
        let levels = [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ];
        let numbers: Vec<u8> = levels.iter().map(level_number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn max_level_is_clamped() {
        set_max_level(99);
        assert_eq!(MAX_LEVEL.load(Ordering::Relaxed), 5);
        set_max_level(-3);
        assert_eq!(MAX_LEVEL.load(Ordering::Relaxed), 0);
    }
}
