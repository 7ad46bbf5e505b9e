//! The canonical document written straight from a value's `Serialize`, as [`super::render_value`]
//! writes the value's JSON, without building that JSON (building a `serde_json::Value` per object
//! was a third of what serializing it cost, and freeing the tree more than building it).
//!
//! # How the same bytes come out
//! Every value is written as a *block* at an indent: its lines, the first one included, start with
//! at least that many spaces. Where the canonical form starts a value on a line already begun (the
//! item of a list after `- `, the value of a long key after `: `), the value is written as a block
//! two columns further in, and the two spaces before it are then overwritten with `- ` or `: `:
//! the same bytes as the emitter's, which writes the marker first. After a key, a scalar follows
//! on its line and a collection starts on the next one; whether a collection is empty (`{}`, `[]`)
//! is known at its end, so its line break is written with its first entry.
//!
//! A mapping's entries are written as they come and reordered at its end when they did not come
//! in canonical order (`name` first, then by bytes): each entry is one run of bytes that does not
//! depend on where it stands.
//!
//! The one thing the emitter decides from the whole document is whether a string is the last
//! thing in it (a literal block keeping several final newlines, `|+`, cannot end a document);
//! such a string, like anything serde_json would not take as it is, declines ([`Decline`]).

use std::borrow::Cow;
use std::fmt;

use serde::ser::{self, Serialize};

use super::{KeyOrder, MAX_IMPLICIT_KEY, literal_header, literal_lines, number_text, pad, string_scalar};

/// Why a value is not written straight; the caller goes through its JSON.
#[derive(Debug)]
pub(super) enum Decline {
    /// A string the caller refuses (a credential, to be located in the JSON).
    Refused,
    /// A string whose literal block depends on being last in the document.
    KeptBlock,
    /// Something serde_json takes otherwise: a key that is not a string or
    /// an integer, a key given twice, a number beyond 64 bits, or an error
    /// of the value's own `Serialize`.
    NotJson(String),
}

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decline::Refused => f.write_str("a string was refused"),
            Decline::KeptBlock => f.write_str("a literal block keeps its final newlines"),
            Decline::NotJson(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Decline {}

impl ser::Error for Decline {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Decline::NotJson(msg.to_string())
    }
}

/// The document of `value` after what `head` writes first, or `None` where it declines.
pub(super) fn render<T: Serialize + ?Sized>(
    value: &T,
    refuse: &dyn Fn(&str) -> bool,
    head: &dyn Fn(&mut String),
) -> Option<String> {
    let mut out = String::with_capacity(super::DOCUMENT_CAPACITY);
    head(&mut out);
    let mut room = SCRATCH.take();
    room.entries.clear();
    let mut writer = Writer { out, refuse, room };
    let written = value.serialize(Place { w: &mut writer, indent: 0, after_key: false, order: KeyOrder::TopLevel });
    let Writer { mut out, mut room, .. } = writer;
    if room.moved.capacity() > KEPT_ROOM {
        room.moved = String::new();
    }
    SCRATCH.set(room);
    written.ok()?;
    out.shrink_to_fit();
    Some(out)
}

/// The most room for a mapping's bytes a thread keeps between documents: a
/// few objects' worth, not the largest a long-lived process ever reordered.
const KEPT_ROOM: usize = 64 << 10;

/// A writer's room for the entries of the mappings open and for reordering
/// them, kept by each thread from one document to the next: otherwise every
/// document grows its own a few times over (8,000 documents at 1,000 apps).
#[derive(Default)]
struct Scratch {
    /// The entries of the mappings open: each key and where its bytes start.
    entries: Vec<(Cow<'static, str>, usize)>,
    /// Room for a mapping's bytes while its entries are put in order, and
    /// for that order ([`Mapping::end`]): kept from one mapping to the next
    /// (most objects reorder several: `name` comes first).
    moved: String,
    order: Vec<usize>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::default();
}

/// The document being written, the caller's test of its strings, and the
/// room for the entries of the mappings open.
struct Writer<'r> {
    out: String,
    refuse: &'r dyn Fn(&str) -> bool,
    room: Scratch,
}

impl Writer<'_> {
    /// Writes a scalar's text: after a key on its line, else as a one-line block.
    fn scalar(&mut self, indent: usize, after_key: bool, text: &str) {
        if after_key {
            self.out.push(' ');
        } else {
            pad(&mut self.out, indent);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes a string, refused or not, plain, quoted or as a literal block.
    fn string(&mut self, indent: usize, after_key: bool, text: &str) -> Result<(), Decline> {
        if (self.refuse)(text) {
            return Err(Decline::Refused);
        }
        match literal_header(text, false) {
            Some("|+") => Err(Decline::KeptBlock),
            Some(header) => {
                self.scalar(indent, after_key, header);
                // A top-level block still needs indented lines: libyaml wants at least one space.
                literal_lines(&mut self.out, text, indent.max(2));
                Ok(())
            }
            None => {
                self.scalar(indent, after_key, &string_scalar(text));
                Ok(())
            }
        }
    }

    /// Overwrites the two spaces at `at` (before a block written two
    /// columns in) with a marker: `- ` or `: `.
    fn mark(&mut self, at: usize, marker: &str) {
        debug_assert_eq!(&self.out[at..at + 2], "  ");
        self.out.replace_range(at..at + 2, marker);
    }
}

/// Where a value goes: as a block at `indent`, or after a key (then its own
/// lines are at `indent`); a mapping's keys in `order`.
struct Place<'a, 'r> {
    w: &'a mut Writer<'r>,
    indent: usize,
    after_key: bool,
    order: KeyOrder,
}

impl<'a, 'r> Place<'a, 'r> {
    fn scalar(self, text: &str) -> Result<(), Decline> {
        self.w.scalar(self.indent, self.after_key, text);
        Ok(())
    }

    fn mapping(self) -> Mapping<'a, 'r> {
        let base = self.w.room.entries.len();
        Mapping { w: self.w, indent: self.indent, after_key: self.after_key, order: self.order, base, in_order: true }
    }

    fn sequence(self) -> Sequence<'a, 'r> {
        Sequence { w: self.w, indent: self.indent, after_key: self.after_key, items: 0 }
    }

    /// `{variant: value}`, as serde_json writes a newtype variant.
    fn variant<T: Serialize + ?Sized>(self, variant: &'static str, value: &T) -> Result<(), Decline> {
        let mut mapping = self.mapping();
        mapping.key(Cow::Borrowed(variant));
        mapping.value(value)?;
        mapping.end()
    }
}

/// A mapping being written: its entries are `w.room.entries[base..]`.
struct Mapping<'a, 'r> {
    w: &'a mut Writer<'r>,
    indent: usize,
    after_key: bool,
    order: KeyOrder,
    base: usize,
    /// Whether the entries so far came in canonical order.
    in_order: bool,
}

/// The canonical rank of a key: the keys `order` puts first, then the rest.
fn rank(order: KeyOrder, key: &str) -> usize {
    let firsts = order.firsts();
    firsts.iter().position(|first| *first == key).unwrap_or(firsts.len())
}

impl<'r> Mapping<'_, 'r> {
    /// Takes an entry's key; [`Mapping::value`] writes it with its value.
    fn key(&mut self, key: Cow<'static, str>) {
        let entries = &self.w.room.entries[self.base..];
        match entries.last() {
            None if self.after_key => self.w.out.push('\n'),
            None => {}
            Some((last, _)) => {
                let (a, b) = ((rank(self.order, last), last.as_bytes()), (rank(self.order, &key), key.as_bytes()));
                self.in_order &= a < b;
            }
        }
        let at = self.w.out.len();
        self.w.room.entries.push((key, at));
    }

    /// Writes the key given last and its value.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Decline> {
        let Writer { out, room: Scratch { entries, .. }, .. } = &mut *self.w;
        let Some((key, _)) = entries[self.base..].last() else {
            return Err(Decline::NotJson("a map value without a key".into()));
        };
        let key = match key {
            Cow::Borrowed(field) => field_key(field),
            Cow::Owned(key) => string_scalar(key),
        };
        pad(out, self.indent);
        if key.len() <= MAX_IMPLICIT_KEY {
            out.push_str(&key);
            out.push(':');
            value.serialize(Place {
                w: &mut *self.w,
                indent: self.indent + 2,
                after_key: true,
                order: KeyOrder::Nested,
            })
        } else {
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            let at = out.len() + self.indent;
            value.serialize(Place {
                w: &mut *self.w,
                indent: self.indent + 2,
                after_key: false,
                order: KeyOrder::Nested,
            })?;
            self.w.mark(at, ": ");
            Ok(())
        }
    }

    /// Puts the entries in canonical order, or writes an empty mapping.
    fn end(self) -> Result<(), Decline> {
        let w = self.w;
        if w.room.entries.len() == self.base {
            w.scalar(self.indent, self.after_key, "{}");
            return Ok(());
        }
        if self.in_order {
            w.room.entries.truncate(self.base);
            return Ok(());
        }
        let Writer { out, room: Scratch { entries, moved, order: sorted }, .. } = w;
        let entries_of = &entries[self.base..];
        let start = entries_of[0].1;
        let order = self.order;
        sorted.clear();
        sorted.extend(0..entries_of.len());
        sorted.sort_by(|&a, &b| {
            let (a, b) = (&entries_of[a].0, &entries_of[b].0);
            rank(order, a).cmp(&rank(order, b)).then_with(|| a.as_bytes().cmp(b.as_bytes()))
        });
        if sorted.windows(2).any(|pair| entries_of[pair[0]].0 == entries_of[pair[1]].0) {
            return Err(Decline::NotJson("a key given twice".into()));
        }
        // The entries' bytes moved aside, and written back in order.
        moved.clear();
        moved.push_str(&out[start..]);
        out.truncate(start);
        let end = |i: usize| entries_of.get(i + 1).map_or(moved.len(), |(_, at)| at - start);
        for &i in sorted.iter() {
            out.push_str(&moved[entries_of[i].1 - start..end(i)]);
        }
        entries.truncate(self.base);
        Ok(())
    }
}

/// How many field names [`field_key`] remembers, per thread.
const FIELD_KEYS: usize = 256;

thread_local! {
    /// Whether the field name at an address, of a length, is written plain:
    /// one place per address (the later name taking the place of the earlier).
    static PLAIN_FIELDS: [std::cell::Cell<(usize, usize, bool)>; FIELD_KEYS] =
        const { [const { std::cell::Cell::new((0, 0, false)) }; FIELD_KEYS] };
}

/// A struct's field name as a key: as [`string_scalar`] writes it, its test
/// remembered by the name's address. Every object's mappings are structs
/// with a few hundred field names between them, and a static string's
/// address always holds the same text, so a compute tests each once rather
/// than each of its hundreds of thousands of keys.
fn field_key(field: &'static str) -> Cow<'static, str> {
    let at = field.as_ptr() as usize;
    let plain = PLAIN_FIELDS.with(|fields| {
        let slot = &fields[(at >> 3) % FIELD_KEYS];
        match slot.get() {
            (address, len, plain) if address == at && len == field.len() => plain,
            _ => {
                let plain = matches!(string_scalar(field), Cow::Borrowed(_));
                slot.set((at, field.len(), plain));
                plain
            }
        }
    });
    if plain { Cow::Borrowed(field) } else { Cow::Owned(super::double_quoted(field)) }
}

/// A sequence being written: how many items so far.
struct Sequence<'a, 'r> {
    w: &'a mut Writer<'r>,
    indent: usize,
    after_key: bool,
    items: usize,
}

impl Sequence<'_, '_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Decline> {
        if self.items == 0 && self.after_key {
            self.w.out.push('\n');
        }
        self.items += 1;
        let at = self.w.out.len() + self.indent;
        value.serialize(Place {
            w: &mut *self.w,
            indent: self.indent + 2,
            after_key: false,
            order: KeyOrder::Nested,
        })?;
        self.w.mark(at, "- ");
        Ok(())
    }

    fn end(self) -> Result<(), Decline> {
        if self.items == 0 {
            self.w.scalar(self.indent, self.after_key, "[]");
        }
        Ok(())
    }
}

/// Integers written in decimal, as serde_json writes them, by `$write`
/// (a scalar of the document, or a key's text).
macro_rules! integers {
    ($ok:ty, $write:ident; $($method:ident: $int:ty),*) => {$(
        fn $method(self, v: $int) -> Result<$ok, Decline> {
            self.$write(itoa::Buffer::new().format(v))
        }
    )*};
}

impl<'a, 'r> ser::Serializer for Place<'a, 'r> {
    type Ok = ();
    type Error = Decline;
    type SerializeSeq = Sequence<'a, 'r>;
    type SerializeTuple = Sequence<'a, 'r>;
    type SerializeTupleStruct = Sequence<'a, 'r>;
    type SerializeTupleVariant = ser::Impossible<(), Decline>;
    type SerializeMap = Mapping<'a, 'r>;
    type SerializeStruct = Mapping<'a, 'r>;
    type SerializeStructVariant = ser::Impossible<(), Decline>;

    fn serialize_bool(self, v: bool) -> Result<(), Decline> {
        self.scalar(if v { "true" } else { "false" })
    }

    integers!((), scalar; serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64);
    integers!((), scalar; serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, v: i128) -> Result<(), Decline> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(v), _) => self.serialize_i64(v),
            (_, Ok(v)) => self.serialize_u64(v),
            _ => Err(Decline::NotJson("a number beyond 64 bits".into())),
        }
    }

    fn serialize_u128(self, v: u128) -> Result<(), Decline> {
        match u64::try_from(v) {
            Ok(v) => self.serialize_u64(v),
            Err(_) => Err(Decline::NotJson("a number beyond 64 bits".into())),
        }
    }

    // Floats as serde_json takes them (an f32 keeps its own shortest
    // spelling; a NaN or an infinity is null), then as the emitter writes
    // a JSON number.
    fn serialize_f32(self, v: f32) -> Result<(), Decline> {
        self.float(serde_json::Value::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Decline> {
        self.float(serde_json::Value::from(v))
    }

    fn serialize_char(self, v: char) -> Result<(), Decline> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Decline> {
        self.w.string(self.indent, self.after_key, v)
    }

    /// serde_json writes bytes as a list of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Decline> {
        let mut sequence = self.sequence();
        for byte in v {
            sequence.item(byte)?;
        }
        sequence.end()
    }

    fn serialize_none(self) -> Result<(), Decline> {
        self.scalar("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Decline> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Decline> {
        self.scalar("null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Decline> {
        self.scalar("null")
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Decline> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Decline> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Decline> {
        self.variant(variant, value)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Sequence<'a, 'r>, Decline> {
        Ok(self.sequence())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Sequence<'a, 'r>, Decline> {
        Ok(self.sequence())
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Sequence<'a, 'r>, Decline> {
        Ok(self.sequence())
    }

    /// serde_json's `{variant: [...]}`: rare in objects, left to serde_json.
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Decline> {
        Err(Decline::NotJson("a tuple variant".into()))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Mapping<'a, 'r>, Decline> {
        Ok(self.mapping())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Mapping<'a, 'r>, Decline> {
        Ok(self.mapping())
    }

    /// serde_json's `{variant: {...}}`: rare in objects, left to serde_json.
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Decline> {
        Err(Decline::NotJson("a struct variant".into()))
    }
}

impl Place<'_, '_> {
    fn float(self, json: serde_json::Value) -> Result<(), Decline> {
        match json {
            serde_json::Value::Number(number) => self.scalar(&number_text(&number)),
            _ => self.scalar("null"),
        }
    }
}

/// A sequence takes the items of serde's three kinds of sequence alike.
macro_rules! sequence_of {
    ($($kind:ident :: $item:ident),*) => {$(
        impl ser::$kind for Sequence<'_, '_> {
            type Ok = ();
            type Error = Decline;

            fn $item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Decline> {
                self.item(value)
            }

            fn end(self) -> Result<(), Decline> {
                Sequence::end(self)
            }
        }
    )*};
}

sequence_of!(SerializeSeq::serialize_element, SerializeTuple::serialize_element, SerializeTupleStruct::serialize_field);

impl ser::SerializeMap for Mapping<'_, '_> {
    type Ok = ();
    type Error = Decline;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Decline> {
        let key = key.serialize(KeyText)?;
        self.key(Cow::Owned(key));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Decline> {
        self.value(value)
    }

    fn end(self) -> Result<(), Decline> {
        Mapping::end(self)
    }
}

impl ser::SerializeStruct for Mapping<'_, '_> {
    type Ok = ();
    type Error = Decline;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Decline> {
        self.key(Cow::Borrowed(key));
        self.value(value)
    }

    fn end(self) -> Result<(), Decline> {
        Mapping::end(self)
    }
}

/// A map key as serde_json takes it: a string, or an integer written in
/// decimal (a unit variant by its name). Any other key declines.
struct KeyText;

/// Declines a key serde_json would take otherwise or not at all.
fn not_a_key<T>() -> Result<T, Decline> {
    Err(Decline::NotJson("a map key that is not a string or an integer".into()))
}

impl KeyText {
    /// An integer key, in decimal.
    fn text(self, text: &str) -> Result<String, Decline> {
        Ok(text.to_string())
    }
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Decline;
    type SerializeSeq = ser::Impossible<String, Decline>;
    type SerializeTuple = ser::Impossible<String, Decline>;
    type SerializeTupleStruct = ser::Impossible<String, Decline>;
    type SerializeTupleVariant = ser::Impossible<String, Decline>;
    type SerializeMap = ser::Impossible<String, Decline>;
    type SerializeStruct = ser::Impossible<String, Decline>;
    type SerializeStructVariant = ser::Impossible<String, Decline>;

    fn serialize_str(self, v: &str) -> Result<String, Decline> {
        Ok(v.to_string())
    }

    fn serialize_char(self, v: char) -> Result<String, Decline> {
        Ok(v.to_string())
    }

    integers!(String, text; serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64);
    integers!(String, text; serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Decline> {
        Ok(variant.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Decline> {
        value.serialize(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_f32(self, _v: f32) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_f64(self, _v: f64) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_none(self) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_unit(self) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Decline> {
        not_a_key()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Decline> {
        not_a_key()
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Decline> {
        not_a_key()
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Decline> {
        not_a_key()
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Decline> {
        not_a_key()
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Decline> {
        not_a_key()
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Decline> {
        not_a_key()
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Decline> {
        not_a_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_written_as_any_key_however_often_asked() {
        for _ in 0..3 {
            for field in ["name", "apiVersion", "yes", "on", "", "a: b", "x-y", "123", "null", "~"] {
                assert_eq!(field_key(field), string_scalar(field), "{field:?}");
            }
        }
        // A name that starts another, at the same address.
        let longer: &'static str = "yes1";
        for field in [longer, &longer[..3], longer] {
            assert_eq!(field_key(field), string_scalar(field), "{field:?}");
        }
        // Names sharing a place in the cache (twice as many as it has, half of
        // them numbers, which are quoted) keep their own answers.
        let names: Vec<&'static str> =
            (0..FIELD_KEYS * 2).map(|i| &*Box::leak(format!("{}{i}", ["k", ""][i % 2]).into_boxed_str())).collect();
        for _ in 0..2 {
            for name in &names {
                assert_eq!(field_key(name), string_scalar(name), "{name:?}");
            }
        }
    }
}
