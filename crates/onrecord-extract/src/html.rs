//! The article text of an HTML page, through a real HTML parser
//! (`scraper`, on html5ever): entities decoded, comments dropped, and
//! without what the markup says is not the article.
//!
//! The article is the first `<article>`, else `<main>` or `role="main"`,
//! else `<body>`. Inside it, these are skipped: scripts, styles and other
//! non-text elements; `<nav>`, `<aside>`, `<footer>`, `<figcaption>`,
//! `<form>`, and `<header>` outside an `<article>`; elements whose `role` is
//! navigation, complementary, contentinfo, banner, search or dialog; and
//! elements whose `id` or `class` names comments (`comments`, `comment-list`).
//! Block elements become paragraphs separated by blank lines, so the
//! extractor sees the article's paragraphs. The tree is walked without
//! recursion, so deeply nested markup cannot overflow the stack.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

/// Why a page gave no article text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlError {
    /// Nothing but navigation, scripts, captions or comments: no article body.
    #[error(
        "no article body found in the HTML (no text outside navigation, scripts, captions and comments)"
    )]
    NoArticleBody,
}

const SKIPPED: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "footer",
    "figcaption",
    "form",
    "button",
    "iframe",
    "svg",
    "select",
    "textarea",
    "object",
    "embed",
    "canvas",
    "head",
    "title",
    "meta",
    "link",
    "dialog",
    "menu",
];

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "section",
    "article",
    "header",
    "main",
    "tr",
    "table",
    "dd",
    "dt",
    "dl",
    "pre",
    "figure",
    "hr",
    "br",
    "address",
    "details",
    "summary",
];

const SKIPPED_ROLES: &[&str] = &[
    "navigation",
    "complementary",
    "contentinfo",
    "banner",
    "search",
    "dialog",
    "alert",
];

/// Whether an element is not part of the article, by what its markup says.
fn skipped(el: &scraper::node::Element, in_article: bool) -> bool {
    let name = el.name();
    if SKIPPED.contains(&name) || (name == "header" && !in_article) {
        return true;
    }
    if el
        .attr("role")
        .is_some_and(|r| SKIPPED_ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
    {
        return true;
    }
    let names_comments = |v: &str| {
        v.split(|c: char| c.is_whitespace()).any(|token| {
            let t = token.to_ascii_lowercase();
            t == "comments"
                || t == "comment"
                || t.starts_with("comments-")
                || t.starts_with("comment-")
                || t.ends_with("-comments")
                || t == "disqus_thread"
        })
    };
    el.attr("id").is_some_and(names_comments) || el.attr("class").is_some_and(names_comments)
}

/// The article text of `html`, paragraphs separated by blank lines.
pub fn article_text(html: &str) -> Result<String, HtmlError> {
    let doc = Html::parse_document(html);
    let pick = |css: &str| {
        Selector::parse(css)
            .ok()
            .and_then(|sel| doc.select(&sel).next())
    };
    let (root, in_article) = match pick("article") {
        Some(a) => (a, true),
        None => match pick("main").or_else(|| pick("[role=main]")) {
            Some(m) => (m, false),
            None => match pick("body") {
                Some(b) => (b, false),
                None => return Err(HtmlError::NoArticleBody),
            },
        },
    };
    let text = text_of(root, in_article);
    if text.trim().is_empty() {
        return Err(HtmlError::NoArticleBody);
    }
    Ok(text)
}

fn text_of(root: ElementRef<'_>, in_article: bool) -> String {
    let mut out = String::new();
    let mut skip_depth = 0usize;
    let mut pending_space = false;
    let paragraph_break = |out: &mut String| {
        let trimmed = out.trim_end_matches([' ', '\n']).len();
        out.truncate(trimmed);
        if !out.is_empty() {
            out.push_str("\n\n");
        }
    };
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if skip_depth > 0 || skipped(el, in_article) {
                        skip_depth += 1;
                    } else if BLOCKS.contains(&el.name()) {
                        paragraph_break(&mut out);
                        pending_space = false;
                    }
                }
                Node::Text(t) if skip_depth == 0 => {
                    let mut first = true;
                    for word in t.split(|c: char| c.is_whitespace() && c != '\u{a0}') {
                        if !first {
                            pending_space = true;
                        }
                        first = false;
                        if word.is_empty() {
                            continue;
                        }
                        if pending_space && !out.is_empty() && !out.ends_with(['\n', ' ']) {
                            out.push(' ');
                        }
                        out.push_str(&word.replace('\u{a0}', " "));
                        pending_space = false;
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    if skip_depth > 0 {
                        skip_depth -= 1;
                    } else if BLOCKS.contains(&el.name()) {
                        paragraph_break(&mut out);
                        pending_space = false;
                    }
                }
            }
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_text_keeps_paragraphs_decodes_entities_and_drops_what_is_not_article() {
        let html = r#"<html><head><title>T</title><script>var x = "“no”";</script></head>
<body><nav><a>Home</a> “Menu,” said Nav.</nav>
<article><header><h1>Peskov: &lsquo;They will meet&rsquo;</h1></header>
<p>&ldquo;They will certainly meet,&rdquo; said <b>Peskov</b>.</p>
<figure><img src="x"><figcaption>“Caption,” said Photo.</figcaption></figure>
<!-- “a comment,” said HTML -->
<p>Trump&#8217;s   aide   spoke.</p>
<aside>“Related,” said Aside.</aside>
<section id="comments"><p>“First!” said Reader.</p></section>
</article><footer>“Footer,” said Foot.</footer></body></html>"#;
        assert_eq!(
            article_text(html).unwrap(),
            "Peskov: ‘They will meet’\n\n“They will certainly meet,” said Peskov.\n\nTrump’s aide spoke."
        );
    }

    #[test]
    fn a_page_with_only_navigation_and_scripts_has_no_article_body() {
        let html = "<html><body><nav>Home | News</nav><script>x()</script><footer>(c)</footer></body></html>";
        assert_eq!(article_text(html), Err(HtmlError::NoArticleBody));
        assert_eq!(article_text(""), Err(HtmlError::NoArticleBody));
    }
}
