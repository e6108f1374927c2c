//! Precision and recall of (quote, speaker) pairs on the evaluation corpus in
//! `tests/fixtures/extract/`: each `NAME.txt` article has its expected pairs in
//! `NAME.expected.json`. A found pair counts when its quote and resolved
//! speaker both equal an expected pair's (case, outer punctuation, curly
//! apostrophes and a leading "the"/"a" aside); quotes found without a speaker
//! are not pairs and count for neither figure.
//!
//! Print the figures, the misses and the wrong pairs with
//! `cargo test -p onrecord-extract --test evaluation -- --nocapture`.

use std::path::{Path, PathBuf};

use onrecord_extract::extract;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/extract")
}

fn norm_quote(q: &str) -> String {
    q.replace(['’', '‘'], "'")
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':'))
        .to_lowercase()
}

fn norm_speaker(s: &str) -> String {
    let lower = s.replace('’', "'").to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let words = match words.first() {
        Some(&("the" | "a" | "an")) if words.len() > 1 => &words[1..],
        _ => &words[..],
    };
    words.join(" ")
}

/// Counts for one article or the whole corpus.
#[derive(Default)]
struct Score {
    expected: usize,
    found: usize,
    correct: usize,
}

#[test]
fn the_corpus_is_extracted_with_precision_at_least_0_9_and_recall_at_least_0_8() {
    let mut articles: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    articles.sort();
    assert!(
        articles.len() >= 12,
        "the corpus has {} articles",
        articles.len()
    );
    let mut total = Score::default();
    println!(
        "{:<34} {:>8} {:>6} {:>8}",
        "ARTICLE", "EXPECTED", "FOUND", "CORRECT"
    );
    let mut notes = Vec::new();
    for path in &articles {
        let text = std::fs::read_to_string(path).unwrap();
        let expected_path = path.with_extension("expected.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        let mut expected: Vec<(String, String)> = json["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    norm_quote(s["quote"].as_str().unwrap()),
                    norm_speaker(s["speaker"].as_str().unwrap()),
                )
            })
            .collect();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut score = Score {
            expected: expected.len(),
            ..Score::default()
        };
        for st in extract(&text, None).statements {
            let Some(speaker) = &st.speaker else { continue };
            score.found += 1;
            let pair = (norm_quote(&st.quote), norm_speaker(&speaker.resolved));
            match expected.iter().position(|e| *e == pair) {
                Some(i) => {
                    expected.swap_remove(i);
                    score.correct += 1;
                }
                None => notes.push(format!(
                    "{name}: wrong: “{}” -> {}",
                    st.quote, speaker.resolved
                )),
            }
        }
        for (quote, speaker) in expected {
            notes.push(format!("{name}: missed: “{quote}” -> {speaker}"));
        }
        println!(
            "{:<34} {:>8} {:>6} {:>8}",
            name, score.expected, score.found, score.correct
        );
        total.expected += score.expected;
        total.found += score.found;
        total.correct += score.correct;
    }
    let precision = total.correct as f64 / total.found.max(1) as f64;
    let recall = total.correct as f64 / total.expected.max(1) as f64;
    println!(
        "{:<34} {:>8} {:>6} {:>8}",
        "TOTAL", total.expected, total.found, total.correct
    );
    println!("precision {precision:.3}  recall {recall:.3}");
    for note in &notes {
        println!("{note}");
    }
    assert!(precision >= 0.9, "precision {precision:.3} < 0.9");
    assert!(recall >= 0.8, "recall {recall:.3} < 0.8");
}
