//! Reading tokens into the layout's tree: blocks of lines holding nodes,
//! comments and blank lines; a node's entries glued into pieces.

use super::layout::{Block, Item, Node, Piece, write_slashdash};
use super::lex::{Dialect, Kind, Token};

const LINE_AFTER_SLASHDASH: &str = "a line comment right after `/-` is not supported";

/// Reads the tokens of a file; for KDL v1, also the v2 spelling of each word
/// that changes (by token index).
pub(super) fn read(tokens: &[Token<'_>], dialect: Dialect) -> Result<(Block, Vec<Option<String>>), String> {
    let mut reader = Reader { tokens, at: 0, dialect, respelled: vec![None; tokens.len()] };
    let block = reader.block(false)?;
    Ok((block, reader.respelled))
}

/// A cursor over the tokens.
struct Reader<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
    dialect: Dialect,
    respelled: Vec<Option<String>>,
}

impl Reader<'_, '_> {
    fn peek(&self) -> Option<Kind> {
        self.tokens.get(self.at).map(|t| t.kind)
    }

    fn take(&mut self) -> Option<String> {
        let token = self.tokens.get(self.at)?;
        self.at += 1;
        Some(token.text.to_string())
    }

    /// Takes a line comment that follows on the same line, after spaces.
    fn line_comment_ahead(&mut self) -> Option<String> {
        let mut ahead = self.at;
        while self.tokens.get(ahead).is_some_and(|t| t.kind == Kind::Space) {
            ahead += 1;
        }
        if self.tokens.get(ahead).is_some_and(|t| t.kind == Kind::LineComment) {
            self.at = ahead;
            return self.take();
        }
        None
    }

    fn unexpected(&self, what: &str) -> String {
        match self.tokens.get(self.at) {
            Some(token) => format!("unexpected `{}` {what}", token.text.escape_debug()),
            None => format!("the file ends {what}"),
        }
    }

    /// Reads items up to the end of the file or, in a children block, up to
    /// and with its `}`.
    fn block(&mut self, inner: bool) -> Result<Block, String> {
        let mut block = Block::default();
        let start = self.at;
        if inner {
            block.opening = self.line_comment_ahead();
        }
        // Line breaks since the last item, and block comments waiting for what
        // follows them on their line.
        let mut breaks = 0;
        let mut comments: Vec<String> = Vec::new();
        loop {
            match self.peek() {
                None if inner => return Err(self.unexpected("inside a children block")),
                None => break,
                Some(Kind::Close) if inner => {
                    self.at += 1;
                    break;
                }
                Some(Kind::Space | Kind::Semicolon) => self.at += 1,
                Some(Kind::Newline) => {
                    self.at += 1;
                    if !comments.is_empty() {
                        push(&mut block, &mut breaks, Item::Comment(comments.join(" ")));
                        comments.clear();
                    }
                    breaks += 1;
                }
                Some(Kind::BlockComment) => comments.extend(self.take()),
                Some(Kind::LineComment) => {
                    comments.extend(self.take());
                    push(&mut block, &mut breaks, Item::Comment(comments.join(" ")));
                    comments.clear();
                }
                Some(Kind::Slashdash | Kind::Word | Kind::OpenParen) => {
                    let node = self.node(std::mem::take(&mut comments))?;
                    push(&mut block, &mut breaks, Item::Node(node));
                }
                // A continuation between nodes is space; its comments stay.
                Some(Kind::Escline) => {
                    self.at += 1;
                    for comment in self.continuation()? {
                        let line = comment.starts_with("//");
                        comments.push(comment);
                        if line {
                            push(&mut block, &mut breaks, Item::Comment(comments.join(" ")));
                            comments.clear();
                        }
                    }
                }
                Some(_) => return Err(self.unexpected("where a node starts")),
            }
        }
        if !comments.is_empty() {
            push(&mut block, &mut breaks, Item::Comment(comments.join(" ")));
        }
        block.one_line = inner && !self.tokens[start..self.at].iter().any(|t| t.kind == Kind::Newline);
        Ok(block)
    }

    /// Reads a node, up to (not with) the line break that ends it.
    fn node(&mut self, before: Vec<String>) -> Result<Node, String> {
        let slashdash = if self.peek() == Some(Kind::Slashdash) {
            self.at += 1;
            Some(self.after_slashdash()?)
        } else {
            None
        };
        let name = self.value(true)?;
        let mut node = Node { before, slashdash, name, pieces: Vec::new(), trailing: None };
        loop {
            match self.peek() {
                None | Some(Kind::Newline | Kind::Close) => break,
                Some(Kind::Semicolon) => {
                    // A line comment after the `;` stays on the node's line.
                    self.at += 1;
                    node.trailing = self.line_comment_ahead();
                    break;
                }
                Some(Kind::LineComment) => {
                    node.trailing = self.take();
                    break;
                }
                Some(Kind::Space) => self.at += 1,
                Some(Kind::BlockComment) => node.pieces.extend(self.take().map(Piece::Text)),
                Some(Kind::Escline) => {
                    self.at += 1;
                    let comments = self.continuation()?;
                    node.pieces.push(Piece::Continuation(comments));
                }
                Some(Kind::Open) => {
                    self.at += 1;
                    node.pieces.push(Piece::Children { slashdash: None, block: self.block(true)? });
                }
                Some(Kind::Slashdash) => {
                    self.at += 1;
                    let comments = self.after_slashdash()?;
                    if self.peek() == Some(Kind::Open) {
                        self.at += 1;
                        node.pieces.push(Piece::Children { slashdash: Some(comments), block: self.block(true)? });
                    } else {
                        let mut text = String::new();
                        write_slashdash(&comments, &mut text);
                        text.push_str(&self.entry()?);
                        node.pieces.push(Piece::Text(text));
                    }
                }
                Some(Kind::Word | Kind::OpenParen) => {
                    let entry = self.entry()?;
                    node.pieces.push(Piece::Text(entry));
                }
                Some(_) => return Err(self.unexpected("in a node")),
            }
        }
        // A continuation with nothing after it is only space: its comments
        // stay on the node's line.
        while node.trailing.is_none()
            && let Some(Piece::Continuation(comments)) = node.pieces.last()
        {
            let mut comments = comments.clone();
            node.pieces.pop();
            if comments.last().is_some_and(|c| c.starts_with("//")) {
                node.trailing = comments.pop();
            }
            node.pieces.extend(comments.into_iter().map(Piece::Text));
        }
        Ok(node)
    }

    /// After `/-`: line breaks are space, block comments are kept.
    fn after_slashdash(&mut self) -> Result<Vec<String>, String> {
        let mut comments = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space | Kind::Newline) => self.at += 1,
                Some(Kind::BlockComment) => comments.extend(self.take()),
                Some(Kind::Escline) => {
                    self.at += 1;
                    for comment in self.continuation()? {
                        if comment.starts_with("//") {
                            return Err(LINE_AFTER_SLASHDASH.into());
                        }
                        comments.push(comment);
                    }
                }
                Some(Kind::LineComment) => return Err(LINE_AFTER_SLASHDASH.into()),
                _ => return Ok(comments),
            }
        }
    }

    /// After `\`: its comments, up to and with the line break.
    fn continuation(&mut self) -> Result<Vec<String>, String> {
        let mut comments = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space) => self.at += 1,
                Some(Kind::BlockComment | Kind::LineComment) => comments.extend(self.take()),
                Some(Kind::Newline) => {
                    self.at += 1;
                    return Ok(comments);
                }
                None => return Ok(comments),
                Some(_) => return Err(self.unexpected("after `\\`")),
            }
        }
    }

    /// An entry, glued: `key=(type)value` or `(type)value`. Block comments
    /// inside it are kept with a space on each side.
    fn entry(&mut self) -> Result<String, String> {
        let property = self.property_ahead();
        let mut text = self.value(property)?;
        if property {
            self.inner_space(&mut text)?;
            self.at += 1;
            text.push('=');
            self.inner_space(&mut text)?;
            text.push_str(&self.value(false)?);
        }
        Ok(text)
    }

    /// Whether the entry ahead is a property: `=` after its key, maybe after
    /// space, comments and a continuation.
    fn property_ahead(&self) -> bool {
        let kind = |at: usize| self.tokens.get(at).map(|t| t.kind);
        let mut ahead = self.at;
        let mut key = false;
        loop {
            match kind(ahead) {
                Some(Kind::Space | Kind::BlockComment) => ahead += 1,
                Some(Kind::Escline) => {
                    ahead += 1;
                    while kind(ahead) == Some(Kind::Space) {
                        ahead += 1;
                    }
                    if kind(ahead) == Some(Kind::Newline) {
                        ahead += 1;
                    }
                }
                Some(Kind::Word) if !key => {
                    key = true;
                    ahead += 1;
                }
                Some(Kind::Equals) => return key,
                _ => return false,
            }
        }
    }

    /// `(type)value` or a bare value; `name` when it names a node or a
    /// property.
    fn value(&mut self, name: bool) -> Result<String, String> {
        let mut text = String::new();
        if self.peek() == Some(Kind::OpenParen) {
            self.at += 1;
            text.push('(');
            self.inner_space(&mut text)?;
            text.push_str(&self.word(true)?);
            self.inner_space(&mut text)?;
            if self.peek() != Some(Kind::CloseParen) {
                return Err(self.unexpected("in a type annotation"));
            }
            self.at += 1;
            text.push(')');
            self.inner_space(&mut text)?;
        }
        text.push_str(&self.word(name)?);
        Ok(text)
    }

    /// A word, in KDL v2; `name` when it is a name (of a node, a property or
    /// a type) rather than a value.
    fn word(&mut self, name: bool) -> Result<String, String> {
        if self.peek() != Some(Kind::Word) {
            return Err(self.unexpected("where a name or value belongs"));
        }
        let at = self.at;
        let text = self.take().unwrap_or_default();
        if self.dialect == Dialect::V2 {
            return Ok(text);
        }
        let v2 = super::v1::word(&text, name);
        if v2 != text {
            self.respelled[at] = Some(v2.clone());
        }
        Ok(v2)
    }

    /// Space inside an entry: dropped, but block comments are kept (with a
    /// space on each side) and a continuation must carry no comment.
    fn inner_space(&mut self, text: &mut String) -> Result<(), String> {
        loop {
            match self.peek() {
                Some(Kind::Space) => self.at += 1,
                Some(Kind::BlockComment) => {
                    text.push(' ');
                    text.push_str(&self.take().unwrap_or_default());
                    text.push(' ');
                }
                Some(Kind::Escline) => {
                    self.at += 1;
                    if !self.continuation()?.is_empty() {
                        return Err("a comment after `\\` inside an entry is not supported".into());
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Adds an item, after a blank line when the text had one or more.
fn push(block: &mut Block, breaks: &mut usize, item: Item) {
    if *breaks >= 2 && !block.items.is_empty() {
        block.items.push(Item::Blank);
    }
    *breaks = 0;
    block.items.push(item);
}
