//! `homelabc lsp` as an editor meets it: a scripted client spawns the
//! binary, speaks JSON-RPC over its stdin and stdout (Content-Length
//! framing) and checks every answer: the capabilities, the diagnostic of a
//! mistake in an imported file (code, range, help) and its clearing once
//! fixed, completion of kinds, properties and a `registry=` value, hover,
//! go to definition across files, formatting, errors for bad requests, and
//! a clean shutdown (exit code 0).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any answer may take (a debug build on a busy machine).
const PATIENCE: Duration = Duration::from_secs(60);

/// A client talking to one `homelabc lsp` process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("homelabc starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, messages, notifications: Vec::new(), next_id: 1 }
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn receive(&mut self) -> Value {
        self.messages.recv_timeout(PATIENCE).expect("the server answers in time")
    }

    /// The next diagnostics published for a file whose URI ends with `file`.
    fn diagnostics_for(&mut self, file: &str) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let is_for = |m: &Value| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"].as_str().is_some_and(|u| u.ends_with(file))
            };
            if let Some(i) = self.notifications.iter().position(is_for) {
                let message = self.notifications.remove(i);
                return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            assert!(Instant::now() < deadline, "no diagnostics for {file}");
            let message = self.receive();
            self.notifications.push(message);
        }
    }
}

/// Reads one framed message; `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn position(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position(line, character) })
}

fn labels(response: &Value) -> Vec<String> {
    let items = response["result"].as_array().cloned().unwrap_or_default();
    items.iter().filter_map(|i| i["label"].as_str().map(str::to_string)).collect()
}

const ROOT: &str = "homelab \"lab\" {
    domain \"lab.example.com\"
}

cluster \"home\" distribution=\"k3s\" version=\"v1.33.6+k3s1\"

registry \"local\" address=\"192.168.1.171:5000\" {
    insecure #true
}

import \"apps/web.kdl\"
";

const WEB: &str = "app \"web\" namespace=\"demo\" {
    image \"me/web\" registry=\"locall\" tag=\"1.0.0\"
    port \"http\" 8080
    resources cpu=\"100m\" memory=\"64Mi\" cpu-limit=\"200m\" memory-limit=\"128Mi\"
}
";

#[test]
fn an_editor_session() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("homelab.kdl"), ROOT).unwrap();
    std::fs::create_dir(root.join("apps")).unwrap();
    std::fs::write(root.join("apps/web.kdl"), WEB).unwrap();
    let web = uri(&root.join("apps/web.kdl"));
    let mut client = Client::start();

    // The handshake, and what the server says it can do.
    let init = client.request("initialize", json!({ "processId": null, "rootUri": uri(&root), "capabilities": {} }));
    let capabilities = &init["result"]["capabilities"];
    assert_eq!(capabilities["hoverProvider"], json!(true), "{init}");
    assert_eq!(capabilities["definitionProvider"], json!(true));
    assert_eq!(capabilities["documentFormattingProvider"], json!(true));
    assert!(capabilities["completionProvider"].is_object());
    assert_eq!(capabilities["textDocumentSync"]["change"], json!(2), "incremental sync");
    assert_eq!(init["result"]["serverInfo"]["name"], "homelabc");
    client.notify("initialized", json!({}));

    // The mistake in the imported file: E0201 at the value, with its help.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": web, "languageId": "kdl", "version": 1, "text": WEB } }),
    );
    let diagnostics = client.diagnostics_for("apps/web.kdl");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["code"], "E0201");
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(diagnostic["source"], "homelabc");
    assert_eq!(diagnostic["range"], json!({ "start": position(1, 28), "end": position(1, 36) }));
    let message = diagnostic["message"].as_str().unwrap();
    assert!(message.starts_with("unknown registry `locall`"), "{message}");
    assert!(message.contains("help: did you mean `local`?"), "{message}");

    // Completion of the `registry=` value: the registries declared in the other file.
    let completion = client.request("textDocument/completion", at(&web, 1, 30));
    assert_eq!(labels(&completion), ["local"], "{completion}");
    let item = &completion["result"][0];
    assert_eq!(item["textEdit"]["newText"], "\"local\"");
    assert_eq!(item["textEdit"]["range"], json!({ "start": position(1, 28), "end": position(1, 36) }));

    // Completion of the properties of `image`, and of declaration kinds at the top level.
    let completion = client.request("textDocument/completion", at(&web, 1, 19));
    let props = labels(&completion);
    for key in ["registry", "tag", "digest"] {
        assert!(props.iter().any(|p| p == key), "{key} missing from {props:?}");
    }
    let completion = client.request("textDocument/completion", at(&web, 5, 0));
    let kinds = labels(&completion);
    for kind in ["app", "network", "secret", "registry", "import", "use"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
    assert!(!kinds.iter().any(|k| k == "image"), "{kinds:?}");
    let completion = client.request("textDocument/completion", at(&web, 2, 4));
    let children = labels(&completion);
    assert!(children.iter().any(|c| c == "ingress") && children.iter().any(|c| c == "env"), "{children:?}");

    // Hover: a declaration kind's docs; a property's type; the code of the diagnostic under the cursor.
    let hover = client.request("textDocument/hover", at(&web, 0, 1));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(text.contains("a workload: image, ports"), "{hover}");
    let hover = client.request("textDocument/hover", at(&web, 1, 40));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(text.contains("`tag=` on `image`"), "{hover}");
    let hover = client.request("textDocument/hover", at(&web, 1, 31));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(text.contains("**E0201** `unknown-reference`"), "{hover}");
    assert!(text.contains("## What it means"), "{hover}");

    // The fix clears the diagnostic; the reference then leads to the registry.
    let fixed = WEB.replace("locall", "local");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": web, "version": 2 },
            "contentChanges": [{ "range": { "start": position(1, 29), "end": position(1, 35) }, "text": "local" }],
        }),
    );
    assert_eq!(client.diagnostics_for("apps/web.kdl"), Vec::<Value>::new());
    let definition = client.request("textDocument/definition", at(&web, 1, 31));
    let locations = definition["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(locations.len(), 1, "{definition}");
    assert_eq!(locations[0]["uri"], uri(&root.join("homelab.kdl")));
    assert_eq!(locations[0]["range"], json!({ "start": position(6, 9), "end": position(6, 16) }));
    // And the import to its file.
    let root_uri = uri(&root.join("homelab.kdl"));
    let definition = client.request("textDocument/definition", at(&root_uri, 10, 10));
    assert_eq!(definition["result"][0]["uri"], web, "{definition}");

    // Formatting: `homelabc fmt`'s layout as one edit over the whole file.
    let messy = fixed.replace("    port", "        port").replace("app \"web\" ", "app  \"web\"  ");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": web, "version": 3 }, "contentChanges": [{ "text": messy }] }),
    );
    let options = json!({ "tabSize": 4, "insertSpaces": true });
    let formatting =
        client.request("textDocument/formatting", json!({ "textDocument": { "uri": web }, "options": options }));
    let edits = formatting["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1, "{formatting}");
    assert_eq!(edits[0]["newText"], fixed.as_str());
    assert_eq!(edits[0]["range"]["start"], position(0, 0));

    // Bad requests are answered with errors, and the server goes on.
    let unknown = client.request("textDocument/rename", at(&web, 0, 0));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let broken = client.request("textDocument/hover", json!({ "textDocument": 7 }));
    assert_eq!(broken["error"]["code"], -32602, "{broken}");
    let elsewhere = client.request("textDocument/hover", at("untitled:Untitled-1", 0, 0));
    assert!(elsewhere["error"].is_object(), "{elsewhere}");
    let past_the_end = client.request("textDocument/completion", at(&web, 999, 999));
    assert!(past_the_end["result"].is_array(), "{past_the_end}");

    // Shutdown, exit, exit code 0.
    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    assert!(shutdown.get("error").is_none_or(Value::is_null), "{shutdown}");
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_an_error() {
    let mut client = Client::start();
    client.request("initialize", json!({ "processId": null, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}
