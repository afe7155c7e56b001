//! Tests of the headless-Chromium harness the HTML reports' tests use
//! (support/browser.rs), on small pages written here: the DOM is read after
//! scripts ran, a blank page reads as blank and a drawn one does not, and
//! every request a page attempts — any host, http or https — is caught.

#[path = "support/browser.rs"]
mod browser;

/// A self-contained page: inline style, script and SVG; the script fills
/// in the table, so the DOM read must be the one after scripts ran.
const CLEAN: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>clean</title>
<style>body { font-family: sans-serif; } td { padding: 4px; }</style></head>
<body>
<h1 id="title">before</h1>
<table id="t"><thead><tr><th>collector</th><th>p99_ns</th></tr></thead><tbody></tbody></table>
<svg width="300" height="200" role="img"><rect x="10" y="10" width="280" height="180" fill="#2a6fdb"/></svg>
<script>
document.getElementById('title').textContent = 'after';
const rows = [['mark-sweep', 1200], ['concurrent', 340]];
const body = document.querySelector('#t tbody');
for (const [name, p99] of rows) {
  const tr = document.createElement('tr');
  tr.innerHTML = `<td>${name}</td><td class="num">${p99}</td>`;
  body.appendChild(tr);
}
</script>
</body></html>"##;

/// A page that reaches out in every usual way: an image over http, a
/// script over https, a web font, a fetch, a WebSocket, a relative URL.
const LEAKY: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script src="https://cdn.example.net/lib.js"></script>
<style>
@font-face { font-family: Remote; src: url(http://fonts.example.org/remote.woff2); }
p { font-family: Remote; }
</style></head>
<body>
<p>text in a remote font</p>
<img src="http://images.example.com/a.png">
<img src="local.png">
<script>
fetch('http://api.example.com/data').catch(() => {});
try { new WebSocket('ws://ws.example.com/socket'); } catch (e) {}
</script>
</body></html>"##;

#[test]
fn clean_page_reads_after_its_scripts_and_makes_no_request() {
    let Some(chromium) = browser::require() else { return };
    let page = chromium.open_html(CLEAN);
    assert_eq!(page.requests, Vec::<String>::new());
    assert_eq!(page.text("#title"), "after");
    assert_eq!(page.count("#t tbody tr"), 2);
    assert_eq!(page.texts("#t td.num"), ["1200", "340"]);
    assert_eq!(page.table("#t"), [["collector", "p99_ns"], ["mark-sweep", "1200"], ["concurrent", "340"]]);
    assert_eq!(page.attrs("svg rect", "fill"), ["#2a6fdb"]);
    assert!(page.dom.contains("<td>concurrent</td>"), "{}", page.dom);
    assert_eq!(page.screenshot.dimensions(), browser::WINDOW);
}

#[test]
fn open_reads_the_file() {
    let Some(chromium) = browser::require() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    std::fs::write(&path, CLEAN).unwrap();
    let page = chromium.open(&path);
    assert_eq!(page.text("#title"), "after");
    assert_eq!(page.requests, Vec::<String>::new());
}

#[test]
fn blank_page_is_blank_and_a_drawn_one_is_not() {
    let Some(chromium) = browser::require() else { return };
    let blank =
        chromium.open_html(r#"<!doctype html><html><head><link rel="icon" href="data:,"></head><body></body></html>"#);
    assert_eq!(blank.pixel_variance(), 0.0);
    assert!(blank.is_blank());
    // The blue rectangle covers 280×180 of 1280×2000 pixels: about 2% of
    // the screenshot, far from white in red and green.
    let drawn = chromium.open_html(CLEAN);
    assert!(drawn.pixel_variance() > 100.0, "variance {}", drawn.pixel_variance());
    assert!(!drawn.is_blank());
    // Nor is a word of text (variance 1.7 here).
    let line = chromium
        .open_html(r#"<!doctype html><html><head><link rel="icon" href="data:,"></head><body>p99</body></html>"#);
    assert!(!line.is_blank(), "variance {}", line.pixel_variance());
}

#[test]
fn every_outside_request_is_caught() {
    let Some(chromium) = browser::require() else { return };
    let page = chromium.open_html(LEAKY);
    let origin = page
        .requests
        .iter()
        .find_map(|r| Some(r.strip_prefix("GET ")?.strip_suffix("/local.png")?.to_owned()))
        .unwrap_or_else(|| panic!("no request for local.png: {:?}", page.requests));
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    // Sorted, as `requests` is: "http://1…" before "http://a…".
    assert_eq!(
        page.requests,
        [
            format!("GET {origin}/local.png"),
            "GET http://api.example.com/data".to_owned(),
            "GET http://fonts.example.org/remote.woff2".to_owned(),
            "GET http://images.example.com/a.png".to_owned(),
            "GET https://cdn.example.net/lib.js".to_owned(),
            "GET ws://ws.example.com/socket".to_owned(),
        ]
    );
    // Each reached the test's proxy and went no further.
    for proxied in [
        "CONNECT cdn.example.net:443".to_owned(),
        "CONNECT ws.example.com:80".to_owned(),
        "GET http://api.example.com/data".to_owned(),
        "GET http://fonts.example.org/remote.woff2".to_owned(),
        "GET http://images.example.com/a.png".to_owned(),
        format!("GET {origin}/local.png"),
    ] {
        assert!(page.proxied.contains(&proxied), "{proxied} not in {:?}", page.proxied);
    }
    // The page itself still loaded and ran.
    assert_eq!(page.count("img"), 2);
}

/// Which net-log requests are the page's, on a made-up log of what
/// Chromium writes: its own traffic (no initiator, no or another site), the
/// navigation, the automatic icon fetch, and the page's own requests —
/// including those of a cross-site frame inside it.
#[test]
fn the_page_requests_are_told_from_chromiums_own() {
    let origin = "http://127.0.0.1:4000";
    let page_url = "http://127.0.0.1:4000/page.html";
    let start = |method: &str, url: &str, initiator: &str, key: &str| {
        format!(
            r#"{{"type": 7, "source": {{"id": 1, "type": 2}}, "params": {{"method": "{method}", "url": "{url}", "initiator": "{initiator}", "network_isolation_key": "{key}"}}}}"#
        )
    };
    let events = [
        start("GET", "http://clients2.google.com/time/1/current", "not an origin", "null null"),
        start("POST", "https://accounts.google.com/ListAccounts", "not an origin", "https://google.com https://google.com"),
        start("GET", page_url, "not an origin", "http://127.0.0.1 http://127.0.0.1"),
        start("GET", "http://127.0.0.1:4000/favicon.ico", origin, "http://127.0.0.1 http://127.0.0.1"),
        start("GET", "https://cdn.example.net/lib.js", origin, "http://127.0.0.1 http://127.0.0.1"),
        start("GET", "https://cdn.example.net/lib.js", origin, "http://127.0.0.1 http://127.0.0.1"),
        start("GET", "https://ads.example.org/pixel.gif", "https://frame.example.com", "http://127.0.0.1 https://example.com"),
        start("GET", "http://127.0.0.1:4000/page.html", origin, "http://127.0.0.1 http://127.0.0.1"),
        // A job's end event: no params.
        r#"{"type": 7, "source": {"id": 1, "type": 2}, "phase": 2}"#.to_owned(),
        // Another event type with a url.
        r#"{"type": 8, "source": {"id": 1, "type": 2}, "params": {"method": "GET", "url": "http://elsewhere.example/", "initiator": "http://127.0.0.1:4000"}}"#.to_owned(),
    ];
    let log = format!(
        r#"{{"constants": {{"logEventTypes": {{"URL_REQUEST_START_JOB": 7, "HTTP_STREAM_JOB": 8}}}}, "events": [{}]}}"#,
        events.join(",")
    );
    assert_eq!(
        browser::page_requests(&log, origin, page_url).unwrap(),
        [
            "GET http://127.0.0.1:4000/page.html", // asked for by the page itself
            "GET https://ads.example.org/pixel.gif",
            "GET https://cdn.example.net/lib.js",
        ]
    );
    assert!(browser::page_requests("{\"events\": [", origin, page_url).unwrap_err().contains("not JSON"));
}

#[test]
fn a_page_without_an_icon_link_makes_no_request() {
    let Some(chromium) = browser::require() else { return };
    let page = chromium.open_html("<!doctype html><html><body><p>no icon link</p></body></html>");
    assert_eq!(page.requests, Vec::<String>::new());
}

#[test]
#[should_panic(expected = "GCWB_REQUIRE_CHROMIUM is set but none of chromium")]
fn a_missing_chromium_fails_when_required() {
    browser::require_or_skip(None, true, "this test");
}

#[test]
fn a_missing_chromium_skips_when_not_required() {
    assert!(browser::require_or_skip(None, false, "this test").is_none());
}

/// A browser that fails: the panic says so, with the command and the
/// browser's stderr (here /bin/sh's complaint about Chromium's flags).
#[test]
fn a_failing_browser_fails_the_test_saying_so() {
    let not_chromium = browser::Browser { program: "/bin/sh".into() };
    let Err(failure) = std::panic::catch_unwind(|| not_chromium.open_html(CLEAN)) else {
        panic!("/bin/sh rendered a page")
    };
    let message = failure.downcast_ref::<String>().expect("a formatted panic message");
    assert!(message.starts_with("Chromium failed (exit status: "), "{message}");
    assert!(message.contains("--dump-dom http://127.0.0.1:"), "{message}");
    assert!(message.contains("option"), "{message}");
}
