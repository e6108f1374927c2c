//! The report: one static, self-contained HTML page (inline CSS and SVG, no
//! scripts, nothing fetched) with, per proposition, its text, criteria,
//! window, current positions (party names, qualifiers, each position's
//! source), retractions, contradictions, credence chart, once resolved its
//! scores, and its full statement history in a collapsed `<details>`; then
//! the leaderboard and the calibration table. The same body is what the
//! server's web page shows ([`report_body_html`], styled by [`REPORT_STYLE`]).
//!
//! Headings are fixed for browser tests: `<h1>onrecord report</h1>`,
//! `<h2 id="prop-{id}">` per proposition, `<h2 id="leaderboard">` and
//! `<h2 id="calibration">`. The page is also well-formed XML. Every text is
//! escaped; a source becomes a link only when it is an `http` or `https` URL
//! (any other scheme, `javascript:` included, stays text). Pure: builds a
//! string from the values handed in; no I/O.

use std::fmt::Write;

use onrecord_projections::{CalibrationRow, HistoryEntry, PartyTotals};
// What the report shows is a read model of `onrecord-projections`; the
// renderer takes it under this crate's names too.
pub use onrecord_projections::report::{PropositionSection, ReportInput};

use crate::chart::percent;
use crate::{credence_chart_svg, escape};

/// The report's stylesheet: inlined by [`report_html`], served by the web page.
pub const REPORT_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}\
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1.05rem;margin-bottom:.3rem}\
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
.caption,.meta{color:#59636e}.status.happened{color:#1a7f37}.status.did-not-happen{color:#b42318}\
figure{margin:.5rem 0;overflow-x:auto}blockquote{margin:0;font-style:italic}code{font-size:.9em}nav ul{padding-left:1.2rem}\
code.id{color:#59636e}a.source,span.source{word-break:break-all}\
.qualifier{display:inline-block;background:#fff8c5;border:1px solid #d4a72c;border-radius:.6em;padding:0 .45em;margin:0 .2em .1em 0;font-size:.85em}\
tr.retracted td{color:#59636e;text-decoration:line-through}tr.retracted td.state{text-decoration:none}ul.retractions li{color:#59636e}\
details.history{margin:.4rem 0 1rem}details.history summary{cursor:pointer;color:#0969da}";

/// A score with four decimals.
fn score(x: f64) -> String {
    format!("{x:.4}")
}

/// The page as a complete HTML document.
pub fn report_html(input: &ReportInput) -> String {
    report_page(&report_body_html(input))
}

/// The self-contained page around a report's body (from [`report_body_html`],
/// here or on a server): what `onrecord report` writes as `index.html`.
pub fn report_page(body: &str) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(
        h,
        "<title>onrecord report</title>\n<style>{REPORT_STYLE}</style>\n</head>\n<body>"
    );
    h.push_str(body);
    h.push_str("</body>\n</html>\n");
    h
}

/// What the page's `<body>` holds: the title, the caption, the table of
/// contents, one section per proposition, the leaderboard and calibration.
/// A well-formed fragment (one `<main class="report">` element).
pub fn report_body_html(input: &ReportInput) -> String {
    let mut h = String::new();
    h.push_str("<main class=\"report\">\n<h1>onrecord report</h1>\n");
    if let Some(c) = &input.caption {
        let _ = writeln!(h, "<p class=\"caption\">{}</p>", escape(c));
    }

    h.push_str("<nav><ul>\n");
    for s in &input.propositions {
        let id = escape(s.proposition.id.as_str());
        let _ = writeln!(
            h,
            "<li><a href=\"#prop-{id}\">{}</a> <code>{id}</code></li>",
            escape(&s.proposition.text)
        );
    }
    h.push_str("<li><a href=\"#leaderboard\">Leaderboard</a></li>\n<li><a href=\"#calibration\">Calibration</a></li>\n</ul></nav>\n");

    for s in &input.propositions {
        proposition_section(&mut h, input, s);
    }
    leaderboard(&mut h, input, &input.leaderboard);
    calibration(&mut h, &input.calibration);
    h.push_str("</main>\n");
    h
}

/// A party as shown: its display name, then its id when the name differs.
fn party_html(input: &ReportInput, party: &onrecord_core::PartyId) -> String {
    let name = input.party_name(party);
    if name == party.as_str() {
        format!("<span class=\"name\">{}</span>", escape(name))
    } else {
        format!(
            "<span class=\"name\">{}</span> <code class=\"id\">{}</code>",
            escape(name),
            escape(party.as_str())
        )
    }
}

/// Whether `url` is an `http` or `https` URL (scheme in any case, something after it).
pub fn is_web_url(url: &str) -> bool {
    let bytes = url.as_bytes();
    ["http://", "https://"].iter().any(|scheme| {
        bytes.len() > scheme.len() && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
    }) && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A source as markup: when its first word is an `http` or `https` URL that
/// word becomes a link (and the rest, a note, stays text); anything else,
/// `javascript:` and other schemes included, is shown as text.
pub fn source_html(source: &str) -> String {
    let trimmed = source.trim();
    let (first, rest) = match trimmed.find(char::is_whitespace) {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, ""),
    };
    if is_web_url(first) {
        let url = escape(first);
        format!(
            "<a class=\"source\" href=\"{url}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">{url}</a>{}",
            escape(rest)
        )
    } else {
        format!("<span class=\"source\">{}</span>", escape(trimmed))
    }
}

/// Qualifiers as markup, one `<span class="qualifier">` each.
fn qualifiers_html(qualifiers: &[String]) -> String {
    qualifiers
        .iter()
        .map(|q| format!("<span class=\"qualifier\">{}</span>", escape(q)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A quote as markup (empty when there is none).
fn quote_html(quote: Option<&str>) -> String {
    quote.map_or(String::new(), |q| {
        format!("<blockquote>{}</blockquote>", escape(q))
    })
}

fn proposition_section(h: &mut String, input: &ReportInput, s: &PropositionSection) {
    let p = &s.proposition;
    let id = escape(p.id.as_str());
    let _ = writeln!(
        h,
        "<section class=\"proposition\" data-proposition=\"{id}\">"
    );
    let _ = writeln!(h, "<h2 id=\"prop-{id}\">{}</h2>", escape(&p.text));
    let _ = writeln!(h, "<p class=\"meta\">Proposition <code>{id}</code></p>");
    let criteria = p.criteria.as_deref().map_or("none given".into(), escape);
    let _ = writeln!(
        h,
        "<p class=\"criteria\"><strong>Criteria:</strong> {criteria}</p>"
    );
    let window = p
        .window
        .map_or("none given".into(), |w| format!("{} to {}", w.from, w.to));
    let _ = writeln!(
        h,
        "<p class=\"window\"><strong>Window:</strong> {window}</p>"
    );
    let resolution = s
        .scores
        .as_ref()
        .map(|r| (r.outcome, r.resolved_at))
        .or(s.chart.resolution.map(|r| (r.outcome, r.resolved_at)));
    match resolution {
        Some((outcome, at)) => {
            let _ = writeln!(
                h,
                "<p class=\"status {0}\"><strong>Resolved:</strong> {0} on {at}</p>",
                outcome.name()
            );
        }
        None => {
            h.push_str("<p class=\"status open\"><strong>Open:</strong> not resolved yet</p>\n")
        }
    }

    h.push_str("<h3>Current positions</h3>\n");
    if s.positions.is_empty() {
        h.push_str("<p class=\"none\">No statements.</p>\n");
    } else {
        h.push_str("<table class=\"positions\">\n<thead><tr><th>Party</th><th>Stance</th><th class=\"num\">Credence</th><th>Said</th><th>Speaker</th><th>Quote</th><th>Qualifiers</th><th>Source</th></tr></thead>\n<tbody>\n");
        for pos in &s.positions {
            let entry = s.statement(&pos.statement);
            let _ = writeln!(
                h,
                "<tr data-party=\"{}\" data-statement=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(pos.party.as_str()),
                pos.statement,
                party_html(input, &pos.party),
                pos.stance,
                pos.credence.map_or("\u{2014}".into(), percent),
                pos.said_at,
                party_html(input, &pos.speaker),
                quote_html(pos.quote.as_deref()),
                entry.map_or(String::new(), |e| qualifiers_html(&e.qualifiers)),
                entry
                    .and_then(|e| e.source.as_deref())
                    .map_or(String::new(), source_html),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }

    if s.retracted().next().is_some() {
        h.push_str("<h3>Retractions</h3>\n<ul class=\"retractions\">\n");
        for e in s.retracted() {
            let _ = writeln!(
                h,
                "<li data-party=\"{}\" data-seq=\"{}\">{}: {} on {}{}, retracted: {}</li>",
                escape(e.party.as_str()),
                e.seq,
                escape(input.party_name(&e.party)),
                e.stance,
                e.said_at,
                e.quote.as_deref().map_or(String::new(), |q| format!(
                    " (\u{201c}{}\u{201d})",
                    escape(q)
                )),
                e.retraction_reason
                    .as_deref()
                    .map_or("no reason given".into(), escape),
            );
        }
        h.push_str("</ul>\n");
    }

    h.push_str("<h3>Contradictions</h3>\n");
    if s.contradictions.is_empty() {
        h.push_str("<p class=\"none\">None.</p>\n");
    } else {
        h.push_str("<ul class=\"contradictions\">\n");
        for c in &s.contradictions {
            let _ = writeln!(
                h,
                "<li data-parties=\"{} {}\">{} and {}: {:.1} points apart</li>",
                escape(c.parties.0.as_str()),
                escape(c.parties.1.as_str()),
                escape(input.party_name(&c.parties.0)),
                escape(input.party_name(&c.parties.1)),
                c.spread * 100.0
            );
        }
        h.push_str("</ul>\n");
    }

    h.push_str("<h3>Credence over time</h3>\n<figure>\n");
    h.push_str(&credence_chart_svg(&s.chart));
    h.push_str("\n</figure>\n");

    if let Some(scores) = &s.scores {
        h.push_str("<h3>Scores</h3>\n");
        if scores.parties.is_empty() {
            h.push_str("<p class=\"none\">No party spoke before the resolution.</p>\n");
        } else {
            h.push_str("<table class=\"scores\">\n<thead><tr><th>Party</th><th class=\"num\">Final credence</th><th class=\"num\">Final Brier</th><th class=\"num\">Mean daily Brier</th><th class=\"num\">Final log</th><th class=\"num\">Statements</th></tr></thead>\n<tbody>\n");
            for ps in &scores.parties {
                let _ = writeln!(
                    h,
                    "<tr data-party=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escape(ps.party.as_str()),
                    party_html(input, &ps.party),
                    percent(ps.final_credence),
                    score(ps.final_brier),
                    score(ps.mean_daily_brier),
                    score(ps.final_log),
                    ps.statements
                );
            }
            h.push_str("</tbody>\n</table>\n");
        }
    }
    history(h, input, &s.history);
    h.push_str("</section>\n");
}

/// Every statement on a proposition, in said order, in a collapsed `<details>`.
fn history(h: &mut String, input: &ReportInput, entries: &[HistoryEntry]) {
    let retracted = entries.iter().filter(|e| e.retracted).count();
    let noun = if entries.len() == 1 {
        "statement"
    } else {
        "statements"
    };
    let _ = write!(
        h,
        "<details class=\"history\">\n<summary>Statement history: {} {noun}",
        entries.len()
    );
    if retracted > 0 {
        let _ = write!(h, ", {retracted} retracted");
    }
    h.push_str("</summary>\n");
    if entries.is_empty() {
        h.push_str("<p class=\"none\">No statements.</p>\n</details>\n");
        return;
    }
    h.push_str("<table class=\"history\">\n<thead><tr><th>Said</th><th>Party</th><th>Speaker</th><th>Stance</th><th class=\"num\">Credence</th><th>Quote</th><th>Qualifiers</th><th>Source</th><th>Status</th></tr></thead>\n<tbody>\n");
    for e in entries {
        let state = match (e.retracted, e.retraction_reason.as_deref()) {
            (true, Some(reason)) => format!("retracted: {}", escape(reason)),
            (true, None) => "retracted".to_owned(),
            (false, _) => "on record".to_owned(),
        };
        let _ = writeln!(
            h,
            "<tr data-seq=\"{}\" data-party=\"{}\"{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"state\">{state}</td></tr>",
            e.seq,
            escape(e.party.as_str()),
            if e.retracted {
                " class=\"retracted\""
            } else {
                ""
            },
            e.said_at,
            party_html(input, &e.party),
            party_html(input, &e.speaker),
            e.stance,
            e.credence.map_or("\u{2014}".into(), percent),
            quote_html(e.quote.as_deref()),
            qualifiers_html(&e.qualifiers),
            e.source.as_deref().map_or(String::new(), source_html),
        );
    }
    h.push_str("</tbody>\n</table>\n</details>\n");
}

fn leaderboard(h: &mut String, input: &ReportInput, totals: &[PartyTotals]) {
    h.push_str("<section class=\"leaderboard\">\n<h2 id=\"leaderboard\">Leaderboard</h2>\n");
    h.push_str("<p class=\"meta\">Lower Brier is better (0 is perfect); log scores closer to 0 are better. Ranked by mean daily Brier.</p>\n");
    if totals.is_empty() {
        h.push_str("<p class=\"none\">No resolved propositions yet.</p>\n");
    } else {
        h.push_str("<table class=\"leaderboard\">\n<thead><tr><th class=\"num\">Rank</th><th>Party</th><th class=\"num\">Propositions</th><th class=\"num\">Mean daily Brier</th><th class=\"num\">Mean final Brier</th><th class=\"num\">Mean final log</th></tr></thead>\n<tbody>\n");
        for (i, t) in totals.iter().enumerate() {
            let _ = writeln!(
                h,
                "<tr data-party=\"{}\"><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(t.party.as_str()),
                i + 1,
                party_html(input, &t.party),
                t.propositions,
                score(t.mean_daily_brier),
                score(t.mean_final_brier),
                score(t.mean_final_log)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn calibration(h: &mut String, rows: &[CalibrationRow]) {
    h.push_str("<section class=\"calibration\">\n<h2 id=\"calibration\">Calibration</h2>\n");
    h.push_str("<p class=\"meta\">For each band, the share of statements on resolved propositions whose proposition happened; a calibrated speaker's share falls inside the band.</p>\n");
    h.push_str("<table class=\"calibration\">\n<thead><tr><th>Stance</th><th class=\"num\">Band</th><th class=\"num\">Statements</th><th class=\"num\">Happened</th><th class=\"num\">Share</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let _ = writeln!(
            h,
            "<tr data-stance=\"{0}\"><td>{0}</td><td class=\"num\">{1}\u{2013}{2}</td><td class=\"num\">{3}</td><td class=\"num\">{4}</td><td class=\"num\">{5}</td></tr>",
            r.stance,
            percent(r.low),
            percent(r.high),
            r.statements,
            r.happened,
            r.share.map_or("\u{2014}".into(), percent)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn parse(html: &str) -> roxmltree::Document<'_> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        roxmltree::Document::parse_with_options(html, options)
            .unwrap_or_else(|e| panic!("not well-formed: {e}"))
    }

    fn text_of(n: roxmltree::Node<'_, '_>) -> String {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect()
    }

    #[test]
    fn headings_are_predictable() {
        let html = report_html(&fixture::paris().report());
        let doc = parse(&html);
        let h1: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("h1")).collect();
        assert_eq!(h1.len(), 1);
        assert_eq!(text_of(h1[0]), "onrecord report");
        let h2: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("h2"))
            .map(|n| (n.attribute("id").unwrap().to_owned(), text_of(n)))
            .collect();
        assert_eq!(
            h2,
            [
                (
                    "prop-paris-meeting".into(),
                    "Trump and Putin meet in Paris during the Armistice centenary".into()
                ),
                (
                    "prop-g20-meeting".into(),
                    "Trump and Putin meet at the G-20 in Buenos Aires".into()
                ),
                ("leaderboard".into(), "Leaderboard".into()),
                ("calibration".into(), "Calibration".into()),
            ]
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = report_html(&fixture::paris().report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        for banned in ["<script", "src=", "<link", "@import", "url(", "http://"] {
            let hits: Vec<_> = html.match_indices(banned).collect();
            // The SVG namespace is a name, not a fetch.
            let allowed = usize::from(banned == "http://") * html.matches("<svg").count();
            assert_eq!(hits.len(), allowed, "{banned}");
        }
        let doc = parse(&html);
        // Nothing is fetched: the only links out are the sources, to be followed by a reader.
        let outside: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("href").is_some_and(|h| !h.starts_with('#')))
            .map(|n| (n.attribute("class"), n.attribute("href")))
            .collect();
        assert_eq!(
            outside,
            [
                (Some("source"), Some("https://example.org/kremlin?a=1&b=2")),
                (Some("source"), Some("https://example.org/kremlin?a=1&b=2")),
            ]
        );
    }

    #[test]
    fn a_resolved_proposition_shows_positions_contradictions_chart_and_scores() {
        let html = report_html(&fixture::paris().report());
        let doc = parse(&html);
        let section = doc
            .descendants()
            .find(|n| {
                n.attribute("data-proposition") == Some("paris-meeting")
                    && n.has_tag_name("section")
            })
            .unwrap();
        let tables: Vec<_> = section
            .descendants()
            .filter(|n| n.has_tag_name("table"))
            .map(|n| n.attribute("class").unwrap())
            .collect();
        assert_eq!(tables, ["positions", "scores", "history"]);
        let rows = |class: &str| -> Vec<Vec<String>> {
            section
                .descendants()
                .find(|n| n.has_tag_name("table") && n.attribute("class") == Some(class))
                .unwrap()
                .descendants()
                .filter(|n| n.has_tag_name("tr") && n.attribute("data-party").is_some())
                .map(|tr| {
                    tr.children()
                        .filter(|c| c.is_element())
                        .map(text_of)
                        .collect()
                })
                .collect()
        };
        assert_eq!(
            rows("positions"),
            [
                [
                    "The Kremlin kremlin",
                    "almost-certain",
                    "97 %",
                    "2018-11-06",
                    "peskov",
                    "They will certainly meet",
                    "brief",
                    "https://example.org/kremlin?a=1&b=2 (as reported)"
                ],
                [
                    "macron",
                    "declined",
                    "\u{2014}",
                    "2018-11-07",
                    "macron",
                    "No comment",
                    "",
                    ""
                ],
                [
                    "Donald Trump trump",
                    "unlikely",
                    "32.5 %",
                    "2018-11-05",
                    "Donald Trump trump",
                    "probably not",
                    "",
                    "Remarks to reporters, Cleveland"
                ],
            ]
        );
        assert_eq!(
            rows("scores"),
            [
                [
                    "The Kremlin kremlin",
                    "97 %",
                    "0.0009",
                    "0.0781",
                    "-0.0305",
                    "2"
                ],
                [
                    "Donald Trump trump",
                    "32.5 %",
                    "0.4556",
                    "0.2162",
                    "-1.1239",
                    "2"
                ],
            ]
        );
        let status = section
            .descendants()
            .find(|n| n.attribute("class") == Some("status happened"))
            .unwrap();
        assert_eq!(text_of(status), "Resolved: happened on 2018-11-11");
        let items = |class: &str| -> Vec<String> {
            section
                .descendants()
                .filter(|n| n.has_tag_name("ul") && n.attribute("class") == Some(class))
                .flat_map(|ul| ul.children().filter(|c| c.has_tag_name("li")))
                .map(text_of)
                .collect()
        };
        assert_eq!(
            items("contradictions"),
            ["The Kremlin and Donald Trump: 64.5 points apart"]
        );
        assert_eq!(
            items("retractions"),
            [
                "Donald Trump: very-likely on 2018-11-07 (\u{201c}misattributed\u{201d}), retracted: misattributed"
            ]
        );
        assert_eq!(
            section
                .descendants()
                .filter(|n| n.has_tag_name("svg"))
                .count(),
            1
        );
    }

    #[test]
    fn an_open_proposition_has_no_scores_table() {
        let html = report_html(&fixture::paris().report());
        let doc = parse(&html);
        let section = doc
            .descendants()
            .find(|n| {
                n.attribute("data-proposition") == Some("g20-meeting") && n.has_tag_name("section")
            })
            .unwrap();
        assert!(
            section
                .descendants()
                .all(|n| n.attribute("class") != Some("scores"))
        );
        assert!(text_of(section).contains("Open: not resolved yet"));
        assert!(text_of(section).contains("Window: none given"));
    }

    #[test]
    fn leaderboard_and_calibration_tables() {
        let html = report_html(&fixture::paris().report());
        let doc = parse(&html);
        let rows = |class: &str| -> Vec<Vec<String>> {
            doc.descendants()
                .find(|n| n.has_tag_name("table") && n.attribute("class") == Some(class))
                .unwrap()
                .descendants()
                .filter(|n| n.has_tag_name("tr"))
                .skip(1)
                .map(|tr| {
                    tr.children()
                        .filter(|c| c.is_element())
                        .map(text_of)
                        .collect()
                })
                .collect()
        };
        assert_eq!(
            rows("leaderboard"),
            [
                [
                    "1",
                    "The Kremlin kremlin",
                    "1",
                    "0.0781",
                    "0.0009",
                    "-0.0305"
                ],
                [
                    "2",
                    "Donald Trump trump",
                    "1",
                    "0.2162",
                    "0.4556",
                    "-1.1239"
                ],
            ]
        );
        let cal = rows("calibration");
        assert_eq!(cal.len(), 7);
        assert_eq!(cal[4], ["likely", "55 %\u{2013}80 %", "2", "2", "100 %"]);
        assert_eq!(
            cal[0],
            ["almost-no-chance", "1 %\u{2013}5 %", "0", "0", "\u{2014}"]
        );
    }

    #[test]
    fn all_text_is_escaped() {
        let mut input = fixture::paris().report();
        input.caption = Some("<i>caption</i> & co".into());
        let s = &mut input.propositions[0];
        s.proposition.text = "Will <they> meet & \"talk\"?".into();
        s.proposition.criteria = Some("</p><script>x</script>".into());
        s.positions[0].quote = Some("<b>bold</b> & 'single'".into());
        let html = report_html(&input);
        assert!(!html.contains("<script"));
        assert!(!html.contains("<i>") && !html.contains("<b>"));
        let doc = parse(&html);
        let h2 = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("prop-paris-meeting"))
            .unwrap();
        assert_eq!(text_of(h2), "Will <they> meet & \"talk\"?");
        assert!(text_of(doc.root_element()).contains("<b>bold</b> & 'single'"));
    }

    #[test]
    fn each_proposition_has_its_full_history_in_a_collapsed_details() {
        let html = report_html(&fixture::paris().report());
        let doc = parse(&html);
        let details = |prop: &str| {
            doc.descendants()
                .find(|n| n.attribute("data-proposition") == Some(prop))
                .unwrap()
                .descendants()
                .find(|n| n.has_tag_name("details"))
                .unwrap()
        };
        let paris = details("paris-meeting");
        assert_eq!(paris.attribute("class"), Some("history"));
        assert_eq!(paris.attribute("open"), None, "collapsed");
        let summary = paris
            .children()
            .find(|n| n.has_tag_name("summary"))
            .unwrap();
        assert_eq!(
            text_of(summary),
            "Statement history: 6 statements, 1 retracted"
        );
        let rows: Vec<(String, Option<&str>, String)> = paris
            .descendants()
            .filter(|n| n.has_tag_name("tr") && n.attribute("data-seq").is_some())
            .map(|tr| {
                let cells: Vec<String> = tr
                    .children()
                    .filter(|c| c.is_element())
                    .map(text_of)
                    .collect();
                (cells[0].clone(), tr.attribute("class"), cells[8].clone())
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("2018-10-23".to_owned(), None, "on record".to_owned()),
                ("2018-10-23".to_owned(), None, "on record".to_owned()),
                ("2018-11-05".to_owned(), None, "on record".to_owned()),
                ("2018-11-06".to_owned(), None, "on record".to_owned()),
                (
                    "2018-11-07".to_owned(),
                    Some("retracted"),
                    "retracted: misattributed".to_owned()
                ),
                ("2018-11-07".to_owned(), None, "on record".to_owned()),
            ]
        );
        let g20 = details("g20-meeting");
        let summary = g20.children().find(|n| n.has_tag_name("summary")).unwrap();
        assert_eq!(text_of(summary), "Statement history: 2 statements");
    }

    #[test]
    fn only_http_and_https_sources_become_links() {
        for (source, link) in [
            ("https://example.org/a", Some("https://example.org/a")),
            ("HTTP://example.org/b c", Some("HTTP://example.org/b")),
            ("javascript:alert(1)", None),
            ("JavaScript://example.org/%0aalert(1)", None),
            ("data:text/html,<script>x</script>", None),
            ("ftp://example.org/c", None),
            ("//example.org/d", None),
            ("https://", None),
            ("Breitbart, 6 Nov", None),
            (
                "https://example.org/\"onmouseover=\"x",
                Some("https://example.org/\"onmouseover=\"x"),
            ),
        ] {
            let html = format!("<p>{}</p>", source_html(source));
            let doc = parse(&html);
            let a = doc.descendants().find(|n| n.has_tag_name("a"));
            assert_eq!(a.and_then(|a| a.attribute("href")), link, "{source}");
            assert!(a.is_none_or(|a| a.attributes().count() == 4), "{html}");
            assert_eq!(text_of(doc.root_element()), source.trim(), "{source}");
            assert!(!html.contains("<script"), "{html}");
        }
    }

    #[test]
    fn names_qualifiers_sources_and_history_are_escaped() {
        let mut input = fixture::paris().report();
        input.party_names.insert(
            "trump".parse().unwrap(),
            "<img src=x onerror=alert(1)>".into(),
        );
        let s = &mut input.propositions[0];
        for e in &mut s.history {
            e.qualifiers = vec!["<b>q</b>".into()];
            e.source = Some("javascript:alert('x')".into());
            e.retraction_reason = e.retracted.then(|| "<i>why</i>".into());
        }
        let html = report_html(&input);
        assert!(!html.contains("<img") && !html.contains("<b>") && !html.contains("<i>"));
        assert!(!html.contains("href=\"javascript"), "{html}");
        let doc = parse(&html);
        assert!(text_of(doc.root_element()).contains("<img src=x onerror=alert(1)> trump"));
        assert!(text_of(doc.root_element()).contains("retracted: <i>why</i>"));
    }
}
