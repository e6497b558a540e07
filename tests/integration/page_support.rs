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
    /// The session cookie, once the address was opened over plain HTTP.
    pub jar: Jar,
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
        Page::spawn(Command::new(env!("CARGO_BIN_EXE_session-ready")), dir, args)
    }

    /// The same, with at most `files` open files (a common default limit).
    #[cfg(unix)]
    pub fn start_with_file_limit(files: u64, args: &[&str]) -> Page {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(env!("CARGO_BIN_EXE_session-ready"));
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child here.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: files as libc::rlim_t,
                    rlim_max: files as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Page::spawn(command, std::path::Path::new("."), args)
    }

    fn spawn(mut command: Command, dir: &std::path::Path, args: &[&str]) -> Page {
        let mut child = command
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
            jar: Jar::default(),
        }
    }

    /// The session cookie (`name=value`): the printed address is opened
    /// once, as a browser would, on first use.
    pub fn cookie(&self) -> String {
        self.jar.cookie(self.addr, &self.token)
    }

    /// The Host header a browser at the printed address sends.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GET a page's path as the browser that opened it would.
    pub fn get(&self, rest: &str) -> Reply {
        let reply = request(
            self.addr,
            "GET",
            &format!("/{rest}"),
            &[("Host", &self.host()), ("Cookie", &self.cookie())],
            "",
        );
        self.jar.keep(&reply);
        reply
    }

    /// POST JSON to the page's API as the page itself would.
    pub fn post(&self, api: &str, body: &str) -> Reply {
        request(
            self.addr,
            "POST",
            &format!("/api/{api}"),
            &[
                ("Host", &self.host()),
                ("Origin", &self.origin()),
                ("Cookie", &self.cookie()),
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
        // Every line up to the end of stderr (the reader stops there).
        let mut err = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(WAIT) {
            err.push(line);
        }
        (status.success(), out, err.join("\n"))
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The session cookie as a browser keeps it: from the first load of the
/// printed address, replaced by any newer one a reply sets.
#[derive(Default)]
pub struct Jar(std::sync::Mutex<Option<String>>);

impl Jar {
    pub fn cookie(&self, addr: SocketAddr, token: &str) -> String {
        let mut held = self.0.lock().unwrap();
        held.get_or_insert_with(|| open(addr, token)).clone()
    }

    /// Keep the cookie a reply sets, as a browser would.
    pub fn keep(&self, reply: &Reply) {
        if let Some(set) = reply
            .headers
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
        {
            *self.0.lock().unwrap() = Some(set.split(';').next().unwrap().trim().to_string());
        }
    }
}

/// Open the printed address `/{token}/` as a browser's first load does, and
/// return the session cookie it gives (`name=value`).
pub fn open(addr: SocketAddr, token: &str) -> String {
    let reply = request(
        addr,
        "GET",
        &format!("/{token}/"),
        &[("Host", &addr.to_string())],
        "",
    );
    assert_eq!(
        reply.status, 303,
        "the first load opens the page: {reply:?}"
    );
    let cookie = reply
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("a session cookie: {reply:?}"));
    // Headers are lowercased here; the cookie's value is lowercase hex anyway.
    cookie.split(';').next().unwrap().trim().to_string()
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
