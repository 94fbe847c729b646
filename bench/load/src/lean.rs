//! The lean load source: FreeSWITCH's inbound event socket cut down to what the paced benchmark
//! needs, answering as fast as FreeSWITCH itself does, so a client's `api` round trip can be
//! judged against the transport rather than against the simulator's own reply path.
//!
//! Like `mod_event_socket`, one thread serves one connection and writes both its replies and its
//! events: it waits for the socket to become readable until the next event is due, answers every
//! complete command at once, then writes the events that are due. `api hostname`, `api echo ...`
//! and `api status` are answered with an `api/response` and a `Content-Length` body (any other
//! `api` gets FreeSWITCH's `-ERR <name> Command not found!`), and each fires an `API` event to
//! every subscribed connection, as `switch_api_execute` does. Floods replay the corpus
//! round-robin to every subscribed connection, paced per event (no bursts).

use std::io::{self, BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long an idle connection waits for input before it looks for events again (another
/// connection's `API` event, a flood starting).
const IDLE_WAIT: Duration = Duration::from_millis(1);
/// Slack past a flood's nominal length before the request fails instead of hanging.
const FLOOD_SLACK: Duration = Duration::from_secs(60);
/// The server's name in `api hostname` and in the `API` events.
const HOSTNAME: &str = "esl4j-lean";
const PASSWORD: &str = "ClueCon";
/// `api status` as FreeSWITCH 1.11.3 answers it (`/work/shared/transcripts/01_auth_api.txt`).
const STATUS: &str =
    "UP 0 years, 0 days, 0 hours, 0 minutes, 1 second, 367 milliseconds, 984 microseconds\n\
FreeSWITCH (Version 1.11.3-dev git cc93a68 2026-08-21 14:10:14Z 64bit) is ready\n\
0 session(s) since startup\n\
0 session(s) - peak 0, last 5min 0 \n\
0 session(s) per Sec out of max 200, peak 0, last 5min 0 \n\
1000 session(s) max\n\
min idle cpu 0.00/100.00\n\
Current Stack Size/Max 240K/8192K\n";
const DISCONNECT_NOTICE: &[u8] = b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n\
Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

/// What every connection thread shares.
struct Hub {
    frames: Vec<Arc<[u8]>>,
    connections: Mutex<Vec<Arc<Peer>>>,
    /// `Event-Sequence` of the `API` events.
    sequence: AtomicU64,
}

/// One client connection, as the other threads see it.
#[derive(Default)]
struct Peer {
    subscribed: AtomicBool,
    closed: AtomicBool,
    /// Frames other connections fired at this one (`API` events), written by its own thread.
    fired: Mutex<Vec<Arc<[u8]>>>,
    flood: Mutex<Option<Flood>>,
    /// Signalled when this connection's flood has been written or the connection ended.
    flood_done: Condvar,
}

/// A paced flood in progress on one connection.
struct Flood {
    start: Instant,
    gap: Duration,
    events: u64,
    sent: u64,
}

impl Flood {
    fn next_due(&self) -> Option<Instant> {
        (self.sent < self.events).then(|| self.start + self.gap.mul_f64(self.sent as f64))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Serves the corpus on an ephemeral port and answers the driver's requests on stdin (see
/// `main.rs`), until stdin ends.
pub(crate) fn run(corpus: &[u8]) -> io::Result<()> {
    let hub = Arc::new(Hub {
        frames: esl4j_sim::split_frames(corpus)?,
        connections: Mutex::new(Vec::new()),
        sequence: AtomicU64::new(1),
    });
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let accepting = hub.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let peer = Arc::new(Peer::default());
            lock(&accepting.connections).push(peer.clone());
            let hub = accepting.clone();
            std::thread::spawn(move || {
                if let Err(error) = serve(&hub, &peer, stream) {
                    eprintln!("esl4j-bench-load --lean: connection ended: {error}");
                }
                peer.closed.store(true, Ordering::Release);
                peer.flood_done.notify_all();
                lock(&hub.connections).retain(|other| !Arc::ptr_eq(other, &peer));
            });
        }
    });
    let mut stdout = io::stdout();
    writeln!(stdout, "listening {port}")?;
    stdout.flush()?;
    for line in io::stdin().lock().lines() {
        writeln!(stdout, "{}", request(&hub, &line?))?;
        stdout.flush()?;
    }
    Ok(())
}

fn request(hub: &Hub, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["flood", events, rate] => match (events.parse::<u64>(), rate.parse::<u32>()) {
            (Ok(events), Ok(rate)) if rate > 0 => match flood(hub, events, rate) {
                Ok(()) => format!("flooded {events}"),
                Err(error) => format!("error {error}"),
            },
            _ => format!("error bad event count or rate in {line:?}"),
        },
        ["flood", ..] => {
            "error the lean load source only sends paced floods: flood EVENTS RATE".into()
        }
        _ => format!("error unknown request {line:?} (the lean load source knows only flood)"),
    }
}

/// Starts a paced flood on every subscribed connection and waits until each has written it.
fn flood(hub: &Hub, events: u64, rate: u32) -> io::Result<()> {
    let start = Instant::now();
    let gap = Duration::from_secs(1) / rate;
    let targets: Vec<Arc<Peer>> = lock(&hub.connections)
        .iter()
        .filter(|peer| peer.subscribed.load(Ordering::Acquire))
        .cloned()
        .collect();
    for peer in &targets {
        *lock(&peer.flood) = Some(Flood {
            start,
            gap,
            events,
            sent: 0,
        });
    }
    let deadline = start + gap.mul_f64(events as f64) + FLOOD_SLACK;
    for peer in &targets {
        let mut flood = lock(&peer.flood);
        while flood
            .as_ref()
            .is_some_and(|flood| flood.sent < flood.events)
            && !peer.closed.load(Ordering::Acquire)
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "flood not written in time",
                ));
            }
            flood = peer
                .flood_done
                .wait_timeout(flood, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        flood.take();
    }
    Ok(())
}

/// One connection's thread: greets, then answers commands and writes events until it ends.
fn serve(hub: &Hub, peer: &Peer, mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    precise_timers();
    stream.write_all(b"Content-Type: auth/request\n\n")?;
    let mut input = Vec::with_capacity(4096);
    let mut authenticated = false;
    loop {
        let due = lock(&peer.flood).as_ref().and_then(Flood::next_due);
        let wait = due.map_or(IDLE_WAIT, |due| {
            due.saturating_duration_since(Instant::now())
        });
        if readable(&stream, wait)? {
            let mut chunk = [0u8; 4096];
            let read = stream.read(&mut chunk)?;
            if read == 0 {
                return Ok(());
            }
            input.extend_from_slice(&chunk[..read]);
            while let Some(command) = take_command(&mut input) {
                match answer(hub, peer, &command, &mut authenticated) {
                    Answer::Reply(reply) => stream.write_all(&reply)?,
                    Answer::Bye(reply) => {
                        stream.write_all(&reply)?;
                        stream.write_all(DISCONNECT_NOTICE)?;
                        return Ok(());
                    }
                }
            }
        }
        let fired = std::mem::take(&mut *lock(&peer.fired));
        for frame in fired {
            stream.write_all(&frame)?;
        }
        write_due_events(hub, peer, &mut stream)?;
    }
}

/// Writes every flood event whose time has come (catching up after a late wake-up).
fn write_due_events(hub: &Hub, peer: &Peer, stream: &mut TcpStream) -> io::Result<()> {
    let now = Instant::now();
    loop {
        let frame = {
            let mut flood = lock(&peer.flood);
            let Some(flood) = flood.as_mut() else {
                return Ok(());
            };
            if flood.next_due().is_none_or(|due| due > now) {
                return Ok(());
            }
            let frame = hub.frames[(flood.sent % hub.frames.len() as u64) as usize].clone();
            flood.sent += 1;
            if flood.sent == flood.events {
                peer.flood_done.notify_all();
            }
            frame
        };
        stream.write_all(&frame)?;
    }
}

/// The pacing sleeps are tens of microseconds: without this, Linux lets each run up to 50 µs
/// late (the default timer slack) and events would go out in pairs.
fn precise_timers() {
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_u64);
    }
}

/// Waits up to `wait` for input; `true` when some is there.
fn readable(stream: &TcpStream, wait: Duration) -> io::Result<bool> {
    let mut poll = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    };
    // SAFETY: one valid pollfd for the call's duration, a valid timespec, no signal mask.
    let ready = unsafe { libc::ppoll(&mut poll, 1, &timeout, std::ptr::null()) };
    match ready {
        -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => Ok(false),
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// Takes one complete command (lines up to a blank line, then a `Content-Length` body if it
/// has one) off the front of `input`; returns its header block.
fn take_command(input: &mut Vec<u8>) -> Option<String> {
    let end = input.windows(2).position(|pair| pair == b"\n\n")?;
    let head = String::from_utf8_lossy(&input[..end]).into_owned();
    let body = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|length| length.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if input.len() < end + 2 + body {
        return None;
    }
    input.drain(..end + 2 + body);
    Some(head)
}

enum Answer {
    Reply(Vec<u8>),
    /// The reply to `exit`; the disconnect notice and the close follow.
    Bye(Vec<u8>),
}

fn command_reply(text: &str) -> Vec<u8> {
    format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes()
}

fn answer(hub: &Hub, peer: &Peer, command: &str, authenticated: &mut bool) -> Answer {
    let line = command.lines().next().unwrap_or_default().trim_end();
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    if !*authenticated {
        return Answer::Reply(if verb == "auth" && rest == PASSWORD {
            *authenticated = true;
            command_reply("+OK accepted")
        } else {
            command_reply("-ERR command not found")
        });
    }
    Answer::Reply(match verb {
        "api" => api(hub, rest),
        "event" => {
            peer.subscribed.store(true, Ordering::Release);
            let format = rest.split_whitespace().next().unwrap_or("plain");
            command_reply(&format!("+OK event listener enabled {format}"))
        }
        "exit" => return Answer::Bye(command_reply("+OK bye")),
        "noevents" | "nixevent" | "filter" | "log" | "nolog" => command_reply("+OK"),
        _ => {
            eprintln!("esl4j-bench-load --lean: {line:?} is not served");
            command_reply("-ERR command not found")
        }
    })
}

/// Answers `api <name> [<arg>]` and fires its `API` event.
fn api(hub: &Hub, command: &str) -> Vec<u8> {
    let (name, arg) = command.split_once(' ').unwrap_or((command, ""));
    let output = match name {
        "hostname" => HOSTNAME.to_owned(),
        "echo" => arg.to_owned(),
        "status" => STATUS.to_owned(),
        _ => format!("-ERR {name} Command not found!\n"),
    };
    let mut reply = format!(
        "Content-Type: api/response\nContent-Length: {}\n\n",
        output.len()
    )
    .into_bytes();
    reply.extend_from_slice(output.as_bytes());
    fire_api_event(hub, name, arg);
    reply
}

/// Queues an `API` event, shaped like FreeSWITCH's, for every subscribed connection.
fn fire_api_event(hub: &Hub, name: &str, arg: &str) {
    let sequence = hub.sequence.fetch_add(1, Ordering::Relaxed);
    let mut body = format!(
        "Event-Name: API\nFreeSWITCH-Hostname: {HOSTNAME}\n\
         Event-Calling-File: switch_loadable_module.c\n\
         Event-Calling-Function: switch_api_execute\nEvent-Sequence: {sequence}\n\
         API-Command: {name}\n"
    );
    if !arg.is_empty() {
        body.push_str(&format!("API-Command-Argument: {}\n", url_encode(arg)));
    }
    body.push('\n');
    let frame: Arc<[u8]> = format!(
        "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
        body.len()
    )
    .into_bytes()
    .into();
    for peer in lock(&hub.connections).iter() {
        if peer.subscribed.load(Ordering::Acquire) {
            lock(&peer.fired).push(frame.clone());
        }
    }
}

/// FreeSWITCH's encoding of plain event values: everything but letters and digits as `%XX`.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
