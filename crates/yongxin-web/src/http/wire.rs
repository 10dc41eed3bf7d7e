//! One value tree written as JSON or XML, and the error shape of Open311 (GeoReport v2), which
//! the error mapping uses for every path under `/open311/`; XML escaping for the Atom feed too.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The two formats of every resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json` (also when no extension is given).
    Json,
    /// `.xml`
    Xml,
}

/// The format a path asks for (used for errors, too).
pub fn format_of(path: &str) -> Format {
    if path.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

/// A value both encodings can write: JSON directly, XML with the element names given.
pub(crate) enum Node {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// A list and the element name of each item in XML.
    List(&'static str, Vec<Node>),
    Map(Vec<(&'static str, Node)>),
}

impl Node {
    pub(crate) fn string(s: impl Into<String>) -> Node {
        Node::Text(s.into())
    }

    pub(crate) fn opt(s: Option<impl Into<String>>) -> Node {
        s.map_or(Node::Null, |s| Node::Text(s.into()))
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Text(s) => Value::String(s.clone()),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => Value::from(*f),
            Node::Bool(b) => Value::Bool(*b),
            Node::Null => Value::Null,
            Node::List(_, items) => Value::Array(items.iter().map(Node::json).collect()),
            Node::Map(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.json()))
                    .collect(),
            ),
        }
    }

    pub(crate) fn xml(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        out.push('>');
        match self {
            Node::Text(s) => escape(s, out),
            Node::Int(i) => out.push_str(&i.to_string()),
            Node::Float(f) => out.push_str(&f.to_string()),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Null => {}
            Node::List(item, items) => items.iter().for_each(|i| i.xml(item, out)),
            Node::Map(fields) => fields.iter().for_each(|(k, v)| v.xml(k, out)),
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

/// Escapes text for XML (also the Atom feed of notices).
pub(crate) fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// The response: JSON as is (lists bare), XML under `root`.
pub(crate) fn respond(status: StatusCode, format: Format, root: &str, node: &Node) -> Response {
    match format {
        Format::Json => (status, axum::Json(node.json())).into_response(),
        Format::Xml => {
            let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            node.xml(root, &mut body);
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                body,
            )
                .into_response()
        }
    }
}

/// An error as the standard writes it: `[{"code":…,"description":"…"}]`, or `<errors>` in XML.
pub fn error_response(path: &str, status: StatusCode, description: String) -> Response {
    let node = Node::List(
        "error",
        vec![Node::Map(vec![
            ("code", Node::Int(i64::from(status.as_u16()))),
            ("description", Node::Text(description)),
        ])],
    );
    respond(status, format_of(path), "errors", &node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_text_and_names_list_items() {
        let node = Node::List(
            "request",
            vec![Node::Map(vec![
                ("description", Node::string("a<b & \"c\"\u{1}")),
                ("lat", Node::Null),
            ])],
        );
        let mut out = String::new();
        node.xml("service_requests", &mut out);
        assert_eq!(
            out,
            "<service_requests><request><description>a&lt;b &amp; &quot;c&quot;</description><lat></lat></request></service_requests>"
        );
        assert_eq!(
            node.json().to_string(),
            r#"[{"description":"a<b & \"c\"\u0001","lat":null}]"#
        );
    }
}
