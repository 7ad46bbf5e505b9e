//! A `homelabc set` address, `kind.name.path`, parsed.
//!
//! `kind` is a declaration kind, `name` the declaration's name (or
//! `NAMESPACE/NAME` where a name is used in several namespaces), and the path
//! descends through child nodes by their names, or selects one of several
//! children of the same name by its first argument, down to a property or a
//! child holding one value: `app.demo-app.image.tag`, `app.demo-app.replicas`,
//! `app.demo-app.env.LOG_LEVEL`.

use std::fmt;

/// A parsed address. What it names is found in the description by [`super::set`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The declaration kind (`app`).
    pub kind: String,
    /// The namespace when the address is qualified (`app.demo/web`).
    pub namespace: Option<String>,
    /// The declaration's name.
    pub name: String,
    /// The segments below the declaration.
    pub path: Vec<String>,
}

impl Address {
    /// Parses `kind.name.path...`; the error says what is wrong, for a usage error.
    pub fn parse(text: &str) -> Result<Address, String> {
        const FORM: &str = "write `kind.name.path`, e.g. `app.demo-app.image.tag`";
        let segments: Vec<&str> = text.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(format!("`{text}` is not an address: it has an empty segment; {FORM}"));
        }
        let [kind, declaration, path @ ..] = segments.as_slice() else {
            return Err(format!("`{text}` is not an address: it names no declaration; {FORM}"));
        };
        let (namespace, name) = match declaration.split_once('/') {
            None => (None, declaration.to_string()),
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                (Some(ns.to_string()), name.to_string())
            }
            Some(_) => {
                return Err(format!(
                    "`{text}` is not an address: `{declaration}` should be `NAME` or `NAMESPACE/NAME`; {FORM}"
                ));
            }
        };
        Ok(Address { kind: kind.to_string(), namespace, name, path: path.iter().map(|s| s.to_string()).collect() })
    }

    /// The address of the declaration alone: `app.demo-app`, `app.demo/web`.
    pub fn declaration(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}.{ns}/{}", self.kind, self.name),
            None => format!("{}.{}", self.kind, self.name),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.declaration())?;
        for segment in &self.path {
            write!(f, ".{segment}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kind_name_and_path() {
        let a = Address::parse("app.demo-app.image.tag").unwrap();
        assert_eq!((a.kind.as_str(), a.namespace.as_deref(), a.name.as_str()), ("app", None, "demo-app"));
        assert_eq!(a.path, ["image", "tag"]);
        assert_eq!(a.to_string(), "app.demo-app.image.tag");
        let b = Address::parse("app.demo").unwrap();
        assert!(b.path.is_empty());
    }

    #[test]
    fn parses_a_namespace_qualified_name() {
        let a = Address::parse("app.team-a/web.replicas").unwrap();
        assert_eq!(a.namespace.as_deref(), Some("team-a"));
        assert_eq!(a.name, "web");
        assert_eq!(a.declaration(), "app.team-a/web");
        assert_eq!(a.to_string(), "app.team-a/web.replicas");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in ["", "app", "app.", ".demo", "app..tag", "app./web", "app.ns/", "app.a/b/c.tag"] {
            assert!(Address::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
