//! The transcript loader shared by the engine's and the simulator's test suites (each includes
//! this file with `#[path]`): the recorded FreeSWITCH frames of `tests/transcripts`.

use std::path::PathBuf;

/// Direction of a recorded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server (a command).
    ToServer,
    /// Server to client.
    ToClient,
}

/// One recorded frame.
#[derive(Debug, Clone)]
pub struct Record {
    /// The connection: `in`, `out`, `badpw`, `noauth`.
    pub conn: String,
    pub dir: Dir,
    /// Seconds since the start of the case when it was sent or received.
    pub t: f64,
    pub bytes: Vec<u8>,
}

/// `tests/transcripts` of the repository (both crates live in `rust/<crate>`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts")
}

/// The transcript files, sorted.
pub fn transcript_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".txt"))
        .collect();
    names.sort();
    names
}

/// Parses a transcript: `#> [conn] DIR t=+S len=N`, N raw bytes, `\n`; `## ` comments.
pub fn load(name: &str) -> Vec<Record> {
    let data = std::fs::read(fixtures_dir().join(name)).expect("transcript readable");
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |at| pos + at);
        let line = std::str::from_utf8(&data[pos..end]).expect("marker lines are UTF-8");
        pos = end + 1;
        let Some(marker) = line.strip_prefix("#> [") else {
            assert!(
                line.is_empty() || line.starts_with("## "),
                "unexpected line in {name}: {line:?}"
            );
            continue;
        };
        let (conn, rest) = marker.split_once("] ").expect("conn");
        let dir = match rest.split(' ').next() {
            Some("C->S") => Dir::ToServer,
            Some("S->C") => Dir::ToClient,
            other => panic!("bad direction {other:?} in {name}"),
        };
        let field = |prefix: &str| {
            rest.split(' ')
                .find_map(|f| f.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("{prefix} field in {name}: {line:?}"))
        };
        let t: f64 = field("t=+").parse().expect("numeric t");
        let len: usize = field("len=").parse().expect("numeric len");
        records.push(Record {
            conn: conn.to_owned(),
            dir,
            t,
            bytes: data[pos..pos + len].to_vec(),
        });
        pos += len;
        assert_eq!(
            data.get(pos),
            Some(&b'\n'),
            "frame of {name} not followed by newline"
        );
        pos += 1;
    }
    records
}

/// The records of one connection.
pub fn connection(name: &str, conn: &str) -> Vec<Record> {
    load(name).into_iter().filter(|r| r.conn == conn).collect()
}
