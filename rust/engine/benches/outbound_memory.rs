//! Resident memory per outbound session, engine only (no JVM): a child process plays
//! FreeSWITCH's `socket` application for N calls (connect reply with ~7 KiB of channel data,
//! `+OK` to every command); this process accepts them on a [`Server`], routes each to the shared
//! receiver as the Java server does, hands its channel data over (as the JNI bridge gives it to
//! Java), sends `myevents` on each and reports the growth of its resident set divided by N while
//! all are up.
//!
//! `cargo bench -p esl4j-engine --bench outbound_memory [-- <sessions>]` (default 10,000; needs
//! twice as many open files: `ulimit -n`). `VARS=<n>` sets the channel variables per call
//! (default 100; 0 leaves a few hundred bytes of channel data). With glibc it also reports how
//! much of the growth is live allocations and how much free chunks left between them, and the
//! resident set once those free pages are returned (`malloc_trim`).
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), allow(unsafe_code))]

use std::time::Duration;

use esl4j_engine::proto::EventFormat;
use esl4j_engine::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PEER: &str = "--play-freeswitch";

/// glibc's allocator statistics, to tell the sessions' live memory from the free chunks that
/// stay resident between them (fragmentation).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    /// `struct mallinfo2` (glibc 2.33+).
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }

    unsafe extern "C" {
        fn mallinfo2() -> MallInfo2;
        fn malloc_trim(pad: usize) -> i32;
    }

    /// Bytes allocated and bytes free inside the allocator's arenas, over all arenas.
    pub fn allocated_and_free() -> (usize, usize) {
        // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value.
        let info = unsafe { mallinfo2() };
        (info.uordblks + info.hblkhd, info.fordblks)
    }

    /// Returns the free pages inside the arenas to the system.
    pub fn trim() {
        // SAFETY: malloc_trim only releases free memory; any pad is valid.
        unsafe { malloc_trim(0) };
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// A connect reply with `VARS` channel variables (100: ~7 KiB, a rich real call's size).
fn connect_reply(call: usize) -> Vec<u8> {
    let mut reply = format!(
        "Event-Name: CHANNEL_DATA\nUnique-ID: 00000000-0000-0000-0000-{call:012}\n\
         Channel-Name: sofia/internal/1000%40example.com\nAnswer-State: ringing\n"
    );
    for variable in 0..std::env::var("VARS").map_or(100, |v| v.parse().expect("number")) {
        reply.push_str(&format!(
            "variable_bench_{variable:03}: some%20value%20of%20a%20channel%20variable\n"
        ));
    }
    reply.push_str(
        "Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n",
    );
    reply.into_bytes()
}

async fn play_call(mut stream: TcpStream, call: usize) {
    // Commands without a body end at a blank line; all this server sends are such commands.
    let mut pending = Vec::new();
    let mut buffer = [0u8; 1024];
    let mut replied_connect = false;
    loop {
        while let Some(end) = pending.windows(2).position(|pair| pair == b"\n\n") {
            pending.drain(..end + 2);
            let reply = if replied_connect {
                b"Content-Type: command/reply\nReply-Text: +OK\n\n".to_vec()
            } else {
                replied_connect = true;
                connect_reply(call)
            };
            if stream.write_all(&reply).await.is_err() {
                return;
            }
        }
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => pending.extend_from_slice(&buffer[..read]),
        }
    }
}

/// The child: N calls to `port`, kept up until killed.
fn play_freeswitch(port: u16, calls: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut tasks = Vec::with_capacity(calls);
        // One connect at a time: a burst overflows the listen backlog, and a dropped SYN is
        // retried only after seconds.
        for call in 0..calls {
            let stream = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connected");
            tasks.push(tokio::spawn(play_call(stream, call)));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some(PEER) {
        play_freeswitch(
            args[1].parse().expect("port"),
            args[2].parse().expect("calls"),
        );
        return;
    }
    let sessions: usize = args
        .first()
        .map_or(10_000, |n| n.parse().expect("sessions"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut config = ServerConfig::new("127.0.0.1:0");
        config.max_sessions = sessions + 16;
        config.handshake_timeout = Duration::from_secs(60);
        let server = std::sync::Arc::new(Server::bind(config).await.expect("bound"));
        let drain = server.clone();
        tokio::spawn(async move {
            loop {
                let _ = drain.recv_routed(Duration::from_secs(1)).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = resident_bytes();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        let heap_before = glibc::allocated_and_free();
        let mut peer = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args([
                PEER,
                &server.local_addr().port().to_string(),
                &sessions.to_string(),
            ])
            .spawn()
            .expect("peer started");
        let mut up = Vec::with_capacity(sessions);
        for key in 0..sessions {
            let Some(session) = server
                .accept_timeout(Duration::from_secs(60))
                .await
                .expect("listening")
            else {
                panic!("only {key} calls within a minute: {:?}", server.stats());
            };
            // As the JNI bridge does: the channel data goes to Java, the engine keeps none.
            let (connection, channel_data) = session.into_parts();
            drop(channel_data);
            server.route(&connection, key as u64);
            connection
                .myevents(None, EventFormat::Plain)
                .await
                .expect("myevents accepted");
            up.push(connection);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let grown = resident_bytes().saturating_sub(before);
        println!(
            "{sessions} sessions up: resident set grew {:.1} MiB, {:.1} KiB per session",
            grown as f64 / (1024.0 * 1024.0),
            grown as f64 / 1024.0 / sessions as f64
        );
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            let (allocated, free) = glibc::allocated_and_free();
            let per_session =
                |now: usize, then: usize| (now as f64 - then as f64) / 1024.0 / sessions as f64;
            println!(
                "of it: allocated {:.1} KiB, free between allocations {:.1} KiB per session",
                per_session(allocated, heap_before.0),
                per_session(free, heap_before.1)
            );
            glibc::trim();
            let trimmed = resident_bytes().saturating_sub(before);
            println!(
                "resident once free pages are returned (malloc_trim): {:.1} KiB per session",
                trimmed as f64 / 1024.0 / sessions as f64
            );
        }
        let _ = peer.kill();
        let _ = peer.wait();
    });
}
