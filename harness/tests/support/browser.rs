//! A real browser for integration tests of self-contained HTML (the
//! reports): opens a page in headless Chromium with the network off and
//! hands back the DOM after its scripts ran, every network request it
//! attempted, and a screenshot.
//!
//! ```ignore
//! #[path = "support/browser.rs"]
//! mod browser;
//!
//! #[test]
//! fn report_renders() {
//!     let Some(chromium) = browser::require() else { return };
//!     let page = chromium.open(&report_path);
//!     assert_eq!(page.requests, Vec::<String>::new(), "the page fetched something");
//!     assert_eq!(page.count("table"), 3);
//!     assert_eq!(page.text("#summary td.p99"), "1.25");
//!     assert!(!page.is_blank());
//! }
//! ```
//!
//! How the network is off: the test starts an HTTP server on 127.0.0.1 (a
//! [`std::net::TcpListener`] and a thread per connection) that serves the
//! page at `/page.html`, and Chromium uses that same server as its proxy for
//! every host, loopback included. So every request — `http://` as an
//! absolute-URI request, `https://` and `ws://` as `CONNECT` — reaches the
//! server, which refuses it (404, or 403 for `CONNECT`) and logs it in
//! [`Page::proxied`]. Nothing leaves the machine, DNS is never asked (a
//! proxied browser leaves names to the proxy), and WebRTC may not send UDP
//! outside the proxy.
//!
//! Which requests the page made: the proxy also sees Chromium's own
//! traffic (sign-in, search-engine preconnects, a network-time query, …) —
//! flags quiet most of it, but what remains depends on the version and on
//! timers, so the proxy cannot tell a test about the page. Chromium's net
//! log can: [`Page::requests`] are the URL requests in it that the page
//! initiated or that belong to the page's site (its network isolation key),
//! but the page's own navigation and Chromium's automatic
//! `GET /favicon.ico`: Chromium fetches icons after the page loaded, racing
//! its own exit, so whether an icon fetch shows up is up to the clock.
//! **Pages should declare `<link rel="icon" href="data:,">`**, which stops
//! that fetch (a self-contained page has no icon to fetch anyway); a test
//! checks a declared icon, like a `<link rel="preconnect">` (a connection,
//! not a request), in the DOM.
//!
//! Without Chromium on the PATH a test skips (it prints why) unless
//! `GCWB_REQUIRE_CHROMIUM` is set — as `.ci/run` sets it after installing
//! Debian's `chromium` — and then it fails.
//!
//! Timing: nothing a test asserts depends on the clock. Chromium runs
//! scripts in virtual time (`--virtual-time-budget`, which also waits for
//! pending fetches, and every fetch is refused at once), and the net log is
//! complete when Chromium exits. The only clock is [`KILL_AFTER`]: a page
//! open takes about a second (a fraction of one on an idle machine), so a
//! healthy run is 60× inside it; a run that exceeds it is killed and the
//! test fails saying so.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use scraper::{ElementRef, Html, Selector};

/// Set (to anything) to make a missing Chromium a test failure.
pub const REQUIRE_ENV: &str = "GCWB_REQUIRE_CHROMIUM";

/// The programs looked for on the PATH, in order.
pub const PROGRAMS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// Chromium is killed (and the test fails) when one page takes longer.
pub const KILL_AFTER: Duration = Duration::from_secs(60);

/// The browser window and so the screenshot: the top 1280×2000 pixels of
/// the page (not the whole page when it is longer).
pub const WINDOW: (u32, u32) = (1280, 2000);

/// Below this [`Page::pixel_variance`] a screenshot counts as blank. An
/// empty page is one colour (variance 0); the word "p99" in Chromium's
/// default font gives 1.7, a 280×180 rectangle of colour about 470.
pub const BLANK_VARIANCE: f64 = 0.1;

/// Where the server serves the page.
const PAGE_PATH: &str = "/page.html";

/// The Chromium found on the PATH.
#[derive(Clone, Debug)]
pub struct Browser {
    pub program: PathBuf,
}

/// The browser for a test, or `None` when the test should skip: no
/// Chromium on the PATH and `GCWB_REQUIRE_CHROMIUM` unset (it says so on
/// stderr). With `GCWB_REQUIRE_CHROMIUM` set a missing Chromium panics.
///
/// `let Some(chromium) = browser::require() else { return };`
pub fn require() -> Option<Browser> {
    let test = thread::current().name().unwrap_or("a browser test").to_owned();
    require_or_skip(Browser::find(), env::var_os(REQUIRE_ENV).is_some(), &test)
}

/// [`require`]'s decision, given what was found and whether it is required.
pub fn require_or_skip(found: Option<Browser>, required: bool, test: &str) -> Option<Browser> {
    if found.is_none() {
        let programs = PROGRAMS.join(", ");
        assert!(!required, "{test}: {REQUIRE_ENV} is set but none of {programs} is on the PATH");
        eprintln!(
            "skipped {test}: no chromium (none of {programs} is on the PATH; set {REQUIRE_ENV}=1 to fail instead)"
        );
    }
    found
}

impl Browser {
    /// The first of [`PROGRAMS`] that is an executable file on the PATH.
    pub fn find() -> Option<Browser> {
        let path = env::var_os("PATH")?;
        PROGRAMS.iter().find_map(|name| {
            env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| is_executable(p))
                .map(|program| Browser { program })
        })
    }

    /// Opens the HTML file with the network off; see the module doc.
    /// Panics, with Chromium's stderr, when Chromium fails or runs over
    /// [`KILL_AFTER`].
    pub fn open(&self, html: &Path) -> Page {
        let bytes = fs::read(html).unwrap_or_else(|e| panic!("reading {}: {e}", html.display()));
        self.open_bytes(bytes)
    }

    /// [`Browser::open`] for a page given as text.
    pub fn open_html(&self, html: &str) -> Page {
        self.open_bytes(html.as_bytes().to_vec())
    }

    fn open_bytes(&self, page: Vec<u8>) -> Page {
        let scratch = tempfile::tempdir().expect("a temporary directory for Chromium");
        let server = TrapServer::start(page);
        let proxy = format!("http://127.0.0.1:{}", server.port);
        let url = format!("{proxy}{PAGE_PATH}");
        let screenshot_path = scratch.path().join("screenshot.png");
        let stdout_path = scratch.path().join("dom.html");
        let stderr_path = scratch.path().join("stderr.txt");
        let net_log_path = scratch.path().join("net-log.json");
        let profile = scratch.path().join("profile");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            // Every request goes to the test's server, loopback included
            // (`<-loopback>` removes the implicit loopback bypass).
            format!("--proxy-server={proxy}"),
            "--proxy-bypass-list=<-loopback>".to_owned(),
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp".to_owned(),
            // Chromium's own traffic: as little as flags make it (see the
            // module doc: what remains does not count).
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--metrics-recording-only".to_owned(),
            "--disable-default-apps".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-features=NetworkTimeServiceQuerying,PreconnectToSearch,AimEnabled".to_owned(),
            format!("--log-net-log={}", net_log_path.display()),
            // Scripts run to completion in virtual time.
            "--virtual-time-budget=5000".to_owned(),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            "--force-device-scale-factor=1".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--screenshot={}", screenshot_path.display()),
            "--dump-dom".to_owned(),
            url.clone(),
        ];
        let started = Instant::now();
        let status = self.run(&args, &stdout_path, &stderr_path);
        let elapsed = started.elapsed();
        let proxied = server.finish();
        let stderr = readable_stderr(&stderr_path);
        let failed = |what: &str| -> ! {
            panic!("{what}\n  command: {} {}\n  stderr:\n{stderr}", self.program.display(), args.join(" "))
        };
        match status {
            None => failed(&format!("Chromium ran over {KILL_AFTER:?} and was killed")),
            Some(s) if !s.success() => failed(&format!("Chromium failed ({s}) after {elapsed:?}")),
            Some(_) => {}
        }
        if proxied.page_served == 0 {
            failed("Chromium never asked the test's server for the page");
        }
        let net_log =
            fs::read_to_string(&net_log_path).unwrap_or_else(|e| failed(&format!("reading the net log: {e}")));
        let requests = page_requests(&net_log, &proxy, &url).unwrap_or_else(|e| failed(&e));
        let dom = fs::read_to_string(&stdout_path).unwrap_or_else(|e| failed(&format!("reading the DOM: {e}")));
        let screenshot = match image::open(&screenshot_path) {
            Ok(png) => png.to_rgb8(),
            Err(e) => failed(&format!("reading the screenshot {}: {e}", screenshot_path.display())),
        };
        let document = Html::parse_document(&dom);
        Page { dom, requests, proxied: proxied.refused, screenshot, document }
    }

    /// Runs Chromium in a process group of its own; `None` when it ran over
    /// [`KILL_AFTER`] and the group was killed.
    fn run(&self, args: &[String], stdout: &Path, stderr: &Path) -> Option<ExitStatus> {
        let create = |p: &Path| fs::File::create(p).unwrap_or_else(|e| panic!("creating {}: {e}", p.display()));
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(create(stdout))
            .stderr(create(stderr))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.program.display()));
        let pid = child.id() as libc::pid_t;
        let (exited, wait) = mpsc::channel();
        let waiter = thread::spawn(move || {
            let _ = exited.send(child.wait().expect("waiting for Chromium"));
        });
        let status = match wait.recv_timeout(KILL_AFTER) {
            Ok(status) => Some(status),
            Err(_) => {
                // SAFETY: kill(2) touches no memory of ours. The group is
                // Chromium's own (process_group(0) made its pid the group
                // id), and its leader is not yet reaped — the waiter has
                // not returned — so the id cannot have been reused.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                wait.recv().expect("Chromium's waiter");
                None
            }
        };
        waiter.join().expect("Chromium's waiter");
        status
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The requests the page made, from Chromium's net log: the URL requests
/// the page's origin initiated or whose network isolation key's top-frame
/// site is the page's site, but the navigation to the page itself and the
/// automatic favicon fetch (see the module doc).
pub fn page_requests(net_log: &str, origin: &str, page_url: &str) -> Result<Vec<String>, String> {
    let log: serde_json::Value =
        serde_json::from_str(net_log).map_err(|e| format!("Chromium's net log is not JSON: {e}"))?;
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .ok_or("the net log names no URL_REQUEST_START_JOB event")?;
    let events = log["events"].as_array().ok_or("the net log has no events")?;
    // "http://127.0.0.1:PORT" → the site "http://127.0.0.1".
    let site = origin.rsplit_once(':').map_or(origin, |(site, _port)| site);
    let mut requests = BTreeSet::new();
    for params in events.iter().filter(|e| e["type"].as_u64() == Some(start_job)).map(|e| &e["params"]) {
        // A job's end event has no url.
        let (Some(url), Some(method)) = (params["url"].as_str(), params["method"].as_str()) else { continue };
        let initiator = params["initiator"].as_str().unwrap_or("");
        let top_frame_site = params["network_isolation_key"].as_str().unwrap_or("").split(' ').next().unwrap_or("");
        let navigation = url == page_url && initiator != origin;
        let automatic_icon = url.strip_prefix(origin) == Some("/favicon.ico");
        if (initiator == origin || top_frame_site == site) && !navigation && !automatic_icon {
            requests.insert(format!("{method} {url}"));
        }
    }
    Ok(requests.into_iter().collect())
}

/// Chromium's stderr without the lines every headless run prints on a
/// machine without D-Bus (and the Debian wrapper's harmless shell warning).
fn readable_stderr(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> =
        text.lines().filter(|l| !l.contains(":ERROR:dbus/") && !l.contains("unexpected operator")).collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    tail.iter().map(|l| format!("    {l}\n")).collect()
}

/// A page as Chromium rendered it.
pub struct Page {
    /// The DOM serialized after the page's scripts ran (`--dump-dom`).
    pub dom: String,
    /// Every request the page attempted, as `"METHOD URL"` (e.g.
    /// `"GET https://cdn.example.net/lib.js"`), sorted, each once; empty for
    /// a self-contained page. See the module doc.
    pub requests: Vec<String>,
    /// Everything that reached the test's proxy but the page, as `"METHOD
    /// TARGET"` (e.g. `"CONNECT cdn.example.net:443"`), sorted: the page's
    /// requests and Chromium's own, which vary with timers — for reading
    /// when a test fails, not for asserting on.
    pub proxied: Vec<String>,
    /// The top [`WINDOW`] of the page.
    pub screenshot: image::RgbImage,
    document: Html,
}

impl Page {
    /// The parsed DOM, for queries the helpers below do not cover.
    pub fn document(&self) -> &Html {
        &self.document
    }

    /// The elements matching a CSS selector, in document order.
    pub fn select(&self, css: &str) -> Vec<ElementRef<'_>> {
        self.document.select(&selector(css)).collect()
    }

    /// How many elements match.
    pub fn count(&self, css: &str) -> usize {
        self.select(css).len()
    }

    /// The text of each matching element, whitespace collapsed and trimmed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).iter().map(text_of).collect()
    }

    /// The text of the one element matching; panics unless exactly one does.
    pub fn text(&self, css: &str) -> String {
        match self.texts(css).as_slice() {
            [one] => one.clone(),
            all => panic!("{css:?} matches {} elements, not one: {all:?}", all.len()),
        }
    }

    /// The attribute's value on each matching element that has it.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.select(css).iter().filter_map(|e| e.attr(name)).map(str::to_owned).collect()
    }

    /// The one table matching, as rows of cell texts (`th` and `td`, header
    /// rows included); panics unless exactly one element matches.
    pub fn table(&self, css: &str) -> Vec<Vec<String>> {
        let tables = self.select(css);
        let [table] = tables.as_slice() else { panic!("{css:?} matches {} elements, not one table", tables.len()) };
        table
            .select(&selector("tr"))
            .map(|row| {
                row.child_elements().filter(|c| matches!(c.value().name(), "th" | "td")).map(|c| text_of(&c)).collect()
            })
            .collect()
    }

    /// The screenshot's colour variance: the variance of each of R, G and B
    /// over all pixels, averaged. 0 for a page of one colour.
    pub fn pixel_variance(&self) -> f64 {
        let n = f64::from(self.screenshot.width()) * f64::from(self.screenshot.height());
        let mut sum = [0f64; 3];
        let mut squares = [0f64; 3];
        for pixel in self.screenshot.pixels() {
            for (c, &v) in pixel.0.iter().enumerate() {
                sum[c] += f64::from(v);
                squares[c] += f64::from(v) * f64::from(v);
            }
        }
        (0..3).map(|c| squares[c] / n - (sum[c] / n).powi(2)).sum::<f64>() / 3.0
    }

    /// Is the screenshot (nearly) one colour? See [`BLANK_VARIANCE`].
    pub fn is_blank(&self) -> bool {
        self.pixel_variance() < BLANK_VARIANCE
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad CSS selector {css:?}: {e}"))
}

fn text_of(element: &ElementRef<'_>) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The test's HTTP server and proxy: serves the page, refuses and logs
/// everything else.
struct TrapServer {
    port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<RequestLog>,
    acceptor: JoinHandle<()>,
}

#[derive(Default)]
struct RequestLog {
    page_served: AtomicUsize,
    refused: Mutex<Vec<String>>,
}

/// What reached the server, once Chromium is gone.
struct Proxied {
    page_served: usize,
    refused: Vec<String>,
}

impl TrapServer {
    fn start(page: Vec<u8>) -> TrapServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the test's HTTP server");
        let port = listener.local_addr().expect("its address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(RequestLog::default());
        let page = Arc::new(page);
        let acceptor = {
            let (stop, log) = (stop.clone(), log.clone());
            thread::spawn(move || {
                let mut connections = Vec::new();
                let mut serve_next = |stream: TcpStream| {
                    let (log, page) = (log.clone(), page.clone());
                    connections.push(thread::spawn(move || serve(stream, port, &page, &log)));
                };
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((stream, _)) = listener.accept() {
                        serve_next(stream);
                    }
                }
                // Chromium is gone: serve what it left in the queue.
                listener.set_nonblocking(true).expect("a non-blocking listener");
                while let Ok((stream, _)) = listener.accept() {
                    stream.set_nonblocking(false).expect("a blocking connection");
                    serve_next(stream);
                }
                for c in connections {
                    c.join().expect("a connection of the test's HTTP server");
                }
            })
        };
        TrapServer { port, stop, log, acceptor }
    }

    /// Serves what is left and waits for every connection to end. Call once
    /// Chromium has exited: every connection it made has been accepted or
    /// is in the accept queue, and each ends with the request Chromium sent
    /// on it or at its end. (The connection made here only wakes the
    /// acceptor; it sends nothing and is served as nothing.)
    fn finish(self) -> Proxied {
        self.stop.store(true, Ordering::SeqCst);
        drop(TcpStream::connect(("127.0.0.1", self.port)));
        self.acceptor.join().expect("the test's HTTP server");
        let mut refused = std::mem::take(&mut *self.log.refused.lock().unwrap());
        refused.sort();
        Proxied { page_served: self.log.page_served.load(Ordering::SeqCst), refused }
    }
}

/// One connection: one request (every answer closes the connection).
fn serve(mut stream: TcpStream, port: u16, page: &[u8], log: &RequestLog) {
    // A guard only: the peer's exit ends every read (see `finish`).
    let _ = stream.set_read_timeout(Some(KILL_AFTER));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 << 10 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if head.is_empty() {
        return; // a connection opened ahead of need and never used
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let page_url = format!("http://127.0.0.1:{port}{PAGE_PATH}");
    let response = if method == "GET" && (target == PAGE_PATH || target == page_url) {
        log.page_served.fetch_add(1, Ordering::SeqCst);
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            page.len()
        );
        [header.as_bytes(), page].concat()
    } else {
        // Recorded before it is answered: a request Chromium saw refused is
        // in the log.
        log.refused.lock().unwrap().push(format!("{method} {target}"));
        let status = if method == "CONNECT" { "403 Forbidden" } else { "404 Not Found" };
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let _ = stream.write_all(&response);
    let _ = stream.shutdown(Shutdown::Write);
    // Drain what else the peer sends (a request body) until it closes, so
    // closing does not reset the connection before it read the answer.
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}
