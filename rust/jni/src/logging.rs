//! Forwards `tracing` events from the engine to Java (`NativeLog`: slf4j if present, else
//! java.util.logging).
//!
//! Each record reads `message key=value ... [span fields]`: the fields of the spans the event
//! happened in (a connection's `address`, a session's `peer`) are appended, innermost last, so
//! every line of a connection names it. Spans live in a small table from `new_span` until their
//! last handle closes; the current span stack is per thread (tokio enters a task's span on
//! every poll). Java sets the maximum level at init and whenever it changes; the level is also
//! tracing's global hint, so a disabled `trace!` costs one atomic load.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

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

thread_local! {
    /// The spans this thread is inside, outermost first.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Installs the forwarding subscriber as the process default (once) and sets the level.
pub(crate) fn init(max_level: i32) {
    set_max_level(max_level);
    // Fails only if a subscriber is already installed, e.g. by an earlier init: keep it.
    let _ = tracing::subscriber::set_global_default(JavaLogSubscriber::new(
        &MAX_LEVEL,
        forward_to_java,
    ));
    tracing::callsite::rebuild_interest_cache();
}

/// Changes the maximum level forwarded to Java.
pub(crate) fn set_max_level(max_level: i32) {
    MAX_LEVEL.store(max_level.clamp(0, 5) as u8, Ordering::Relaxed);
    // Recomputes tracing's global level hint from `max_level_hint`.
    tracing::callsite::rebuild_interest_cache();
}

fn level_filter(level: u8) -> LevelFilter {
    match level {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
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

/// A live span: its own fields as text, its parent, and how many handles refer to it.
struct SpanEntry {
    fields: String,
    parent: Option<u64>,
    handles: usize,
}

/// Where a finished record goes: (level number, target, line).
type Sink = fn(i32, &str, &str);

fn forward_to_java(level: i32, target: &str, line: &str) {
    // Logging must never fail the caller: a record that cannot be delivered is dropped.
    let _ = callbacks::log(level, target, line);
}

struct JavaLogSubscriber {
    max_level: &'static AtomicU8,
    sink: Sink,
    spans: Mutex<HashMap<u64, SpanEntry>>,
    next_id: AtomicU64,
}

impl JavaLogSubscriber {
    fn new(max_level: &'static AtomicU8, sink: Sink) -> JavaLogSubscriber {
        JavaLogSubscriber {
            max_level,
            sink,
            spans: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }

    /// The span table; a panic elsewhere while it was held leaves it usable.
    fn lock_spans(&self) -> MutexGuard<'_, HashMap<u64, SpanEntry>> {
        self.spans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The fields of `span` and its ancestors, outermost first.
    fn context(&self, span: u64) -> String {
        let spans = self.lock_spans();
        let mut chain = Vec::new();
        let mut next = Some(span);
        while let Some(id) = next {
            match spans.get(&id) {
                Some(entry) => {
                    if !entry.fields.is_empty() {
                        chain.push(entry.fields.trim_start().to_owned());
                    }
                    next = entry.parent;
                }
                None => break,
            }
        }
        chain.reverse();
        chain.join(" ")
    }
}

fn current_span() -> Option<u64> {
    ENTERED.with(|stack| stack.borrow().last().copied())
}

impl Subscriber for JavaLogSubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at run time, so ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Spans are always kept: an event at any level may need their fields.
        metadata.is_span()
            || level_number(metadata.level()) <= self.max_level.load(Ordering::Relaxed)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(level_filter(self.max_level.load(Ordering::Relaxed)))
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let mut fields = FieldText::default();
        attributes.record(&mut fields);
        let parent = if attributes.is_contextual() {
            current_span()
        } else {
            attributes.parent().map(Id::into_u64)
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut spans = self.lock_spans();
        if let Some(parent) = parent.and_then(|parent| spans.get_mut(&parent)) {
            // A child keeps its parent's fields alive.
            parent.handles += 1;
        }
        spans.insert(
            id,
            SpanEntry {
                fields: fields.0,
                parent,
                handles: 1,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = FieldText::default();
        values.record(&mut fields);
        let mut spans = self.lock_spans();
        if let Some(entry) = spans.get_mut(&span.into_u64()) {
            entry.fields.push_str(&fields.0);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if FORWARDING.with(|flag| flag.replace(true)) {
            return;
        }
        let mut text = MessageText::default();
        event.record(&mut text);
        let span = if event.is_contextual() {
            current_span()
        } else {
            event.parent().map(Id::into_u64)
        };
        let mut line = text.message;
        line.push_str(&text.fields.0);
        if let Some(span) = span {
            let context = self.context(span);
            if !context.is_empty() {
                let _ = write!(line, " [{context}]");
            }
        }
        let metadata = event.metadata();
        (self.sink)(
            i32::from(level_number(metadata.level())),
            metadata.target(),
            &line,
        );
        FORWARDING.with(|flag| flag.set(false));
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|stack| stack.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(position) = stack.iter().rposition(|&id| id == span.into_u64()) {
                stack.remove(position);
            }
        });
    }

    fn clone_span(&self, span: &Id) -> Id {
        let mut spans = self.lock_spans();
        if let Some(entry) = spans.get_mut(&span.into_u64()) {
            entry.handles += 1;
        }
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        let mut spans = self.lock_spans();
        let mut next = Some(span.into_u64());
        let mut closed_first = false;
        // Closing a span releases its hold on its parent, which may close in turn.
        while let Some(id) = next.take() {
            let Some(entry) = spans.get_mut(&id) else {
                break;
            };
            entry.handles -= 1;
            if entry.handles == 0 {
                let parent = entry.parent;
                spans.remove(&id);
                closed_first |= id == span.into_u64();
                next = parent;
            }
        }
        closed_first
    }
}

/// ` key=value key=value`: values as their `Display` (strings unquoted), so a line reads
/// `address=127.0.0.1:8021`, never `Some("...")` or `"..."`.
#[derive(Default)]
struct FieldText(String);

impl Visit for FieldText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

/// An event's message, then its other fields.
#[derive(Default)]
struct MessageText {
    message: String,
    fields: FieldText,
}

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            // `format_args!` messages arrive here; their Debug is their text.
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields.record_debug(field, value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.record_str(field, value);
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

    static TEST_LEVEL: AtomicU8 = AtomicU8::new(5);

    thread_local! {
        static CAPTURED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn capture(_level: i32, _target: &str, line: &str) {
        CAPTURED.with(|lines| lines.borrow_mut().push(line.to_owned()));
    }

    #[test]
    fn lines_carry_the_fields_of_their_spans_as_plain_values() {
        let subscriber = std::sync::Arc::new(JavaLogSubscriber::new(&TEST_LEVEL, capture));
        let dispatch = tracing::Dispatch::from(std::sync::Arc::clone(&subscriber));
        tracing::dispatcher::with_default(&dispatch, || {
            let connection = tracing::info_span!("esl_inbound", address = %"127.0.0.1:8021");
            let session =
                connection.in_scope(|| tracing::info_span!("esl_session", name = "pbx-1"));
            session.in_scope(|| tracing::debug!(uuid = "abc", "session started"));
            tracing::warn!(parent: &connection, "lost");
            drop(session);
            drop(connection);
        });
        let lines = CAPTURED.with(|lines| lines.take());
        assert_eq!(
            lines,
            [
                "session started uuid=abc [address=127.0.0.1:8021 name=pbx-1]",
                "lost [address=127.0.0.1:8021]",
            ]
        );
        let open = subscriber
            .spans
            .lock()
            .map(|spans| spans.len())
            .unwrap_or(usize::MAX);
        assert_eq!(open, 0, "closed spans are forgotten");
    }

    #[test]
    fn max_level_is_clamped() {
        set_max_level(99);
        assert_eq!(MAX_LEVEL.load(Ordering::Relaxed), 5);
        set_max_level(-3);
        assert_eq!(MAX_LEVEL.load(Ordering::Relaxed), 0);
    }
}
