//! The credence chart: each party's credence on one proposition over time as a
//! step line (x: dates, y: 0-100 %), a marker per counted statement with its
//! words as a tooltip, the 45-55 % even-chance band shaded, and the
//! resolution as a labelled vertical line, written as plain SVG.
//!
//! The SVG is written by hand rather than through a plotting crate: the
//! report and its browser tests rely on exact classes, `data-party`
//! attributes and `<title>` children, and a hand-written chart keeps them
//! stable with no dependencies. Pure: builds a string, touches nothing else.

use std::fmt::Write;

use onrecord_core::{Outcome, When};
// What a chart shows is a read model of `onrecord-projections`; the renderer
// takes it under this crate's names too.
pub use onrecord_projections::chart::{ChartInput, ChartPoint, ChartResolution, PartySeries};

use crate::escape;

const DAY: i64 = 86_400_000_000;
const WIDTH: f64 = 720.0;
const PLOT_HEIGHT: f64 = 240.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 28.0;
const AXIS: f64 = 36.0;
const LEGEND_ROW: f64 = 20.0;
const LEGEND_COLUMNS: usize = 4;

/// Distinct colours for the first parties (Okabe-Ito, readable with colour-blindness).
const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

/// The colour of the `i`th party: the palette first, then well-spread hues.
fn colour(i: usize) -> String {
    match PALETTE.get(i) {
        Some(c) => (*c).to_owned(),
        None => format!("hsl({:.0}, 70%, 38%)", (i as f64 * 137.508) % 360.0),
    }
}

/// How to write a credence as a percentage: at most one decimal, none when whole.
pub(crate) fn percent(credence: f64) -> String {
    let p = (credence * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// Maps times and credences to the plot area.
struct Scale {
    from: i64,
    span: f64,
    plot_width: f64,
}

impl Scale {
    fn x(&self, micros: i64) -> f64 {
        let t = ((micros - self.from) as f64 / self.span).clamp(0.0, 1.0);
        LEFT + t * self.plot_width
    }

    fn y(credence: f64) -> f64 {
        TOP + (1.0 - credence.clamp(0.0, 1.0)) * PLOT_HEIGHT
    }
}

/// The tick spacing in days: the smallest of a few calendar-ish steps giving at most eight ticks.
fn tick_step(span_days: i64) -> i64 {
    [1, 2, 7, 14, 28, 56, 91, 182, 365, 730]
        .into_iter()
        .find(|s| span_days / s <= 8)
        .unwrap_or(span_days.max(1) / 8 + 1)
}

/// The chart as a standalone SVG document (also fit to inline into HTML).
///
/// Classes a reader or test can rely on: `party-line` (one `<path>` per party,
/// with `data-party`), `statement` (one `<circle>` per point, with
/// `data-party` and a `<title>` giving speaker, date, credence and quote),
/// `even-chance` (the shaded band), `resolution` and `resolution-label`, and
/// `legend` (with one `legend-item` per party).
pub fn credence_chart_svg(input: &ChartInput) -> String {
    let from = input.from.micros();
    let to = input.to.micros().max(from + 1);
    let scale = Scale {
        from,
        span: (to - from) as f64,
        plot_width: WIDTH - LEFT - RIGHT,
    };
    let legend_rows = input.parties.len().div_ceil(LEGEND_COLUMNS).max(1);
    let height = TOP + PLOT_HEIGHT + AXIS + legend_rows as f64 * LEGEND_ROW + 8.0;
    let bottom = TOP + PLOT_HEIGHT;
    let right = WIDTH - RIGHT;
    let id = escape(input.proposition.as_str());

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="credence-chart" data-proposition="{id}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="chart-{id}-title" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<title id="chart-{id}-title">{}</title>"#,
        escape(&input.text)
    );

    // Plot background, the even-chance band and the horizontal grid.
    let _ = write!(
        s,
        r##"<rect class="plot" x="{LEFT}" y="{TOP}" width="{:.1}" height="{PLOT_HEIGHT}" fill="#ffffff" stroke="#cccccc"/>"##,
        scale.plot_width
    );
    let (band_top, band_bottom) = (Scale::y(0.55), Scale::y(0.45));
    let _ = write!(
        s,
        r##"<rect class="even-chance" x="{LEFT}" y="{band_top:.1}" width="{:.1}" height="{:.1}" fill="#888888" fill-opacity="0.18"><title>even chance (45-55 %)</title></rect>"##,
        scale.plot_width,
        band_bottom - band_top
    );
    let _ = write!(
        s,
        r##"<text class="even-chance-label" x="{:.1}" y="{:.1}" text-anchor="end" fill="#666666" font-size="9">even chance</text>"##,
        right - 4.0,
        band_top - 3.0
    );
    s.push_str(r#"<g class="y-axis">"#);
    for pct in [0, 25, 50, 75, 100] {
        let y = Scale::y(f64::from(pct) / 100.0);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{pct} %</text>"##,
            LEFT - 6.0,
            y + 4.0
        );
    }
    s.push_str("</g>");

    // Date ticks at UTC midnights.
    s.push_str(r#"<g class="x-axis">"#);
    let first_day = from.div_euclid(DAY) + i64::from(from.rem_euclid(DAY) != 0);
    let step = tick_step((to - from) / DAY);
    let mut day = first_day;
    while day * DAY <= to {
        let x = scale.x(day * DAY);
        let label = When::from_parts(day * DAY, onrecord_core::Precision::Day).to_string();
        // Keep the last label inside the picture.
        let anchor = if x + 32.0 > WIDTH { "end" } else { "middle" };
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444444"/><text x="{x:.1}" y="{:.1}" text-anchor="{anchor}" fill="#444444">{label}</text>"##,
            bottom + 4.0,
            bottom + 16.0
        );
        day += step;
    }
    s.push_str("</g>");

    // The resolution, under the lines so they stay readable.
    if let Some(r) = input.resolution {
        let x = scale.x(r.resolved_at.micros());
        let (label, stroke) = match r.outcome {
            Outcome::Happened => ("happened", "#1a7f37"),
            Outcome::DidNotHappen => ("did not happen", "#b42318"),
        };
        let _ = write!(
            s,
            r#"<line class="resolution" data-outcome="{}" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom:.1}" stroke="{stroke}" stroke-width="2" stroke-dasharray="6 3"/>"#,
            r.outcome.name()
        );
        let _ = write!(
            s,
            r#"<text class="resolution-label" x="{:.1}" y="{:.1}" text-anchor="end" fill="{stroke}">{label} {}</text>"#,
            x - 4.0,
            TOP - 8.0,
            r.resolved_at
        );
    }

    // One step line per party, then every marker on top of all lines.
    let line_end = |last: i64| match input.resolution {
        Some(r) => r.resolved_at.micros().max(last),
        None => to.max(last),
    };
    for (i, series) in input.parties.iter().enumerate() {
        let mut points = series.points.iter();
        let Some(first) = points.next() else {
            continue;
        };
        let mut d = format!(
            "M{:.1} {:.1}",
            scale.x(first.said_at.micros()),
            Scale::y(first.credence)
        );
        let mut last = first.said_at.micros();
        for p in points {
            let _ = write!(
                d,
                " H{:.1} V{:.1}",
                scale.x(p.said_at.micros()),
                Scale::y(p.credence)
            );
            last = p.said_at.micros();
        }
        let _ = write!(d, " H{:.1}", scale.x(line_end(last)));
        let _ = write!(
            s,
            r#"<path class="party-line" data-party="{}" d="{d}" fill="none" stroke="{}" stroke-width="2" stroke-opacity="0.9"/>"#,
            escape(series.party.as_str()),
            colour(i)
        );
    }
    for (i, series) in input.parties.iter().enumerate() {
        let party = escape(series.party.as_str());
        let c = colour(i);
        for p in &series.points {
            let speaker = if p.speaker == series.party {
                escape(p.speaker.as_str())
            } else {
                format!("{} for {party}", escape(p.speaker.as_str()))
            };
            let quote = p
                .quote
                .as_deref()
                .map(|q| format!(": \u{201c}{}\u{201d}", escape(q)))
                .unwrap_or_default();
            let _ = write!(
                s,
                r##"<circle class="statement" data-party="{party}" cx="{:.1}" cy="{:.1}" r="4" fill="{c}" stroke="#ffffff"><title>{speaker}, {}, {}{quote}</title></circle>"##,
                scale.x(p.said_at.micros()),
                Scale::y(p.credence),
                p.said_at,
                percent(p.credence)
            );
        }
    }
    if input.parties.iter().all(|p| p.points.is_empty()) {
        let _ = write!(
            s,
            r##"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle" fill="#666666">no counted statements</text>"##,
            LEFT + scale.plot_width / 2.0,
            TOP + PLOT_HEIGHT / 2.0
        );
    }

    // The legend, in rows under the axis.
    s.push_str(r#"<g class="legend">"#);
    let column = scale.plot_width / LEGEND_COLUMNS as f64;
    for (i, series) in input.parties.iter().enumerate() {
        let x = LEFT + (i % LEGEND_COLUMNS) as f64 * column;
        let y = bottom + AXIS + (i / LEGEND_COLUMNS) as f64 * LEGEND_ROW;
        let party = escape(series.party.as_str());
        let _ = write!(
            s,
            r##"<g class="legend-item" data-party="{party}"><line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="3"/><text x="{:.1}" y="{:.1}" fill="#222222">{party}</text></g>"##,
            x + 18.0,
            colour(i),
            x + 24.0,
            y + 4.0
        );
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"))
    }

    fn with_class<'a>(
        doc: &'a roxmltree::Document<'a>,
        tag: &str,
        class: &str,
    ) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class))
            .collect()
    }

    #[test]
    fn one_line_per_party_and_one_marker_per_counted_statement() {
        let f = fixture::paris();
        let svg = credence_chart_svg(&f.chart("paris-meeting"));
        let doc = parse(&svg);
        let lines: Vec<_> = with_class(&doc, "path", "party-line")
            .iter()
            .map(|n| n.attribute("data-party").unwrap().to_owned())
            .collect();
        // The retracted and the declined statement are not drawn.
        assert_eq!(lines, ["kremlin", "trump"]);
        let markers = with_class(&doc, "circle", "statement");
        assert_eq!(markers.len(), 4);
        let per_party = |p: &str| {
            markers
                .iter()
                .filter(|n| n.attribute("data-party") == Some(p))
                .count()
        };
        assert_eq!((per_party("kremlin"), per_party("trump")), (2, 2));
        let colours: Vec<_> = with_class(&doc, "path", "party-line")
            .iter()
            .map(|n| n.attribute("stroke").unwrap())
            .collect();
        assert_ne!(colours[0], colours[1]);
        assert_eq!(with_class(&doc, "g", "legend-item").len(), 2);
        assert_eq!(with_class(&doc, "rect", "even-chance").len(), 1);
    }

    #[test]
    fn a_marker_title_names_speaker_date_and_quote() {
        let f = fixture::paris();
        let svg = credence_chart_svg(&f.chart("paris-meeting"));
        let doc = parse(&svg);
        let titles: Vec<_> = with_class(&doc, "circle", "statement")
            .iter()
            .map(|n| n.first_element_child().unwrap().text().unwrap().to_owned())
            .collect();
        assert!(
            titles.contains(
                &"peskov for kremlin, 2018-11-06, 97 %: \u{201c}They will certainly meet\u{201d}"
                    .to_owned()
            ),
            "{titles:?}"
        );
        assert!(
            titles.contains(&"trump, 2018-11-05, 32.5 %: \u{201c}probably not\u{201d}".to_owned())
        );
    }

    #[test]
    fn the_resolution_is_a_labelled_vertical_line() {
        let f = fixture::paris();
        let doc_text = credence_chart_svg(&f.chart("paris-meeting"));
        let doc = parse(&doc_text);
        let line = &with_class(&doc, "line", "resolution")[0];
        assert_eq!(line.attribute("x1"), line.attribute("x2"));
        assert_eq!(line.attribute("data-outcome"), Some("happened"));
        let label = &with_class(&doc, "text", "resolution-label")[0];
        assert_eq!(label.text(), Some("happened 2018-11-11"));
        // Lines run to the resolution and no further.
        let x = line.attribute("x1").unwrap();
        for path in with_class(&doc, "path", "party-line") {
            assert!(path.attribute("d").unwrap().ends_with(&format!("H{x}")));
        }
    }

    #[test]
    fn quotes_and_ids_are_escaped() {
        let input = ChartInput {
            proposition: "p".parse().unwrap(),
            text: "Will <they> & \"we\" meet?".into(),
            parties: vec![PartySeries {
                party: "trump".parse().unwrap(),
                points: vec![ChartPoint {
                    said_at: "2018-11-05".parse().unwrap(),
                    credence: 0.325,
                    speaker: "trump".parse().unwrap(),
                    quote: Some(r#"</title><script>alert("x")</script> & <b>"#.into()),
                }],
            }],
            resolution: None,
            from: "2018-11-01".parse().unwrap(),
            to: "2018-11-10".parse().unwrap(),
        };
        let svg = credence_chart_svg(&input);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)"));
        let doc = parse(&svg);
        let title = with_class(&doc, "circle", "statement")[0]
            .first_element_child()
            .unwrap()
            .text()
            .unwrap()
            .to_owned();
        assert!(
            title.contains(r#"</title><script>alert("x")</script> & <b>"#),
            "{title}"
        );
        assert_eq!(
            doc.root_element().first_element_child().unwrap().text(),
            Some("Will <they> & \"we\" meet?")
        );
        // Unresolved: the line runs to the axis end.
        assert!(with_class(&doc, "line", "resolution").is_empty());
    }

    #[test]
    fn a_chart_with_no_statements_still_parses() {
        let input = ChartInput {
            proposition: "p".parse().unwrap(),
            text: "Nothing said".into(),
            parties: vec![],
            resolution: None,
            from: "2018-11-01".parse().unwrap(),
            to: "2018-11-01".parse().unwrap(),
        };
        let svg = credence_chart_svg(&input);
        let doc = parse(&svg);
        assert!(with_class(&doc, "path", "party-line").is_empty());
        assert_eq!(with_class(&doc, "text", "empty").len(), 1);
    }

    #[test]
    fn many_parties_get_distinct_colours() {
        let colours: std::collections::HashSet<_> = (0..20).map(colour).collect();
        assert_eq!(colours.len(), 20);
    }

    #[test]
    fn the_default_range_spans_statements_window_and_resolution() {
        let f = fixture::paris();
        let chart = f.chart("paris-meeting");
        assert_eq!(
            (chart.from.to_string(), chart.to.to_string()),
            ("2018-10-22".into(), "2018-11-14".into())
        );
        assert_eq!(percent(0.675), "67.5 %");
        assert_eq!(percent(0.97), "97 %");
    }
}
