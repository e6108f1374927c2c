//! The web page at `/`, driven in headless Chromium through the DevTools
//! protocol: on the seed story (the Armistice 2018 demo), the page takes a
//! token, shows the report, suggests a stance for a typed quote, records a
//! statement through its form, and shows the new position and the changed
//! contradiction without a reload; an append from another client appears
//! too. Chromium talks CDP over file descriptors 3 and 4
//! (`--remote-debugging-pipe`), so no websocket is needed. Skipped (with a
//! line saying so) when `chromium` is not installed.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// `onrecord serve` on a free loopback port; killed and waited for when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(ledger: &Path) -> Self {
        let mut child = Command::new(common::bin())
            .arg("--ledger")
            .arg(ledger)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let guard = |child: &mut Child| {
            let _ = child.kill();
            let _ = child.wait();
        };
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let base = line.trim().rsplit(" on ").next().unwrap_or("").to_owned();
        if read.is_err() || !base.starts_with("http://127.0.0.1:") {
            guard(&mut child);
            panic!("no address in {line:?}");
        }
        Self { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `chromium` on the PATH, if installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// A pipe whose both ends close on exec: `(read, write)`.
fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

/// Headless Chromium driven over its DevTools pipe; killed and waited for when dropped.
struct Browser {
    child: Child,
    commands: File,
    replies: mpsc::Receiver<Value>,
    next_id: u64,
    session: Option<String>,
}

impl Browser {
    fn start(binary: &Path, profile: &Path) -> Self {
        // Chromium reads commands on fd 3 and writes replies on fd 4.
        let (to_browser_read, to_browser_write) = pipe();
        let (from_browser_read, from_browser_write) = pipe();
        let mut command = Command::new(binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
                "--window-size=1200,2000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        unsafe {
            command.pre_exec(move || {
                // Move both ends above 4 first, so that placing one cannot close the other.
                let inbound = libc::fcntl(to_browser_read, libc::F_DUPFD, 10);
                let outbound = libc::fcntl(from_browser_write, libc::F_DUPFD, 10);
                if inbound < 0
                    || outbound < 0
                    || libc::dup2(inbound, 3) < 0
                    || libc::dup2(outbound, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let spawned = command.spawn();
        unsafe {
            libc::close(to_browser_read);
            libc::close(from_browser_write);
        }
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                unsafe {
                    libc::close(to_browser_write);
                    libc::close(from_browser_read);
                }
                panic!("start chromium: {e}");
            }
        };
        let commands = unsafe { File::from_raw_fd(to_browser_write) };
        let mut replies_in = unsafe { File::from_raw_fd(from_browser_read) };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = [0u8; 65536];
            while let Ok(n) = replies_in.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    if let Ok(value) = serde_json::from_slice(&message[..end])
                        && tx.send(value).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Self {
            child,
            commands,
            replies,
            next_id: 0,
            session: None,
        }
    }

    /// Sends one command (to the attached page, once there is one) and waits for its reply.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// Sends one command and waits for its reply: its result, or the error it answered.
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = self
                .replies
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no reply to {method}: {e}"));
            if reply["id"] == id {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
    }

    /// Opens `url` in a new page and attaches to it.
    fn open(&mut self, url: &str) {
        let target = self.call("Target.createTarget", json!({"url": url}));
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        self.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
    }

    /// Evaluates `expression` in the page (awaiting a promise); its value.
    fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|error| panic!("{expression}: {error}"))
    }

    /// Evaluates `expression` in the page: its value, or what went wrong
    /// (an exception, or a page still being replaced).
    fn try_eval(&mut self, expression: &str) -> Result<Value, Value> {
        let result = self.try_call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        )?;
        match result.get("exceptionDetails") {
            Some(exception) => Err(exception.clone()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Evaluates `expression` until it is true; panics with `what` (and the page's text) after 30 s.
    fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.try_eval(expression) == Ok(json!(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = self.try_eval("document.body ? document.body.innerText : ''");
        panic!("timed out waiting for {what}; the page shows:\n{text:?}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes a token on a ledger no server holds; the token printed once.
fn create_token(ledger: &Path, name: &str, role: &str) -> String {
    let out = common::ok(
        common::run(ledger, &["token", "create", name, "--role", role]),
        "token create",
    );
    common::text(&out.stdout).trim().to_owned()
}

/// A JavaScript string literal of `text`.
fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// Trump's row in a section's table of current positions.
const POSITION: &str = "table.positions tr[data-party=\"trump\"]";

/// The text of the paris-meeting section's element matching `selector` (JavaScript expression).
fn paris(selector: &str) -> String {
    format!(
        "((document.querySelector('#report section[data-proposition=\"paris-meeting\"] {selector}') || {{}}).textContent || '')"
    )
}

#[test]
fn the_page_records_a_statement_and_shows_it_and_the_changed_contradiction_without_a_reload() {
    let Some(binary) = chromium() else {
        println!("skipped: chromium not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let token = create_token(&ledger, "desk", "append");
    let server = Server::start(&ledger);
    let mut browser = Browser::start(&binary, &dir.path().join("chromium-profile"));

    browser.open(&format!("{}/", server.base));
    browser.wait_for(
        "the token prompt",
        "!!document.getElementById('token-form') && document.readyState === 'complete'",
    );
    browser.eval(&format!(
        "document.getElementById('token').value = {}; document.getElementById('token-form').requestSubmit(); true",
        js(&token)
    ));
    browser.wait_for(
        "the report",
        "!!document.querySelector('#report section[data-proposition=\"paris-meeting\"]')",
    );
    // The token is kept for the tab, never in the address.
    assert_eq!(
        browser.eval("sessionStorage.getItem('onrecord-token')"),
        json!(token)
    );
    assert_eq!(
        browser.eval("location.href"),
        json!(format!("{}/", server.base))
    );
    browser.wait_for(
        "the live tail",
        "document.getElementById('live').dataset.state === 'live'",
    );
    // The seed story's report: names, the contradiction, sources as links, the history.
    let contradiction = browser.eval(&paris("ul.contradictions li"));
    assert_eq!(
        contradiction,
        json!("The Kremlin and Donald Trump: 64.5 points apart")
    );
    assert_eq!(
        browser.eval(&paris(&format!("{POSITION} td:nth-child(2)"))),
        json!("unlikely")
    );
    assert_eq!(
        browser.eval(&format!(
            "({}).startsWith('https://')",
            paris(&format!("{POSITION} a.source"))
        )),
        json!(true)
    );
    assert_eq!(
        browser.eval(&paris("details.history summary")),
        json!("Statement history: 4 statements")
    );
    // The append role gets the form, filled from the ledger.
    browser.wait_for(
        "the form's choices",
        "!document.getElementById('record').hidden && document.querySelectorAll('#party option').length === 5",
    );

    // A marker that a reload would wipe.
    browser.eval("window.stillTheSamePage = true; true");
    browser.eval(
        "document.getElementById('proposition').value = 'paris-meeting';
         document.getElementById('party').value = 'trump';
         document.getElementById('said-at').value = '2018-11-09';
         document.getElementById('source').value = 'https://example.org/trump-paris';
         document.getElementById('qualifiers').value = 'off the record';
         const quote = document.getElementById('quote');
         quote.value = 'There is almost no chance we meet in Paris';
         quote.dispatchEvent(new Event('input'));
         true",
    );
    browser.wait_for(
        "the lexicon's suggestion",
        "document.getElementById('stance').value === 'almost-no-chance'
         && document.getElementById('suggestion').textContent.includes('almost-no-chance')",
    );
    browser.eval("document.getElementById('record-form').requestSubmit(); true");
    browser.wait_for(
        "the append's answer",
        "document.getElementById('record-status').textContent.startsWith('Recorded as seq 18')",
    );
    browser.wait_for(
        "the new position",
        &format!(
            "{} === 'almost-no-chance'",
            paris(&format!("{POSITION} td:nth-child(2)"))
        ),
    );
    assert_eq!(
        browser.eval(&paris("ul.contradictions li")),
        json!("The Kremlin and Donald Trump: 94.0 points apart")
    );
    assert_eq!(
        browser.eval(&paris(&format!("{POSITION} .qualifier"))),
        json!("off the record")
    );
    assert_eq!(
        browser.eval(&paris("details.history summary")),
        json!("Statement history: 5 statements")
    );
    assert_eq!(
        browser.eval("window.stillTheSamePage === true"),
        json!(true)
    );

    // A statement another client records reaches the open page through the tail.
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let statement = json!({"type":"statement","proposition":"paris-meeting","party":"trump",
        "stance":"very-likely","said_at":"2018-11-10","quote":"We will meet briefly",
        "source":"javascript:alert(1)"});
    let status = agent
        .post(format!("{}/v1/events", server.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(statement.to_string())
        .unwrap()
        .status();
    assert_eq!(status, 201);
    browser.wait_for(
        "the other client's statement",
        &format!(
            "{} === 'very-likely'",
            paris(&format!("{POSITION} td:nth-child(2)"))
        ),
    );
    // Both now lean the same way: no contradiction left; the javascript: source is text.
    assert_eq!(browser.eval(&paris("p.none")), json!("None."));
    assert_eq!(
        browser.eval(&paris(&format!("{POSITION} span.source"))),
        json!("javascript:alert(1)")
    );
    assert_eq!(browser.eval(&paris(&format!("{POSITION} a"))), json!(""));
    assert_eq!(
        browser.eval("window.stillTheSamePage === true"),
        json!(true)
    );

    // A refusal shows the server's problem detail.
    browser.eval(
        "document.getElementById('said-at').value = '';
         document.getElementById('said-at').removeAttribute('required');
         document.getElementById('record-form').requestSubmit(); true",
    );
    browser.wait_for(
        "the refusal",
        "document.getElementById('record-status').textContent.startsWith('Refused: ')",
    );
}

#[test]
fn a_read_token_gets_the_report_but_no_form() {
    let Some(binary) = chromium() else {
        println!("skipped: chromium not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let token = create_token(&ledger, "dashboard", "read");
    let server = Server::start(&ledger);
    let mut browser = Browser::start(&binary, &dir.path().join("chromium-profile"));
    browser.open(&format!("{}/", server.base));
    browser.wait_for(
        "the token prompt",
        "!!document.getElementById('token-form') && document.readyState === 'complete'",
    );
    // A wrong token is refused and the prompt says so.
    browser.eval(
        "document.getElementById('token').value = 'onr_0000_0000'; document.getElementById('token-form').requestSubmit(); true",
    );
    browser.wait_for(
        "the refusal",
        "document.getElementById('signin-status').textContent.includes('refused')",
    );
    assert_eq!(
        browser.eval("sessionStorage.getItem('onrecord-token')"),
        Value::Null
    );
    browser.eval(&format!(
        "document.getElementById('token').value = {}; document.getElementById('token-form').requestSubmit(); true",
        js(&token)
    ));
    browser.wait_for(
        "the report",
        "!!document.querySelector('#report section[data-proposition=\"g20-meeting\"]')",
    );
    assert_eq!(
        browser.eval("document.getElementById('record').hidden"),
        json!(true)
    );
    assert_eq!(
        browser.eval("document.getElementById('who').textContent"),
        json!("dashboard (read)")
    );
}
