//! One input, a whole compilation in memory: parse, lower, check, build (the
//! backends, the checks of the output, the layout and the seal), the
//! rendering of every diagnostic, and `fmt` of the root file. Nothing may
//! panic, abort or hang, whatever the bytes.
//!
//! An input is the root file `homelab.kdl`, then any number of other files,
//! each after a line `%%% PATH` (values files, manifests, SOPS and sealed
//! files, imports), so that YAML and imports are fuzzed as well as KDL.

#![no_main]

use homelabc::diag::render::{self, Options};
use homelabc::host::{self, MemHost};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\n%%% ");
    let root = parts.next().unwrap_or_default();
    let mut files = MemHost::new();
    files.insert("homelab.kdl", root);
    for part in parts {
        let (name, body) = part.split_once('\n').unwrap_or((part, ""));
        if let Some(path) = host::normalize(name.trim()).filter(|p| !p.is_empty() && p != "homelab.kdl") {
            files.insert(path, body);
        }
    }
    let built = homelabc::driver::build(&files, "homelab.kdl");
    for format in [render::Format::Human, render::Format::Json] {
        let options = Options { format, ..Options::default() };
        let _ = render::render_all(&built.checked.diagnostics, &built.checked.sources, &options);
    }
    let _ = homelabc::fmt::format(root);
});
