//! The page around the sections: the `<head>` (the content security
//! policy that forbids the page any request, the empty favicon, the
//! inline stylesheet), the title block, the table of contents, and the
//! inline sorting script at the end.

use super::html::Html;
use super::sections::Toc;

/// The page's content security policy: nothing may be fetched; inline
/// styles, the inline script and `data:` images only.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("sort.js");

/// The whole document: `title`, a line under it, the contents from `toc`,
/// then `main` (the sections' markup) and a footer.
pub fn page(title: &str, lede: &str, toc: &Toc, main: Html, footer: &str) -> String {
    let mut h = Html::new();
    h.trusted("<!DOCTYPE html>\n");
    h.el("html", &[("lang", "en")], |h| {
        h.el("head", &[], |h| {
            h.void("meta", &[("charset", "utf-8")]);
            h.void("meta", &[("name", "viewport"), ("content", "width=device-width, initial-scale=1")]);
            h.void("meta", &[("http-equiv", "Content-Security-Policy"), ("content", CSP)]);
            h.void("link", &[("rel", "icon"), ("href", "data:,")]);
            h.leaf("title", &[], title);
            h.el("style", &[], |h| {
                h.trusted(STYLE);
            });
        });
        h.newline();
        h.el("body", &[], |h| {
            h.el("header", &[], |h| {
                h.leaf("h1", &[], title);
                h.leaf("p", &[("class", "lede")], lede);
            });
            write_toc(h, toc);
            h.newline();
            h.el("main", &[], |h| {
                h.trusted(&main.into_string());
            });
            h.leaf("footer", &[], footer);
            h.el("script", &[], |h| {
                h.trusted(SCRIPT);
            });
        });
    });
    h.newline();
    h.into_string()
}

/// The contents: a nested list of links, depth 1 the folders (or the
/// combined view), depth 2 their sections.
fn write_toc(h: &mut Html, toc: &Toc) {
    h.el("nav", &[("class", "toc"), ("aria-label", "Contents")], |h| {
        h.leaf("h2", &[], "Contents");
        h.el("ol", &[], |h| {
            let mut i = 0;
            while i < toc.entries.len() {
                let (depth, id, title) = &toc.entries[i];
                let children = toc.entries[i + 1..].iter().take_while(|e| e.0 > *depth).count();
                h.el("li", &[], |h| {
                    h.leaf("a", &[("href", &format!("#{id}"))], title);
                    if children > 0 {
                        h.el("ol", &[], |h| {
                            for (_, id, title) in &toc.entries[i + 1..=i + children] {
                                h.el("li", &[], |h| {
                                    h.leaf("a", &[("href", &format!("#{id}"))], title);
                                });
                            }
                        });
                    }
                });
                i += 1 + children;
            }
        });
    });
}
