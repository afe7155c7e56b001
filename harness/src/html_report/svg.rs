//! A chart's SVG file ([`crate::charts::render_data`]) made fit to sit
//! inside the HTML page: the root element loses its fixed `width` and
//! `height` (it keeps its `viewBox`, so the stylesheet sizes it to the
//! column and it keeps its shape) and its `xmlns` (the HTML parser puts
//! `<svg>` in the SVG namespace itself, and the page then names no URL at
//! all), and gains `role="img"` and an `aria-label`. Plotters escapes the
//! text it draws (collector names in legends), so the rest is inlined as
//! it is.

use super::html::escape;

/// `svg` (a whole SVG document from plotters) as an inline `<svg>`
/// element labelled `label`.
pub fn inline(svg: &[u8], label: &str) -> String {
    let text = String::from_utf8_lossy(svg);
    let text = match text.find("<svg") {
        Some(at) => &text[at..],
        None => return String::new(),
    };
    let Some(end) = text.find('>') else { return String::new() };
    let (open, rest) = text.split_at(end);
    let mut attrs: Vec<&str> = Vec::new();
    for attr in attributes(&open["<svg".len()..]) {
        let name = attr.split('=').next().unwrap_or("");
        if !matches!(name, "width" | "height" | "xmlns" | "xmlns:xlink") {
            attrs.push(attr);
        }
    }
    format!("<svg {} role=\"img\" aria-label=\"{}\"{}", attrs.join(" "), escape(label), rest.trim_end())
}

/// The `name="value"` attributes of a start tag's inside.
fn attributes(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        // name="value": the value ends at the next quote.
        let Some(eq) = rest.find("=\"") else { break };
        let Some(close) = rest[eq + 2..].find('"') else { break };
        let end = eq + 2 + close + 1;
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_loses_its_size_and_namespace_and_gains_a_label() {
        let svg = br#"<svg width="1200" height="800" viewBox="0 0 1200 800" xmlns="http://www.w3.org/2000/svg">
<text>a &lt; b</text>
</svg>
"#;
        assert_eq!(
            inline(svg, "MMU of <x>"),
            "<svg viewBox=\"0 0 1200 800\" role=\"img\" aria-label=\"MMU of &lt;x&gt;\">\n<text>a &lt; b</text>\n</svg>"
        );
    }
}
