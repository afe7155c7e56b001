//! HTML text made safely. Everything the report shows that comes from the
//! result files — collector names, folder and file names, commands,
//! settings — is text, and goes through [`escape`]: as element content and
//! as attribute values alike (`&`, `<`, `>`, `"` and `'` become entities,
//! so a value cannot end its attribute or open a tag). [`Html`] is a small
//! builder that escapes what it is given and closes every element it
//! opens; the markup gcwb makes itself (the stylesheet, the sorting script,
//! the charts' SVG) goes in through [`Html::trusted`], the one way to add
//! unescaped text.

/// `s` with `&`, `<`, `>`, `"` and `'` replaced by entities: safe as an
/// element's text and as a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute name gcwb chose: lowercase letters, digits and `-`.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An HTML document being written.
#[derive(Default)]
pub struct Html {
    out: String,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        debug_assert!(is_attribute_name(tag), "tag {tag}");
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            debug_assert!(is_attribute_name(name), "attribute {name}");
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// `<tag attrs>`, what `body` writes, `</tag>`.
    pub fn el(&mut self, tag: &str, attrs: &[(&str, &str)], body: impl FnOnce(&mut Html)) -> &mut Html {
        self.open(tag, attrs);
        body(self);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag attrs>text</tag>`.
    pub fn leaf(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) -> &mut Html {
        self.el(tag, attrs, |h| {
            h.text(text);
        })
    }

    /// An element without content or end tag (`<meta …>`, `<br>`).
    pub fn void(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Html {
        self.open(tag, attrs);
        self
    }

    /// `s`, escaped.
    pub fn text(&mut self, s: &str) -> &mut Html {
        self.out.push_str(&escape(s));
        self
    }

    /// Markup gcwb made itself, as it is: never text from a result file.
    pub fn trusted(&mut self, markup: &str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// A line break between elements, to keep the source readable.
    pub fn newline(&mut self) -> &mut Html {
        self.out.push('\n');
        self
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_cannot_break_out() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let mut h = Html::new();
        h.el("p", &[("data-collector", r#""><script>"#)], |h| {
            h.text("</p><b>");
        });
        assert_eq!(h.into_string(), r#"<p data-collector="&quot;&gt;&lt;script&gt;">&lt;/p&gt;&lt;b&gt;</p>"#);
    }

    #[test]
    fn elements_nest_and_close() {
        let mut h = Html::new();
        h.el("tr", &[], |h| {
            h.leaf("td", &[("class", "num")], "1");
            h.void("br", &[]);
        });
        assert_eq!(h.into_string(), r#"<tr><td class="num">1</td><br></tr>"#);
    }
}
