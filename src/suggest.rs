//! "Did you mean" suggestions by edit distance.

/// The candidate closest to `word`, when it is close enough to be a likely typo:
/// an edit distance of at most a third of the word's length (at least one).
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = levenshtein(&word.to_lowercase(), &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, c)| (distance, candidate) < (d, c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A `help:` line suggesting the closest candidate, or listing the choices when
/// there are few.
pub fn help_for(word: &str, candidates: &[&str], what: &str) -> Option<String> {
    if let Some(best) = did_you_mean(word, candidates.iter().copied()) {
        return Some(format!("did you mean `{best}`?"));
    }
    match candidates.len() {
        0 => None,
        1..=12 => {
            let mut sorted = candidates.to_vec();
            sorted.sort_unstable();
            let list = sorted.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            Some(format!("the known {what} are {list}"))
        }
        _ => None,
    }
}

/// Levenshtein distance between two strings, by characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn suggests_close_words_only() {
        let names = ["network", "node", "namespace"];
        assert_eq!(did_you_mean("netwrk", names), Some("network"));
        assert_eq!(did_you_mean("nod", names), Some("node"));
        assert_eq!(did_you_mean("zebra", names), None);
    }
}
