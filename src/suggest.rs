//! "Did you mean" suggestions by edit distance: optimal string alignment
//! (Levenshtein plus adjacent transpositions as one edit, so `imgae` is one
//! edit from `image` and `ndoe` from `node`), from the strsim crate.

/// The candidate closest to `word`, when it is close enough to be a likely typo:
/// an edit distance of at most a third of the word's length (at least one).
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    let word = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = distance(&word, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, c)| (distance, candidate) < (d, c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance of two words as [`did_you_mean`] measures it (optimal
/// string alignment, by characters).
pub fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transposition_is_one_edit() {
        assert_eq!(did_you_mean("imgae", ["image", "images", "ingress"]), Some("image"));
        assert_eq!(did_you_mean("ndoe", ["node", "network", "namespace"]), Some("node"));
        assert_eq!(did_you_mean("ingerss", ["ingress"]), Some("ingress"));
    }

    #[test]
    fn suggests_close_words_only() {
        let names = ["network", "node", "namespace"];
        assert_eq!(did_you_mean("netwrk", names), Some("network"));
        assert_eq!(did_you_mean("nod", names), Some("node"));
        assert_eq!(did_you_mean("zebra", names), None);
    }
}
