//! Event bodies in the three formats: any bytes decode or give a typed error, never a panic.
#![no_main]

use esl4j_engine::proto::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let plain = Event::from_plain(data);
    let _ = plain.header_values("Event-Name");
    let _ = Event::from_plain(&plain.to_plain());
    for event in [Event::from_json(data), Event::from_xml(data)]
        .into_iter()
        .flatten()
    {
        let _ = event.name();
        let _ = event.body_text();
        let _ = Event::from_plain(&event.to_plain());
    }
});
