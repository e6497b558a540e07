//! Starting `check --browser --no-open` and talking plain HTTP to its page
//! server, with whatever Host, Origin and path a test (or an attacker) chooses.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `session-ready check … --browser --no-open`.
pub struct Page {
    pub child: Child,
    pub url: String,
    pub addr: SocketAddr,
    pub token: String,
    /// Every stderr line after the address, as it arrives.
    pub stderr: mpsc::Receiver<String>,
}

/// Generous: the machine may be busy building.
pub const WAIT: Duration = Duration::from_secs(60);

impl Page {
    /// Start the check with `args` (plus `--browser --no-open`) and read the printed address.
    pub fn start(args: &[&str]) -> Page {
        Page::start_in(std::path::Path::new("."), args)
    }

    /// The same, working in the folder `dir` (where a saved report goes).
    pub fn start_in(dir: &std::path::Path, args: &[&str]) -> Page {
        let mut child = Command::new(env!("CARGO_BIN_EXE_session-ready"))
            .current_dir(dir)
            .args(["check", "--browser", "--no-open"])
            .args(args)
            .env_remove("SESSION_READY_SERVER")
            .env_remove("SESSION_READY_STUN")
            .env_remove("SESSION_READY_DRAFT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("session-ready starts");
        let stderr: ChildStderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let url = loop {
            let line = rx
                .recv_timeout(WAIT)
                .expect("session-ready prints the page's address");
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let addr: SocketAddr = host.parse().expect("a numeric loopback address");
        let token = path.trim_end_matches('/').to_string();
        Page {
            child,
            url,
            addr,
            token,
            stderr: rx,
        }
    }

    /// The Host header a browser at the printed address sends.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GET a path under the token with the browser's own Host.
    pub fn get(&self, rest: &str) -> Reply {
        request(
            self.addr,
            "GET",
            &format!("/{}/{rest}", self.token),
            &[("Host", &self.host())],
            "",
        )
    }

    /// POST JSON to the page's API as the page itself would.
    pub fn post(&self, api: &str, body: &str) -> Reply {
        request(
            self.addr,
            "POST",
            &format!("/{}/api/{api}", self.token),
            &[
                ("Host", &self.host()),
                ("Origin", &self.origin()),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }

    /// Wait for the process to end; returns (exit success, stdout, remaining stderr).
    pub fn finish(mut self) -> (bool, String, String) {
        let mut out = String::new();
        let mut stdout = self.child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let deadline = std::time::Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("session-ready did not stop within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = reader.join().unwrap();
        let err: Vec<String> = self.stderr.try_iter().collect();
        (status.success(), out, err.join("\n"))
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// One HTTP/1.1 request, written by hand so any header can be set or left out.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("the page server accepts");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: headers.to_ascii_lowercase(),
        body: body.to_string(),
    }
}
