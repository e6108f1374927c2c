//! "Did you mean": finds the known names closest to a mistyped one, so an
//! unknown id can be answered with the ids the user probably meant.

/// The edit distance between two strings (insertions, deletions, substitutions
/// and swaps of adjacent characters each cost 1).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            cur[j] = best;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to three candidates close enough to `wanted` to be what was meant, closest
/// first (ties in the candidates' order). "Close enough": within a third of the
/// longer length (at least 1), or one contains the other.
///
/// Case and surrounding whitespace are ignored (`LIKELY` and `likely ` find
/// `likely`); a candidate exactly equal to `wanted` is not suggested.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let original = wanted;
    let wanted = &wanted.trim().to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != original)
        .filter_map(|c| {
            let d = edit_distance(wanted, &c.to_lowercase());
            let limit = (wanted.chars().count().max(c.chars().count()) / 3).max(1);
            let contains = wanted.len() >= 3 && (c.contains(wanted) || wanted.contains(c));
            (d <= limit || contains).then_some((d, c))
        })
        .collect();
    scored.sort_by_key(|(d, _)| *d);
    // An id may be offered twice (the ledger's, and a line re-sending it).
    let mut found: Vec<&str> = Vec::with_capacity(3);
    for (_, c) in scored {
        if !found.contains(&c) {
            found.push(c);
            if found.len() == 3 {
                break;
            }
        }
    }
    found
}

/// ` (did you mean `a`?)`, ` (did you mean `a` or `b`?)` naming the ids
/// found close (closest first), or empty when there are none: the one
/// wording the CLI and the server use.
pub fn did_you_mean_suffix(found: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = found.iter().map(|c| format!("`{}`", c.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        [init @ .., last] => format!(" (did you mean {} or {last}?)", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_offered_twice_is_suggested_once() {
        let found = closest(
            "g20-meting",
            ["g20-meeting", "paris-meeting", "g20-meeting"],
        );
        assert_eq!(found, ["g20-meeting"]);
    }

    #[test]
    fn distances_count_edits_and_swaps() {
        assert_eq!(edit_distance("kremlin", "kremlin"), 0);
        assert_eq!(edit_distance("kremln", "kremlin"), 1);
        assert_eq!(edit_distance("kermlin", "kremlin"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggests_the_ids_a_user_probably_meant() {
        let ids = ["trump", "bolton", "kremlin", "putin", "peskov"];
        assert_eq!(closest("kremln", ids), vec!["kremlin"]);
        assert_eq!(closest("pesko", ids), vec!["peskov"]);
        assert_eq!(
            closest("paris", ["paris-meeting", "g20-meeting"]),
            vec!["paris-meeting"]
        );
        assert!(closest("merkel", ids).is_empty());
        let stances = ["unlikely", "likely", "very-likely"];
        assert_eq!(closest("LIKELY", stances)[0], "likely");
        assert_eq!(closest("likely ", stances)[0], "likely");
        assert_eq!(closest(" Likely\t", stances)[0], "likely");
    }
}
