//! 电子邮箱: e-mail addresses residents and cadres may be told things at.

use std::fmt;

/// Why a string is not an e-mail address we can send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an e-mail address looks like name@example.cn")]
pub struct EmailError;

/// An address of the form `local@domain.tld`, checked only as far as a mail server would refuse
/// it outright: one `@`, a dotted domain of letters, digits and hyphens, no spaces or controls.
/// Whether the mailbox exists is for the mail server to say.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address, trimming spaces around it; the domain is lower-cased.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok && s.len() <= 254 {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(EmailError)
        }
    }

    /// The full address. Callers that show it must be allowed to and must log the view.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Masks a stored address the way lists show it: the first character of the mailbox, then
/// asterisks, then the domain (`z***@example.cn`).
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => "*".repeat(s.chars().count()),
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", mask_email(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_with_the_domain_lower_cased() {
        for (input, stored) in [
            ("zhang.san@example.cn", "zhang.san@example.cn"),
            (
                "  wang+appeals@Mail.Jinan.GOV.cn ",
                "wang+appeals@mail.jinan.gov.cn",
            ),
            ("13800138000@139.com", "13800138000@139.com"),
            ("a@b-c.org", "a@b-c.org"),
        ] {
            assert_eq!(
                Email::parse(input).expect("valid").as_str(),
                stored,
                "{input}"
            );
        }
    }

    #[test]
    fn what_no_mail_server_would_take_is_refused() {
        for bad in [
            "",
            "zhang",
            "@example.cn",
            "zhang@",
            "zhang@localhost",
            "zhang san@example.cn",
            "zhang@exa mple.cn",
            ".zhang@example.cn",
            "zhang.@example.cn",
            "zh..ang@example.cn",
            "zhang@-example.cn",
            "zhang@example..cn",
            "张三@example.cn",
            "zhang@example.cn\r\nBcc: x@y.cn",
            "a@b@example.cn",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad:?}");
        }
        let long = format!("{}@example.cn", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError));
    }

    #[test]
    fn masking_keeps_the_first_character_and_the_domain() {
        assert_eq!(mask_email("zhang.san@example.cn"), "z***@example.cn");
        assert_eq!(mask_email("nonsense"), "********");
        assert_eq!(
            format!("{:?}", Email::parse("li@x.cn").expect("valid")),
            "Email(l***@x.cn)"
        );
    }
}
