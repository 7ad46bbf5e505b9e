//! Remembered builds: a rebuild whose inputs did not change skips compiling.
//!
//! A build reads its description only through a [`Host`]. [`Recording`] wraps
//! the host and notes every question the compiler asks of it (the text of a
//! file, whether a path is a folder, the `.kdl` files below a folder) with a
//! digest of the answer. A build that succeeds leaves a [`Memo`]: those
//! questions and answers, the sha256 of the `homelab.lock` it made and what it
//! printed, saved by the command line under a key that names everything else
//! the tree depends on (the compiler binary, the component library, the paths,
//! the options). The next build under that key asks the questions again
//! ([`Memo::holds`]): when every answer is the same, compiling would make the
//! same tree, and only DIR is left to check ([`crate::output::holds`]).
//!
//! **Architecture Invariant:** the compiler reads nothing but its [`Host`],
//! the library and the options (see ARCHITECTURE.md). A new way of reading
//! the description must go through `Host`, or a memo would outlive a change.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::host::Host;

/// One question the compiler asked of its host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Question {
    /// The text of a file.
    Read(String),
    /// Whether a path is a folder.
    IsDir(String),
    /// The `.kdl` files below a folder.
    KdlFilesBelow(String),
}

impl Question {
    /// Asks `host` again: the digest of its answer now.
    pub fn ask(&self, host: &dyn Host) -> String {
        match self {
            Question::Read(path) => read_digest(&host.read(path)),
            Question::IsDir(path) => host.is_dir(path).to_string(),
            Question::KdlFilesBelow(dir) => list_digest(&host.kdl_files_below(dir)),
        }
    }
}

/// The digest of a file's text, or of the kind of error reading it gave.
fn read_digest(answer: &io::Result<String>) -> String {
    match answer {
        Ok(text) => crate::output::sha256_hex(text.as_bytes()),
        Err(error) => format!("error: {:?}", error.kind()),
    }
}

/// The digest of a list of paths, or of the kind of error listing gave.
fn list_digest(answer: &io::Result<Vec<String>>) -> String {
    match answer {
        Ok(paths) => crate::output::sha256_hex(paths.join("\n").as_bytes()),
        Err(error) => format!("error: {:?}", error.kind()),
    }
}

/// A host that notes what is asked of the host it wraps (or, made with
/// [`Recording::off`], only passes the questions on).
pub struct Recording<'a> {
    inner: &'a dyn Host,
    asked: Option<Mutex<Vec<(Question, String)>>>,
}

impl<'a> Recording<'a> {
    /// Records the questions asked of `inner`.
    pub fn new(inner: &'a dyn Host) -> Recording<'a> {
        Recording { inner, asked: Some(Mutex::new(Vec::new())) }
    }

    /// Asks `inner` and records nothing (no digest is computed): a run that
    /// keeps no memo.
    pub fn off(inner: &'a dyn Host) -> Recording<'a> {
        Recording { inner, asked: None }
    }

    /// Every question asked, once, with its answer, sorted; `None` when one
    /// question was answered twice differently (a file changed during the
    /// build), which no memo may remember, or when nothing was recorded.
    pub fn asked(self) -> Option<Vec<(Question, String)>> {
        let mut asked = self.asked?.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        asked.sort();
        asked.dedup();
        asked.windows(2).all(|pair| pair[0].0 != pair[1].0).then_some(asked)
    }

    /// Records a question and the digest of its answer, when recording.
    fn note(&self, asked: impl FnOnce() -> (Question, String)) {
        if let Some(log) = &self.asked {
            let entry = asked();
            log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(entry);
        }
    }
}

impl Host for Recording<'_> {
    fn read(&self, path: &str) -> io::Result<String> {
        let answer = self.inner.read(path);
        self.note(|| (Question::Read(path.to_string()), read_digest(&answer)));
        answer
    }

    fn is_dir(&self, path: &str) -> bool {
        let answer = self.inner.is_dir(path);
        self.note(|| (Question::IsDir(path.to_string()), answer.to_string()));
        answer
    }

    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>> {
        let answer = self.inner.kdl_files_below(dir);
        self.note(|| (Question::KdlFilesBelow(dir.to_string()), list_digest(&answer)));
        answer
    }
}

/// What a successful build remembers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memo {
    /// The key it was saved under, in full (the file holding it is named by
    /// the key's hash: a memo found under another key is not used).
    pub key: String,
    /// The questions the build asked of its host, with their answers.
    pub asked: Vec<(Question, String)>,
    /// The diagnostics it printed, as printed.
    pub shown: String,
    /// What it made.
    pub made: Made,
}

/// What a remembered run made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Made {
    /// A tree (`build`).
    Tree {
        /// The output folder the description names, relative to its folder
        /// (used when `--output` is not given).
        output: String,
        /// The hex sha256 of the tree's `homelab.lock`.
        lock: String,
        /// The number of files of the tree.
        files: usize,
    },
    /// A verdict (`check`).
    Verdict {
        /// Whether the check failed.
        failed: bool,
        /// The line it printed after the diagnostics, if any.
        said: Option<String>,
    },
}

impl Memo {
    /// Whether `host` answers every question as it did for the build: then
    /// compiling again would make the same tree. Asked on every core; the
    /// first answer that differs stops the asking (the build compiles, and
    /// reads every file anyway).
    pub fn holds(&self, host: &dyn Host) -> bool {
        let differs = AtomicBool::new(false);
        crate::par::map(&self.asked, |(question, answer)| {
            if differs.load(Ordering::Relaxed) {
                return;
            }
            if question.ask(host) != *answer {
                differs.store(true, Ordering::Relaxed);
            }
        });
        !differs.into_inner()
    }

    /// The memo as saved.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A saved memo, if it is one and was saved under `key`.
    pub fn from_json(text: &str, key: &str) -> Option<Memo> {
        serde_json::from_str::<Memo>(text).ok().filter(|memo| memo.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemHost;

    fn host() -> MemHost {
        let mut host = MemHost::new();
        host.insert("homelab.kdl", "homelab \"lab\"\nimport \"apps/\"\n");
        host.insert("apps/a.kdl", "app \"a\"\n");
        host
    }

    /// What a build of `host` asks: the root, the folder import, its files.
    fn asked(host: &MemHost) -> Vec<(Question, String)> {
        let recording = Recording::new(host);
        let _ = recording.read("homelab.kdl");
        if recording.is_dir("apps") {
            for file in recording.kdl_files_below("apps").unwrap() {
                let _ = recording.read(&file);
            }
        }
        let _ = recording.read("missing.kdl");
        recording.asked().expect("one answer per question")
    }

    fn memo(asked: Vec<(Question, String)>) -> Memo {
        let made = Made::Tree { output: "deploy".into(), lock: "0".into(), files: 1 };
        Memo { key: "k".into(), asked, shown: String::new(), made }
    }

    #[test]
    fn a_memo_holds_while_every_answer_is_the_same() {
        let host = host();
        let memo = memo(asked(&host));
        assert_eq!(memo.asked.len(), 5, "{:?}", memo.asked);
        assert!(memo.asked.contains(&(Question::Read("missing.kdl".into()), "error: NotFound".into())));
        assert!(memo.holds(&host));
    }

    #[test]
    fn a_changed_file_a_new_file_or_a_created_file_breaks_it() {
        let memo = memo(asked(&host()));
        let mut changed = host();
        changed.insert("apps/a.kdl", "app \"b\"\n");
        assert!(!memo.holds(&changed));
        let mut added = host();
        added.insert("apps/b.kdl", "app \"b\"\n");
        assert!(!memo.holds(&added), "a folder import lists its files again");
        let mut created = host();
        created.insert("missing.kdl", "");
        assert!(!memo.holds(&created), "a file that was missing is looked for again");
    }

    #[test]
    fn two_answers_to_one_question_leave_nothing_to_remember() {
        let host = MemHost::new();
        let recording = Recording::new(&host);
        recording.note(|| (Question::Read("a.kdl".into()), "1".into()));
        recording.note(|| (Question::Read("a.kdl".into()), "2".into()));
        assert_eq!(recording.asked(), None);
    }

    #[test]
    fn a_recording_that_is_off_passes_questions_on_and_remembers_nothing() {
        let host = host();
        let recording = Recording::off(&host);
        assert_eq!(recording.read("apps/a.kdl").unwrap(), "app \"a\"\n");
        assert_eq!(recording.asked(), None);
    }

    #[test]
    fn a_memo_is_read_back_only_under_its_key() {
        let memo = memo(asked(&host()));
        let json = memo.to_json();
        assert_eq!(Memo::from_json(&json, "k"), Some(memo));
        assert_eq!(Memo::from_json(&json, "other"), None);
        assert_eq!(Memo::from_json("{", "k"), None);
    }
}
