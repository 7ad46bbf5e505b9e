//! `homelabc lsp`: a language server over stdio (lsp-server and lsp-types:
//! synchronous, no async runtime, the scaffold rust-analyzer itself runs on).
//!
//! The server keeps the editor's open buffers and checks each description
//! they belong to with the compiler's own pipeline ([`workspace`]), then
//! answers completion, hover, definition and formatting requests from the
//! text at the cursor and the checked model ([`features`]). Diagnostics are
//! published once the changes pause for [`DEBOUNCE`], so a burst of typing is
//! checked once. Nothing a client sends can stop the server but `exit`: a request it
//! cannot read is answered with an error, and a bug while answering one is
//! caught and answered as an internal error.

mod context;
mod features;
mod text;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, DocumentFormattingParams, GotoDefinitionParams,
    GotoDefinitionResponse, HoverParams, HoverProviderCapability, OneOf, PublishDiagnosticsParams, SaveOptions,
    ServerCapabilities, ServerInfo, TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};
use serde::de::DeserializeOwned;

use crate::driver::Checked;
use crate::lower::trace::Trace;
use crate::stdlib::Library;
use text::LineIndex;
use workspace::Root;

/// What the server can do, as `initialize` answers.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
            ..Default::default()
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["=".into(), "\"".into()]),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

/// Serves one client on `connection` until it asks to exit. `examples` are
/// texts of descriptions the shapes of nodes are learned from (the embedded
/// examples) when the file being edited does not show them yet. `Err` when
/// the client broke the protocol (such as `exit` without `shutdown`).
pub fn serve(connection: &Connection, library: &Library, examples: &[&str]) -> Result<(), String> {
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let info = ServerInfo { name: "homelabc".into(), version: Some(crate::driver::COMPILER_VERSION.into()) };
    let result = serde_json::json!({ "capabilities": capabilities, "serverInfo": info });
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;
    let mut session = Session::new(library, examples);
    loop {
        // After a change, wait a moment for the next one: a burst of typing
        // is checked once, when it pauses.
        let received = if session.stale.is_empty() && session.unpublished.is_empty() {
            connection.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            connection.receiver.recv_timeout(DEBOUNCE)
        };
        let message = match received {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                for notification in session.publish() {
                    send(connection, notification.into())?;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the client closed the connection without `exit`".into());
            }
        };
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let response = session.request(request);
                send(connection, response.into())?;
            }
            Message::Notification(notification) if notification.method == "exit" => {
                return Err("the client asked to exit before `shutdown`".into());
            }
            Message::Notification(notification) => session.notify(notification),
            Message::Response(_) => {}
        }
    }
}

/// How long the server waits after a change for the next one before it
/// checks the description and publishes its diagnostics.
const DEBOUNCE: Duration = Duration::from_millis(50);

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection.sender.send(message).map_err(|_| "the client closed the connection".to_string())
}

/// An open document.
struct Document {
    /// Its URI as the client spelled it.
    uri: Uri,
    /// The version the client gave its text.
    version: i32,
}

/// A description checked as the editor shows it.
struct Checkup {
    /// The check.
    checked: Checked,
    /// Its diagnostics, by file.
    diagnostics: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    /// The diagnostics published last, by file.
    published: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
}

/// The server's state: buffers, descriptions and their last check.
struct Session<'a> {
    library: &'a Library,
    /// The shapes the examples show.
    corpus: Vec<Trace>,
    /// The open buffers' texts, by path (what the host reads).
    texts: BTreeMap<PathBuf, String>,
    /// The open documents, by path.
    documents: BTreeMap<PathBuf, Document>,
    /// Every description a document was opened in, with its last check.
    checkups: BTreeMap<Root, Checkup>,
    /// Descriptions whose buffers changed since their last check.
    stale: BTreeSet<Root>,
    /// Descriptions checked since their diagnostics were last published.
    unpublished: BTreeSet<Root>,
}

impl<'a> Session<'a> {
    fn new(library: &'a Library, examples: &[&str]) -> Session<'a> {
        let corpus = examples.iter().filter_map(|text| crate::lower::trace::file(text)).collect();
        Session {
            library,
            corpus,
            texts: BTreeMap::new(),
            documents: BTreeMap::new(),
            checkups: BTreeMap::new(),
            stale: BTreeSet::new(),
            unpublished: BTreeSet::new(),
        }
    }

    /// Handles a notification; one that cannot be read is ignored (LSP has
    /// no way to answer it).
    fn notify(&mut self, notification: Notification) {
        // A bug is reported by the panic hook on standard error (the
        // client's log); the server goes on with the next message.
        let _ = catch_unwind(AssertUnwindSafe(|| self.notify_inner(notification)));
    }

    fn notify_inner(&mut self, notification: Notification) {
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(params) = serde_json::from_value::<DidOpenTextDocumentParams>(notification.params) else {
                    return;
                };
                let document = params.text_document;
                let Some(path) = text::uri_to_path(&document.uri) else { return };
                self.texts.insert(path.clone(), document.text);
                self.documents.insert(path.clone(), Document { uri: document.uri, version: document.version });
                self.touch(&path);
            }
            "textDocument/didChange" => {
                let Ok(params) = serde_json::from_value::<DidChangeTextDocumentParams>(notification.params) else {
                    return;
                };
                let Some(path) = text::uri_to_path(&params.text_document.uri) else { return };
                let Some(text) = self.texts.get_mut(&path) else { return };
                for change in params.content_changes {
                    match change.range {
                        Some(range) => {
                            let index = LineIndex::new(text);
                            let start = index.offset(text, range.start);
                            let end = index.offset(text, range.end).max(start);
                            text.replace_range(start..end, &change.text);
                        }
                        None => *text = change.text,
                    }
                }
                if let Some(document) = self.documents.get_mut(&path) {
                    document.version = params.text_document.version;
                }
                self.touch(&path);
            }
            "textDocument/didSave" => {
                let Ok(params) = serde_json::from_value::<DidSaveTextDocumentParams>(notification.params) else {
                    return;
                };
                // A file saved may be read by descriptions it is not open in.
                if let Some(path) = text::uri_to_path(&params.text_document.uri) {
                    self.touch(&path);
                }
                self.stale.extend(self.checkups.keys().cloned());
            }
            "textDocument/didClose" => {
                let Ok(params) = serde_json::from_value::<DidCloseTextDocumentParams>(notification.params) else {
                    return;
                };
                let Some(path) = text::uri_to_path(&params.text_document.uri) else { return };
                self.texts.remove(&path);
                self.documents.remove(&path);
                self.touch(&path);
            }
            _ => {}
        }
    }

    /// Marks the description a file belongs to as needing a check.
    fn touch(&mut self, path: &std::path::Path) {
        if let Some(root) = Root::of(path, &self.texts) {
            self.stale.insert(root);
        }
    }

    /// Checks the descriptions that changed and returns the diagnostics to
    /// publish: every file whose diagnostics changed, cleared ones included.
    fn publish(&mut self) -> Vec<Notification> {
        for root in self.stale.clone() {
            self.refresh(&root);
        }
        let mut out = Vec::new();
        for root in std::mem::take(&mut self.unpublished) {
            let Some(checkup) = self.checkups.get_mut(&root) else { continue };
            let paths: BTreeSet<&PathBuf> = checkup.diagnostics.keys().chain(checkup.published.keys()).collect();
            for path in paths {
                let now = checkup.diagnostics.get(path).cloned().unwrap_or_default();
                let before = checkup.published.get(path);
                if before.is_some_and(|b| *b == now) || (now.is_empty() && before.is_none()) {
                    continue;
                }
                let document = self.documents.get(path);
                let uri = document.map(|d| d.uri.clone()).or_else(|| text::path_to_uri(path));
                let Some(uri) = uri else { continue };
                let params = PublishDiagnosticsParams { uri, diagnostics: now, version: document.map(|d| d.version) };
                out.push(Notification::new("textDocument/publishDiagnostics".into(), params));
            }
            checkup.published = checkup.diagnostics.clone();
        }
        out
    }

    /// Checks a description again if its buffers changed since its last check.
    fn refresh(&mut self, root: &Root) {
        if self.stale.remove(root) || !self.checkups.contains_key(root) {
            let checked = workspace::check(root, &self.texts, self.library);
            let diagnostics = workspace::diagnostics(root, &checked);
            let published = self.checkups.remove(root).map(|c| c.published).unwrap_or_default();
            self.checkups.insert(root.clone(), Checkup { checked, diagnostics, published });
            self.unpublished.insert(root.clone());
        }
    }

    /// Answers a request; never panics.
    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        match catch_unwind(AssertUnwindSafe(|| self.request_inner(request))) {
            Ok(response) => response,
            Err(_) => Response::new_err(id, ErrorCode::InternalError as i32, "homelabc failed to answer".into()),
        }
    }

    fn request_inner(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        match request.method.as_str() {
            "textDocument/completion" => self.answer(id, request, |s, p: CompletionParams| {
                let at = s.at(&p.text_document_position)?;
                s.refresh(&at.root);
                let checked = &s.checkups[&at.root].checked;
                let components: Vec<&str> = s.library.names().collect();
                let items = features::completion(&at.text, at.offset, &s.corpus, Some(checked), &components);
                Ok(serde_json::to_value(CompletionResponse::Array(items)))
            }),
            "textDocument/hover" => self.answer(id, request, |s, p: HoverParams| {
                let at = s.at(&p.text_document_position_params)?;
                s.refresh(&at.root);
                let checkup = &s.checkups[&at.root];
                let own = checkup.diagnostics.get(&at.path).map_or(&[][..], Vec::as_slice);
                let hover = features::hover(&at.text, at.offset, &s.corpus, Some(&checkup.checked), own);
                Ok(serde_json::to_value(hover))
            }),
            "textDocument/definition" => self.answer(id, request, |s, p: GotoDefinitionParams| {
                let at = s.at(&p.text_document_position_params)?;
                let file = at.root.logical(&at.path).unwrap_or_default();
                s.refresh(&at.root);
                let checked = &s.checkups[&at.root].checked;
                let locations = features::definition(&at.text, at.offset, &s.corpus, &at.root, &file, checked);
                let response = (!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations));
                Ok(serde_json::to_value(response))
            }),
            "textDocument/formatting" => self.answer(id, request, |s, p: DocumentFormattingParams| {
                let path = text::uri_to_path(&p.text_document.uri).ok_or_else(not_a_file)?;
                let text = s.text(&path).ok_or_else(not_a_file)?;
                let edits = features::formatting(&text).map_err(|e| (ErrorCode::RequestFailed, e))?;
                Ok(serde_json::to_value(edits))
            }),
            other => Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("unknown method `{other}`")),
        }
    }

    /// Reads a request's parameters and runs `answer` on them.
    fn answer<P: DeserializeOwned>(
        &mut self,
        id: RequestId,
        request: Request,
        answer: impl FnOnce(&mut Self, P) -> Result<serde_json::Result<serde_json::Value>, (ErrorCode, String)>,
    ) -> Response {
        let params = match serde_json::from_value::<P>(request.params) {
            Ok(params) => params,
            Err(error) => return Response::new_err(id, ErrorCode::InvalidParams as i32, error.to_string()),
        };
        match answer(self, params) {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(error)) => Response::new_err(id, ErrorCode::InternalError as i32, error.to_string()),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// The text of a file: its buffer, else the disk.
    fn text(&self, path: &std::path::Path) -> Option<String> {
        match self.texts.get(path) {
            Some(text) => Some(text.clone()),
            None => {
                crate::host::Host::read(&crate::host::FsHost::new(path.parent()?), path.file_name()?.to_str()?).ok()
            }
        }
    }

    /// Where a request points: the file, its text, the byte offset and the description.
    fn at(&self, position: &TextDocumentPositionParams) -> Result<At, (ErrorCode, String)> {
        let path = text::uri_to_path(&position.text_document.uri).ok_or_else(not_a_file)?;
        let text = self.text(&path).ok_or_else(not_a_file)?;
        let offset = LineIndex::new(&text).offset(&text, position.position);
        let root = Root::of(&path, &self.texts).ok_or_else(not_a_file)?;
        Ok(At { path, text, offset, root })
    }
}

/// A request's position, resolved.
struct At {
    path: PathBuf,
    text: String,
    offset: usize,
    root: Root,
}

fn not_a_file() -> (ErrorCode, String) {
    (ErrorCode::InvalidParams, "the document is not a readable file:// document".into())
}
