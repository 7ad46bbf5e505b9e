//! The canonical layout: the tokens, read into lines of nodes, comments and
//! blank lines (`fmt/read.rs`), written out again with one node per line and
//! four spaces per level.
//!
//! Only white space, line breaks, `;` and line continuations with nothing
//! after them are changed; every other token is written as it was, in the
//! same order.

use super::lex::{Dialect, Token};

/// The indentation of one level.
const INDENT: &str = "    ";

/// The widest line a children block written on one line may make and stay
/// on one line (`values { enabled #true }`).
const MAX_WIDTH: usize = 100;

/// A document or a children block: what stands on its lines.
#[derive(Debug, Default)]
pub(super) struct Block {
    /// A line comment right after the block's `{`.
    pub opening: Option<String>,
    /// Its lines.
    pub items: Vec<Item>,
    /// Whether the author wrote it on one line (`{ a 1; b 2 }`).
    pub one_line: bool,
}

/// One line (or more) of a block.
#[derive(Debug)]
pub(super) enum Item {
    /// An empty line between two items.
    Blank,
    /// Comments alone on their line: block comments, then maybe a line comment.
    Comment(String),
    /// A node, maybe commented out.
    Node(Node),
}

/// A node as written, its tokens grouped into pieces.
#[derive(Debug)]
pub(super) struct Node {
    /// Block comments before it on its line.
    pub before: Vec<String>,
    /// `/-` and the comments after it, when the node is commented out.
    pub slashdash: Option<Vec<String>>,
    /// `(type)name`.
    pub name: String,
    /// Its entries, comments, continuations and children blocks, in order.
    pub pieces: Vec<Piece>,
    /// A line comment at its end.
    pub trailing: Option<String>,
}

/// Something after a node's name.
#[derive(Debug)]
pub(super) enum Piece {
    /// An entry (`key=(type)value`, maybe `/-`-prefixed) or a block comment.
    Text(String),
    /// A children block, maybe commented out with `/-` (and the comments
    /// after it).
    Children { slashdash: Option<Vec<String>>, block: Block },
    /// `\` with the comments after it: the node goes on on the next line.
    Continuation(Vec<String>),
}

/// The canonical text of a file.
pub(super) struct Layout {
    /// The text.
    pub text: String,
    /// For a KDL v1 file, the v2 spelling of each word token (by index) that
    /// differs from the v1 one.
    pub respelled: Vec<Option<String>>,
}

/// Lays `tokens` out canonically, in KDL v2.
pub(super) fn format(tokens: &[Token<'_>], dialect: Dialect) -> Result<Layout, String> {
    let (block, respelled) = super::read::read(tokens, dialect)?;
    let mut text = String::new();
    write_block(&block, 0, &mut text);
    Ok(Layout { text, respelled })
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

fn write_block(block: &Block, level: usize, out: &mut String) {
    for item in &block.items {
        match item {
            Item::Blank => out.push('\n'),
            Item::Comment(text) => {
                indent(level, out);
                out.push_str(text);
                out.push('\n');
            }
            Item::Node(node) => write_node(node, level, out),
        }
    }
}

fn write_node(node: &Node, level: usize, out: &mut String) {
    indent(level, out);
    for comment in &node.before {
        out.push_str(comment);
        out.push(' ');
    }
    if let Some(comments) = &node.slashdash {
        write_slashdash(comments, out);
    }
    out.push_str(&node.name);
    // After a continuation the next piece starts its line.
    let mut line_start = false;
    for piece in &node.pieces {
        if !line_start {
            out.push(' ');
        }
        line_start = false;
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Children { slashdash, block } => {
                if let Some(comments) = slashdash {
                    write_slashdash(comments, out);
                }
                if let Some(comment) = &block.opening {
                    out.push_str("{ ");
                    out.push_str(comment);
                    out.push('\n');
                    write_block(block, level + 1, out);
                    indent(level, out);
                    out.push('}');
                } else if block.items.is_empty() {
                    out.push_str("{}");
                } else if let Some(inline) = inline(block).filter(|i| fits(out, i)) {
                    out.push_str(&inline);
                } else {
                    out.push_str("{\n");
                    write_block(block, level + 1, out);
                    indent(level, out);
                    out.push('}');
                }
            }
            Piece::Continuation(comments) => {
                out.push('\\');
                for comment in comments {
                    out.push(' ');
                    out.push_str(comment);
                }
                out.push('\n');
                indent(level + 1, out);
                line_start = true;
            }
        }
    }
    if let Some(comment) = &node.trailing {
        if !line_start {
            out.push(' ');
        }
        out.push_str(comment);
    }
    out.push('\n');
}

/// A block written on one line as `{ a 1; b 2 }`, when its author wrote it
/// so and it holds only nodes without line comments or continuations
/// (blocks inside it likewise): short blocks stay short, like rustfmt's
/// small blocks, and a block that was opened onto lines stays so.
fn inline(block: &Block) -> Option<String> {
    if !block.one_line || block.opening.is_some() {
        return None;
    }
    let mut nodes = Vec::new();
    for item in &block.items {
        let Item::Node(node) = item else { return None };
        if node.trailing.is_some() {
            return None;
        }
        let mut text = String::new();
        for comment in &node.before {
            text.push_str(comment);
            text.push(' ');
        }
        if let Some(comments) = &node.slashdash {
            write_slashdash(comments, &mut text);
        }
        text.push_str(&node.name);
        for piece in &node.pieces {
            text.push(' ');
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Children { slashdash, block } => {
                    if let Some(comments) = slashdash {
                        write_slashdash(comments, &mut text);
                    }
                    if block.items.is_empty() && block.opening.is_none() {
                        text.push_str("{}");
                    } else {
                        text.push_str(&inline(block)?);
                    }
                }
                Piece::Continuation(_) => return None,
            }
        }
        nodes.push(text);
    }
    Some(format!("{{ {} }}", nodes.join("; ")))
}

/// Whether `text` fits on the line `out` is writing.
fn fits(out: &str, text: &str) -> bool {
    let line = out.rsplit('\n').next().unwrap_or(out);
    line.chars().count() + text.chars().count() <= MAX_WIDTH
}

/// `/-`, and the block comments after it, each followed by a space.
pub(super) fn write_slashdash(comments: &[String], out: &mut String) {
    out.push_str("/-");
    for comment in comments {
        out.push(' ');
        out.push_str(comment);
    }
    if !comments.is_empty() {
        out.push(' ');
    }
}
