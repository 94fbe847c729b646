//! Blocking commands from a thread outside the runtime (the JNI layer's blocking forms): the
//! caller reads its own reply while the reader task is not reading, and leaves what follows
//! the reply, in order, to the reader task.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use esl4j_engine::{Client, ClientConfig, Connection, ErrorKind, Incoming, Password, Response};
use support::{api_response_frame, event_frame, reply_frame};
use tokio::runtime::Runtime;

/// Far above every step here: only a hang reaches it.
const WAIT: Duration = Duration::from_secs(10);

/// Scheduler turns given to a fresh connection's tasks: far more than the reader task needs to
/// reach its wait for the socket (nothing else is queued).
const SETTLE_TURNS: usize = 16;

/// Reads one command (up to its blank line) from a blocking socket.
fn read_command(stream: &mut TcpStream) -> String {
    let mut command = Vec::new();
    let mut byte = [0u8; 1];
    while !command.ends_with(b"\n\n") {
        stream.read_exact(&mut byte).expect("command");
        command.push(byte[0]);
    }
    String::from_utf8(command).expect("text")
}

/// A server on a plain thread (the runtime may be held): authenticates, then for each
/// `(command, answer)` reads the command and writes the answer in one write.
fn serve(script: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .write_all(b"Content-Type: auth/request\n\n")
            .expect("write");
        assert_eq!(read_command(&mut stream), "auth ClueCon\n\n");
        stream
            .write_all(&reply_frame("+OK accepted"))
            .expect("write");
        for (command, answer) in script {
            assert_eq!(read_command(&mut stream), command);
            stream.write_all(&answer).expect("write");
        }
        // Keep the socket open until the client goes.
        let _ = stream.read(&mut [0u8; 1]);
    });
    address
}

/// A current-thread runtime and a client connected on it. Such a runtime runs its tasks only
/// inside `block_on`: between those calls the reader task cannot run, and only a blocking
/// caller can read the socket.
fn connect(address: &str, command_timeout: Duration) -> (Runtime, Client) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = ClientConfig::new(address, Password::new("ClueCon"));
    config.connection.command_timeout = command_timeout;
    let client = runtime.block_on(async {
        let client = Client::connect(config).await.expect("connected");
        // Lets the reader task start and reach its wait for the socket.
        for _ in 0..SETTLE_TURNS {
            tokio::task::yield_now().await;
        }
        client
    });
    (runtime, client)
}

/// Runs the reader task until the connection has ended.
fn run_until_closed(runtime: &Runtime, connection: &Connection) {
    runtime
        .block_on(async { tokio::time::timeout(WAIT, connection.closed()).await })
        .expect("connection ended");
    assert!(!connection.is_connected());
}

fn assert_closed(outcome: Result<Response, esl4j_engine::EslError>) {
    match outcome {
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionClosed, "{error}"),
        Ok(response) => panic!("expected the connection to end, got {response:?}"),
    }
}

fn custom_event(subclass: &str) -> Vec<u8> {
    event_frame(
        &[("Event-Name", "CUSTOM"), ("Event-Subclass", subclass)],
        None,
    )
}

fn subclass(item: Option<Incoming>) -> String {
    match item {
        Some(Incoming::Event(event)) => event
            .header("Event-Subclass")
            .expect("subclass")
            .into_owned(),
        other => panic!("expected an event, got {other:?}"),
    }
}

fn api_text(response: Response) -> String {
    match response {
        Response::Api(api) => api.text().into_owned(),
        other => panic!("expected an api/response, got {other:?}"),
    }
}

#[test]
fn a_blocking_caller_reads_its_own_reply_and_leaves_what_follows_to_the_reader_task() {
    let mut answer = custom_event("before-1");
    answer.extend(custom_event("before-2"));
    answer.extend(api_response_frame("vm"));
    answer.extend(custom_event("after"));
    let address = serve(vec![("api hostname\n\n", answer)]);
    let (runtime, client) = connect(&address, WAIT);
    let connection = client.connection();

    // Outside `block_on`: only this thread can read the reply.
    let reply = connection
        .send_command_blocking(b"api hostname\n\n".to_vec(), None)
        .expect("reply read by the caller");
    assert_eq!(api_text(reply), "vm");
    // The events before the reply were queued, in order, before it was handed over; the one
    // after it is still for the reader task to dispatch.
    assert_eq!(subclass(connection.try_recv().expect("open")), "before-1");
    assert_eq!(subclass(connection.try_recv().expect("open")), "before-2");
    assert!(connection.try_recv().expect("open").is_none());

    // Running, the reader task dispatches the rest although no more bytes arrive.
    let after = runtime.block_on(connection.recv(Some(WAIT))).expect("open");
    assert_eq!(subclass(after), "after");
    runtime.block_on(connection.close());
}

#[test]
fn a_final_disconnect_notice_read_by_a_blocking_caller_ends_the_connection() {
    let notice = b"Content-Type: text/disconnect-notice\nContent-Length: 14\n\nDisconnected.\n";
    let address = serve(vec![("api hostname\n\n", notice.to_vec())]);
    let (runtime, client) = connect(&address, WAIT);
    let connection = client.connection().clone();
    let caller = connection.clone();
    let call = std::thread::spawn(move || {
        caller.send_command_blocking(b"api hostname\n\n".to_vec(), None)
    });
    // Only the caller can read the notice while the runtime is not running; once it is queued,
    // the reader task must end the connection, failing the call, although the server leaves the
    // socket open.
    let until = Instant::now() + WAIT;
    let item = loop {
        if let Some(item) = connection.try_recv().expect("open") {
            break item;
        }
        assert!(Instant::now() < until, "the caller never read the notice");
        std::thread::yield_now();
    };
    assert!(matches!(item, Incoming::Disconnect(_)), "{item:?}");
    run_until_closed(&runtime, &connection);
    assert_closed(call.join().expect("caller"));
}

#[test]
fn a_blocking_call_fails_when_the_server_closes_the_socket_before_replying() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .write_all(b"Content-Type: auth/request\n\n")
            .expect("write");
        read_command(&mut stream);
        stream
            .write_all(&reply_frame("+OK accepted"))
            .expect("write");
        assert_eq!(read_command(&mut stream), "api hostname\n\n");
        // Closed without a reply.
    });
    let (runtime, client) = connect(&address, WAIT);
    let connection = client.connection().clone();
    let caller = connection.clone();
    let call = std::thread::spawn(move || {
        caller.send_command_blocking(b"api hostname\n\n".to_vec(), None)
    });
    server.join().expect("server");
    run_until_closed(&runtime, &connection);
    assert_closed(call.join().expect("caller"));
}

#[test]
fn a_partial_frame_read_by_a_blocking_caller_still_ends_a_stuck_connection() {
    let half_frame = b"Content-Type: api/response\nContent-Length: 100\n\nshort".to_vec();
    let address = serve(vec![("api hostname\n\n", half_frame)]);
    // Short, so that the stuck-frame rule (twice this) ends the connection soon; the test
    // waits for the outcome, whenever it comes.
    let (runtime, client) = connect(&address, Duration::from_millis(200));
    let connection = client.connection();
    // Outside `block_on`: the caller is the one that reads the partial frame.
    let outcome = connection.send_command_blocking(b"api hostname\n\n".to_vec(), None);
    match outcome {
        Err(error) => assert_eq!(error.kind(), ErrorKind::Timeout, "{error}"),
        Ok(response) => panic!("expected a timeout, got {response:?}"),
    }
    run_until_closed(&runtime, connection);
}
