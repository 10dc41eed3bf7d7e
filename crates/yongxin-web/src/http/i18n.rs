//! Message catalogs (zh-CN first, English) and the language a request is served in.
//!
//! Every string a person reads comes from `locales/*.toml`; templates and code name keys only.
//! A message may hold `{name}` placeholders filled by [`Catalog::format`].

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language the interface is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Both languages, the default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (`zh-CN`, `en`), used in the cookie and `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Reads a tag; anything starting with `en` is English, `zh` Chinese.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// This language's catalog.
    pub fn catalog(self) -> &'static Catalog {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::En => &EN,
        }
    }
}

/// The messages of one language.
#[derive(Debug)]
pub struct Catalog {
    lang: Lang,
    messages: HashMap<String, String>,
}

static ZH_CN: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::parse(Lang::ZhCn, include_str!("../../locales/zh-CN.toml")));
static EN: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::parse(Lang::En, include_str!("../../locales/en.toml")));

impl Catalog {
    fn parse(lang: Lang, source: &str) -> Self {
        // The catalogs are compiled in and checked by tests, so a parse failure is a build defect.
        let table: toml::Table = toml::from_str(source).expect("message catalog is valid TOML");
        let mut messages = HashMap::new();
        flatten("", &table, &mut messages);
        Self { lang, messages }
    }

    /// The language of this catalog.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message for a key; a missing key shows itself, so it is visible rather than blank.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The message for a key with `{name}` placeholders filled.
    pub fn format(&self, key: &str, params: &[(&str, String)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in params {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Items one after another with the language's separator (`、` or `, `).
    pub fn join<S: AsRef<str>>(&self, items: impl IntoIterator<Item = S>) -> String {
        let separator = self.t("list.separator");
        let mut out = String::new();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(item.as_ref());
        }
        out
    }

    /// Every key, for tests that compare catalogs.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let zh: BTreeSet<_> = Lang::ZhCn.catalog().keys().collect();
        let en: BTreeSet<_> = Lang::En.catalog().keys().collect();
        assert_eq!(
            zh.difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "only in zh-CN"
        );
        assert_eq!(
            en.difference(&zh).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "only in en"
        );
        assert!(zh.len() > 50);
    }

    #[test]
    fn every_key_named_in_templates_and_code_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        // Every file under both folders, however deep: areas keep their pages in folders.
        let mut files = Vec::new();
        let mut dirs = vec![
            std::path::PathBuf::from(format!("{root}templates")),
            std::path::PathBuf::from(format!("{root}src")),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 60, "the walk found the sources");
        for path in files {
            let text = std::fs::read_to_string(&path).expect("read");
            for marker in ["t(\"", "format(\"", "msg(\""] {
                // A whole name only: `c.t("…")`, not `routes.get("…")`.
                for (at, _) in text.match_indices(marker) {
                    if text[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    {
                        continue;
                    }
                    let part = &text[at + marker.len()..];
                    let key = part.split('"').next().unwrap_or("");
                    if key.contains('.')
                        && !key.contains(' ')
                        && !key.contains('{')
                        && !Lang::ZhCn.catalog().messages.contains_key(key)
                    {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalog: {missing:#?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let c = Lang::En.catalog();
        assert!(c
            .format("error.too_many_attempts", &[("minutes", "15".into())])
            .contains("15"));
        assert_eq!(Lang::parse("en-US"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-Hans-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("fr"), None);
    }
}
