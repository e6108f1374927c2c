//! The report: one static, self-contained HTML page (inline CSS and SVG, no
//! scripts, nothing fetched) with, per proposition, its text, criteria,
//! window, current positions, contradictions, credence chart and, once
//! resolved, its scores; then the leaderboard and the calibration table.
//!
//! Headings are fixed for browser tests: `<h1>onrecord report</h1>`,
//! `<h2 id="prop-{id}">` per proposition, `<h2 id="leaderboard">` and
//! `<h2 id="calibration">`. The page is also well-formed XML. Pure: builds a
//! string from the values handed in; no I/O.

use std::fmt::Write;

use onrecord_projections::{CalibrationRow, PartyTotals};
// What the report shows is a read model of `onrecord-projections`; the
// renderer takes it under this crate's names too.
pub use onrecord_projections::report::{PropositionSection, ReportInput};

use crate::chart::percent;
use crate::{credence_chart_svg, escape};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}\
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1.05rem;margin-bottom:.3rem}\
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
.caption,.meta{color:#59636e}.status.happened{color:#1a7f37}.status.did-not-happen{color:#b42318}\
figure{margin:.5rem 0;overflow-x:auto}blockquote{margin:0;font-style:italic}code{font-size:.9em}nav ul{padding-left:1.2rem}";

/// A score with four decimals.
fn score(x: f64) -> String {
    format!("{x:.4}")
}

/// The page as a complete HTML document.
pub fn report_html(input: &ReportInput) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(
        h,
        "<title>onrecord report</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    );
    h.push_str("<h1>onrecord report</h1>\n");
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
        proposition_section(&mut h, s);
    }
    leaderboard(&mut h, &input.leaderboard);
    calibration(&mut h, &input.calibration);
    h.push_str("</body>\n</html>\n");
    h
}

fn proposition_section(h: &mut String, s: &PropositionSection) {
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
        h.push_str("<table class=\"positions\">\n<thead><tr><th>Party</th><th>Stance</th><th class=\"num\">Credence</th><th>Said</th><th>Speaker</th><th>Quote</th></tr></thead>\n<tbody>\n");
        for pos in &s.positions {
            let _ = writeln!(
                h,
                "<tr data-party=\"{0}\"><td>{0}</td><td>{1}</td><td class=\"num\">{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
                escape(pos.party.as_str()),
                pos.stance,
                pos.credence.map_or("\u{2014}".into(), percent),
                pos.said_at,
                escape(pos.speaker.as_str()),
                pos.quote.as_deref().map_or(String::new(), |q| format!(
                    "<blockquote>{}</blockquote>",
                    escape(q)
                )),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }

    h.push_str("<h3>Contradictions</h3>\n");
    if s.contradictions.is_empty() {
        h.push_str("<p class=\"none\">None.</p>\n");
    } else {
        h.push_str("<ul class=\"contradictions\">\n");
        for c in &s.contradictions {
            let _ = writeln!(
                h,
                "<li>{} and {}: {:.1} points apart</li>",
                escape(c.parties.0.as_str()),
                escape(c.parties.1.as_str()),
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
                    "<tr data-party=\"{}\"><td>{0}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escape(ps.party.as_str()),
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
    h.push_str("</section>\n");
}

fn leaderboard(h: &mut String, totals: &[PartyTotals]) {
    h.push_str("<section class=\"leaderboard\">\n<h2 id=\"leaderboard\">Leaderboard</h2>\n");
    h.push_str("<p class=\"meta\">Lower Brier is better (0 is perfect); log scores closer to 0 are better. Ranked by mean daily Brier.</p>\n");
    if totals.is_empty() {
        h.push_str("<p class=\"none\">No resolved propositions yet.</p>\n");
    } else {
        h.push_str("<table class=\"leaderboard\">\n<thead><tr><th class=\"num\">Rank</th><th>Party</th><th class=\"num\">Propositions</th><th class=\"num\">Mean daily Brier</th><th class=\"num\">Mean final Brier</th><th class=\"num\">Mean final log</th></tr></thead>\n<tbody>\n");
        for (i, t) in totals.iter().enumerate() {
            let _ = writeln!(
                h,
                "<tr data-party=\"{1}\"><td class=\"num\">{0}</td><td>{1}</td><td class=\"num\">{2}</td><td class=\"num\">{3}</td><td class=\"num\">{4}</td><td class=\"num\">{5}</td></tr>",
                i + 1,
                escape(t.party.as_str()),
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
        for banned in [
            "<script", "src=", "<link", "@import", "url(", "http://", "https://",
        ] {
            let hits: Vec<_> = html.match_indices(banned).collect();
            // The SVG namespace is a name, not a fetch.
            let allowed = usize::from(banned == "http://") * html.matches("<svg").count();
            assert_eq!(hits.len(), allowed, "{banned}");
        }
        let doc = parse(&html);
        let hrefs: Vec<_> = doc
            .descendants()
            .filter_map(|n| n.attribute("href"))
            .collect();
        assert!(hrefs.iter().all(|h| h.starts_with('#')), "{hrefs:?}");
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
        assert_eq!(tables, ["positions", "scores"]);
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
                    "kremlin",
                    "almost-certain",
                    "97 %",
                    "2018-11-06",
                    "peskov",
                    "They will certainly meet"
                ],
                [
                    "macron",
                    "declined",
                    "\u{2014}",
                    "2018-11-07",
                    "macron",
                    "No comment"
                ],
                [
                    "trump",
                    "unlikely",
                    "32.5 %",
                    "2018-11-05",
                    "trump",
                    "probably not"
                ],
            ]
        );
        assert_eq!(
            rows("scores"),
            [
                ["kremlin", "97 %", "0.0009", "0.0781", "-0.0305", "2"],
                ["trump", "32.5 %", "0.4556", "0.2162", "-1.1239", "2"],
            ]
        );
        let status = section
            .descendants()
            .find(|n| n.attribute("class") == Some("status happened"))
            .unwrap();
        assert_eq!(text_of(status), "Resolved: happened on 2018-11-11");
        let contradiction: Vec<_> = section
            .descendants()
            .filter(|n| n.has_tag_name("li"))
            .map(text_of)
            .collect();
        assert_eq!(contradiction, ["kremlin and trump: 64.5 points apart"]);
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
                ["1", "kremlin", "1", "0.0781", "0.0009", "-0.0305"],
                ["2", "trump", "1", "0.2162", "0.4556", "-1.1239"],
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
}
