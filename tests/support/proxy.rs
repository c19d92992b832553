//! A loopback TCP proxy that cuts the connection part-way: it forwards everything, counts the
//! client's command lines that contain a given text, and right after forwarding the n-th one
//! closes both sides — the server gets the command, the client never hears the answer. This is
//! "the connection was lost in the middle of a clean" against the real server.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

pub struct CutProxy {
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl CutProxy {
    pub fn start(upstream_port: u16, needle: &str, nth: usize) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let needle = needle.to_ascii_uppercase().into_bytes();
        let h = hits.clone();
        thread::Builder::new()
            .name("cut-proxy".into())
            .spawn(move || {
                for client in listener.incoming().flatten() {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                        continue;
                    };
                    let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                        (Ok(c), Ok(s)) => (c, s),
                        _ => continue,
                    };
                    // server → client, as it comes
                    thread::spawn(move || pump(s2, c2));
                    let needle = needle.clone();
                    let h = h.clone();
                    thread::spawn(move || cutting_pump(client, server, &needle, nth, &h));
                }
            })
            .expect("proxy thread");
        CutProxy { port, hits }
    }

    /// How many matching command lines went through.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn cutting_pump(
    mut client: TcpStream,
    mut server: TcpStream,
    needle: &[u8],
    nth: usize,
    hits: &AtomicUsize,
) {
    let mut buf = [0u8; 16384];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            line.push(b);
            if b == b'\n' {
                let upper = line.to_ascii_uppercase();
                let hit = upper.windows(needle.len()).any(|w| w == needle);
                if server.write_all(&line).is_err() {
                    return;
                }
                line.clear();
                if hit && hits.fetch_add(1, Ordering::SeqCst) + 1 == nth {
                    let _ = server.flush();
                    // Let the server read the command before the line goes dead.
                    thread::sleep(std::time::Duration::from_millis(100));
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = server.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
        if !line.is_empty() && server.write_all(&line).is_ok() {
            line.clear();
        }
    }
    let _ = server.shutdown(Shutdown::Both);
}
