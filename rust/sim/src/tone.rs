//! How long a `tone_stream://` plays: FreeSWITCH's teletone script (`teletone_run` in
//! libteletone_generate.c) and mod_tone_stream's `;loops=` buffer replay, counted in samples
//! at 8 kHz like the loopback and test channels here.
//!
//! The script is `;`-separated segments. `x=value` segments set the defaults: `d=` duration
//! and `w=` wait in ms (initially 2000 and 500 *samples*), `l=n` plays the next tone n times,
//! `L=n` runs the whole script n times (the first `L=` with n > 0 only). Any other segment is
//! a run of tones: `%(on,off,freq,...)` with its own on/off times in ms, or a DTMF character
//! (`0`-`9`, `*`, `#`, `A`-`D`) with the defaults or `1(on,off)`. A tone whose first frequency
//! is 0 plays nothing, not even its wait; a malformed `(...)` ends the current pass.

use crate::util::atoi;

/// Samples per millisecond (teletone's default rate, and the rate of the simulated channels).
const SAMPLES_PER_MS: u64 = 8;

/// The characters that have a tone map (`teletone_init_session` sets the DTMF tones only).
const DTMF: &str = "0123456789*#ABCD";

/// How long `spec` (what follows `tone_stream://`) plays, in ms; `None` when it never ends
/// (`loops=-1`, or `l=` with a negative count).
pub fn tone_stream_ms(spec: &str) -> Option<u64> {
    // mod_tone_stream cuts the script at the first `;loops=` (any case) and replays the buffer
    let lower = spec.to_ascii_lowercase();
    let (script, buffer_loops) = match lower.find(";loops=") {
        Some(at) => (&spec[..at], atoi(&spec[at + 7..])),
        None => (spec, 0),
    };
    if buffer_loops < 0 {
        return None;
    }
    let samples = script_samples(script)?;
    // switch_buffer_read_loop: 0 and 1 both play the buffer once, n plays it n times
    Some(samples * buffer_loops.max(1) as u64 / SAMPLES_PER_MS)
}

/// The generator's settings that carry from one segment to the next.
struct Teletone {
    duration: u64,
    wait: u64,
    /// `l=`: how often the next tone plays; negative is endless.
    loops: i64,
}

/// Samples of the whole script with its `L=` passes; `None` when endless.
fn script_samples(script: &str) -> Option<u64> {
    let mut state = Teletone {
        duration: 2000,
        wait: 500,
        loops: 0,
    };
    let mut passes: Option<i64> = None;
    let mut total = 0u64;
    let mut pass = 0i64;
    loop {
        for segment in script.split(';') {
            let segment = segment.trim_start_matches([' ', '\r', '\n']);
            let bytes = segment.as_bytes();
            if bytes.get(1) == Some(&b'=') {
                let value = atoi(&segment[2..]);
                match bytes[0] {
                    b'd' => state.duration = value.max(0) as u64 * SAMPLES_PER_MS,
                    b'w' => state.wait = value.max(0) as u64 * SAMPLES_PER_MS,
                    b'l' => state.loops = value,
                    b'L' if passes.is_none() && value > 0 => passes = Some(value),
                    _ => {}
                }
                continue;
            }
            match tones_samples(segment, &mut state) {
                Tones::Samples(samples) => total += samples,
                Tones::Endless => return None,
                Tones::SyntaxError(samples) => {
                    total += samples;
                    break;
                }
            }
        }
        pass += 1;
        if pass >= passes.unwrap_or(1) {
            return Some(total);
        }
    }
}

enum Tones {
    Samples(u64),
    Endless,
    /// What played before the error; the rest of the pass is skipped.
    SyntaxError(u64),
}

/// One segment of tones, e.g. `%(500,0,440)` or `123` or `1(100,50)%(200,100,350,440)`.
fn tones_samples(segment: &str, state: &mut Teletone) -> Tones {
    let mut total = 0u64;
    let mut rest = segment;
    while let Some(c) = rest.chars().next() {
        if matches!(c, ' ' | '\r' | '\n') {
            rest = &rest[1..];
            continue;
        }
        let mut sounds = DTMF.contains(c);
        let (mut duration, mut wait) = (state.duration, state.wait);
        let after = &rest[c.len_utf8()..];
        rest = after;
        if let Some(inner) = after.strip_prefix('(') {
            let (fields, next) = match inner.split_once(')') {
                Some((fields, next)) => (fields, next),
                None => (inner, ""),
            };
            rest = next;
            let values: Vec<&str> = fields.split(',').collect();
            if let Some(on) = values.first() {
                duration = atoi(on).max(0) as u64 * SAMPLES_PER_MS;
            }
            if let Some(off) = values.get(1) {
                wait = atoi(off).max(0) as u64 * SAMPLES_PER_MS;
            }
            let tone_map = values.len() > 2 && c == '%';
            if !tone_map && (values.len() != 2 || c == '%') {
                return Tones::SyntaxError(total);
            }
            if tone_map {
                sounds = values[2].trim().parse::<f64>().is_ok_and(|f| f != 0.0);
            }
        }
        if !sounds {
            continue;
        }
        if state.loops < 0 {
            return Tones::Endless;
        }
        total += (duration + wait) * state.loops.max(1) as u64;
        state.loops = 0;
    }
    Tones::Samples(total)
}

#[cfg(test)]
mod tests {
    use super::tone_stream_ms;

    #[test]
    fn a_tone_lasts_its_on_and_off_times() {
        for (spec, ms) in [
            ("%(500,0,440)", Some(500)),
            ("%(1000,4000,440,480)", Some(5000)),
            // segments add up; `L=` repeats the whole script
            ("%(100,50,440);%(200,0,350)", Some(350)),
            ("L=3;%(100,100,440)", Some(600)),
            // `l=` repeats the next tone only
            ("l=2;%(100,0,440);%(50,0,440)", Some(250)),
            // the buffer replay of mod_tone_stream: 0 and 1 play once
            ("%(500,0,440);loops=3", Some(1500)),
            ("%(500,0,440);loops=1", Some(500)),
            ("%(500,0,440);LOOPS=0", Some(500)),
            // DTMF characters with the defaults (2000 and 500 samples) or their own times
            ("1", Some(312)),
            ("d=100;w=50;123", Some(450)),
            ("1(100,50)", Some(150)),
            // a first frequency of 0 plays nothing; an unknown character has no tone
            ("%(500,0,0)", Some(0)),
            ("x", Some(0)),
            // a malformed tone ends the pass
            ("%(500,0);%(100,0,440)", Some(0)),
        ] {
            assert_eq!(tone_stream_ms(spec), ms, "{spec}");
        }
    }

    #[test]
    fn negative_loops_never_end() {
        assert_eq!(tone_stream_ms("%(1000,0,440);loops=-1"), None);
        assert_eq!(tone_stream_ms("l=-1;%(1000,0,440)"), None);
    }
}
