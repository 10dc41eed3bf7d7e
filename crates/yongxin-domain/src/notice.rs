//! Notices (公告, 公示): what the office tells people, to whom, from when to when, with the
//! objection window of a results publication, the checks a draft must pass, what changed between
//! two versions, and which attachment files are accepted.

use chrono::{DateTime, Duration, Utc};

code_enum! {
    /// What a notice is for.
    NoticeKind {
        /// 政策公告: a policy and what it means for people.
        Policy = ("policy", "政策"),
        /// 进度公告: how a piece of work is going.
        Progress = ("progress", "进度"),
        /// 结果公示: results published for people to check, with an objection window.
        Publication = ("publication", "公示"),
    }
}

code_enum! {
    /// Whom a notice addresses.
    ScopeKind {
        /// The whole subdistrict.
        Subdistrict = ("subdistrict", "全街道"),
        /// Chosen villages or communities.
        Villages = ("villages", "部分村居"),
        /// The households of a project's villages.
        Project = ("project", "项目"),
    }
}

/// The longest title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest body a person writes.
pub const MAX_BODY_CHARS: usize = 300_000;
/// The longest body the code composes: a results 公示 or a frozen lottery list names every
/// household of a project on its own line (about 60 characters each; 80,000 households).
pub const MAX_COMPOSED_BODY_CHARS: usize = 5_000_000;
/// The longest reason for a correction or an objection.
pub const MAX_REASON_CHARS: usize = 2_000;
/// How long a 公示's objections are taken when the draft names no end of the window.
pub const DEFAULT_OBJECTION_DAYS: i64 = 7;

/// A notice as a cadre drafts it, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeDraft {
    /// Kind.
    pub kind: NoticeKind,
    /// Whom it addresses.
    pub scope: ScopeKind,
    /// The villages (scope `villages`).
    pub village_ids: Vec<i64>,
    /// The project (scope `project`).
    pub project_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Text (plain, paragraphs separated by blank lines).
    pub body: String,
    /// From when it is public.
    pub publish_at: DateTime<Utc>,
    /// Until when it is shown as current (none: until withdrawn).
    pub end_at: Option<DateTime<Utc>>,
    /// Until when objections are taken (公示 only).
    pub objections_until: Option<DateTime<Utc>>,
}

/// Why a draft, a correction or an objection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// A required text is empty.
    #[error("{field} is required")]
    Required {
        /// Which field.
        field: &'static str,
    },
    /// A text is too long.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// The end is not after the publication.
    #[error("the end must come after the publication")]
    EndBeforePublish,
    /// The objection window does not fall between publication and end.
    #[error("the objection window must close after publication and no later than the end")]
    WindowOutsideNotice,
    /// Only a 公示 takes objections.
    #[error("only a results publication takes objections")]
    NoObjections,
    /// Scope `villages` without a village, or `project` without a project.
    #[error("the scope names no village or project")]
    EmptyScope,
    /// The objection window is not open.
    #[error("objections are not taken now")]
    WindowClosed,
}

impl NoticeError {
    /// The message-catalog key that explains the error to a person.
    pub fn message_key(&self) -> &'static str {
        match self {
            NoticeError::Required { .. } => "notice.error.required",
            NoticeError::TooLong { .. } => "notice.error.too_long",
            NoticeError::EndBeforePublish => "notice.error.end_before_publish",
            NoticeError::WindowOutsideNotice => "notice.error.window",
            NoticeError::NoObjections => "notice.error.no_objections",
            NoticeError::EmptyScope => "notice.error.empty_scope",
            NoticeError::WindowClosed => "notice.error.window_closed",
        }
    }
}

/// Whether a notice is there to be read: by anyone once it is published, by cadres before (to
/// check what is scheduled).
pub fn visible(publish_at: DateTime<Utc>, viewer_is_cadre: bool, now: DateTime<Utc>) -> bool {
    publish_at <= now || viewer_is_cadre
}

/// Checks a required text and its length; answers it trimmed.
pub fn checked_text(field: &'static str, text: &str, max: usize) -> Result<String, NoticeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NoticeError::Required { field });
    }
    if text.chars().count() > max {
        return Err(NoticeError::TooLong { field, max });
    }
    Ok(text.to_owned())
}

/// A draft that passed [`NoticeDraft::checked`]: the only kind the store publishes, so a notice
/// cannot reach the record without its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedNotice(NoticeDraft);

impl CheckedNotice {
    /// The checked draft's values.
    pub fn into_draft(self) -> NoticeDraft {
        self.0
    }
}

impl std::ops::Deref for CheckedNotice {
    type Target = NoticeDraft;

    fn deref(&self) -> &NoticeDraft {
        &self.0
    }
}

impl NoticeDraft {
    /// The draft as it may be stored: texts trimmed and checked, the scope's list tidied, a 公示's
    /// window defaulted to [`DEFAULT_OBJECTION_DAYS`] after publication (never past the end).
    pub fn checked(self) -> Result<CheckedNotice, NoticeError> {
        self.checked_within(MAX_BODY_CHARS)
    }

    /// [`NoticeDraft::checked`] for a draft whose body the code composed from records (a
    /// project's results, its frozen list, a consultation's results): the same checks, with the
    /// body bounded by [`MAX_COMPOSED_BODY_CHARS`], since its length grows with the project.
    pub fn composed(self) -> Result<CheckedNotice, NoticeError> {
        self.checked_within(MAX_COMPOSED_BODY_CHARS)
    }

    fn checked_within(mut self, body_max: usize) -> Result<CheckedNotice, NoticeError> {
        self.title = checked_text("title", &self.title, MAX_TITLE_CHARS)?;
        self.body = checked_text("body", &self.body, body_max)?;
        self.village_ids.sort_unstable();
        self.village_ids.dedup();
        match self.scope {
            ScopeKind::Subdistrict => {
                self.village_ids.clear();
                self.project_id = None;
            }
            ScopeKind::Villages => {
                if self.village_ids.is_empty() {
                    return Err(NoticeError::EmptyScope);
                }
                self.project_id = None;
            }
            ScopeKind::Project => {
                if self.project_id.is_none() {
                    return Err(NoticeError::EmptyScope);
                }
                self.village_ids.clear();
            }
        }
        if let Some(end) = self.end_at {
            if end <= self.publish_at {
                return Err(NoticeError::EndBeforePublish);
            }
        }
        if self.kind == NoticeKind::Publication {
            let window = self.objections_until.unwrap_or_else(|| {
                let default = self.publish_at + Duration::days(DEFAULT_OBJECTION_DAYS);
                self.end_at.map_or(default, |end| default.min(end))
            });
            if window <= self.publish_at || self.end_at.is_some_and(|end| window > end) {
                return Err(NoticeError::WindowOutsideNotice);
            }
            self.objections_until = Some(window);
        } else if self.objections_until.is_some() {
            return Err(NoticeError::NoObjections);
        }
        Ok(CheckedNotice(self))
    }
}

impl NoticeDraft {
    /// [`NoticeDraft::checked`] for a draft published at `now`: a 公示 dated in the past starts
    /// now, so its objection window is never over before anyone could see it (an explicit window
    /// that has already closed is refused).
    pub fn checked_at(mut self, now: DateTime<Utc>) -> Result<CheckedNotice, NoticeError> {
        if self.kind == NoticeKind::Publication && self.publish_at < now {
            self.publish_at = now;
        }
        self.checked()
    }
}

/// Where a notice stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeState {
    /// Not yet public.
    Scheduled,
    /// Public and current.
    Current,
    /// Public, past its end (kept for the record).
    Ended,
}

impl NoticeState {
    /// The state at `now`.
    pub fn at(
        publish_at: DateTime<Utc>,
        end_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        if now < publish_at {
            NoticeState::Scheduled
        } else if end_at.is_some_and(|end| now >= end) {
            NoticeState::Ended
        } else {
            NoticeState::Current
        }
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            NoticeState::Scheduled => "scheduled",
            NoticeState::Current => "current",
            NoticeState::Ended => "ended",
        }
    }
}

/// Whether objections to a notice are taken at `now`: a 公示, published, window not yet closed.
pub fn objections_open(
    kind: NoticeKind,
    publish_at: DateTime<Utc>,
    objections_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), NoticeError> {
    if kind != NoticeKind::Publication {
        return Err(NoticeError::NoObjections);
    }
    match objections_until {
        Some(until) if now >= publish_at && now < until => Ok(()),
        _ => Err(NoticeError::WindowClosed),
    }
}

/// One line of the difference between two texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// In both.
    Same(String),
    /// Only in the older text.
    Removed(String),
    /// Only in the newer text.
    Added(String),
}

/// The line-by-line difference from `old` to `new` (longest common subsequence of lines), so a
/// correction shows exactly what it changed.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed((*l).to_owned())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added((*l).to_owned())));
    out
}

code_enum! {
    /// The kinds of file a notice may carry, told by their content, not their name.
    AttachmentKind {
        /// PDF document.
        Pdf = ("pdf", "PDF"),
        /// PNG image.
        Png = ("png", "PNG"),
        /// JPEG image.
        Jpeg = ("jpeg", "JPEG"),
        /// WebP image.
        Webp = ("webp", "WebP"),
        /// Excel workbook (.xlsx).
        Xlsx = ("xlsx", "Excel"),
    }
}

impl AttachmentKind {
    /// The kind of a file's bytes, if it is one that is accepted. An .xlsx is a zip archive whose
    /// first entry list names the workbook part.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(AttachmentKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(AttachmentKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(AttachmentKind::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(AttachmentKind::Webp)
        } else if bytes.starts_with(b"PK\x03\x04")
            && bytes
                .windows(b"xl/workbook.xml".len())
                .any(|w| w == b"xl/workbook.xml")
        {
            Some(AttachmentKind::Xlsx)
        } else {
            None
        }
    }

    /// The media type served.
    pub fn content_type(self) -> &'static str {
        match self {
            AttachmentKind::Pdf => "application/pdf",
            AttachmentKind::Png => "image/png",
            AttachmentKind::Jpeg => "image/jpeg",
            AttachmentKind::Webp => "image/webp",
            AttachmentKind::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// The kind of a stored media type.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.content_type() == content_type)
    }

    /// The file-name extension.
    pub fn extension(self) -> &'static str {
        match self {
            AttachmentKind::Pdf => "pdf",
            AttachmentKind::Png => "png",
            AttachmentKind::Jpeg => "jpg",
            AttachmentKind::Webp => "webp",
            AttachmentKind::Xlsx => "xlsx",
        }
    }
}

/// An attachment's file name as it may be shown and sent: the last path part, without control
/// characters or quotes, at most 100 characters, with the extension of its real kind.
pub fn attachment_name(given: &str, kind: AttachmentKind) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = last
        .rsplit_once('.')
        .map_or(last, |(stem, _)| stem)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ';'))
        .take(90)
        .collect::<String>();
    let stem = stem.trim();
    let stem = if stem.is_empty() { "附件" } else { stem };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_publication_dated_in_the_past_starts_when_it_is_published() {
        let now = at(10, 0);
        let draft = |publish_at, until| NoticeDraft {
            kind: NoticeKind::Publication,
            scope: ScopeKind::Subdistrict,
            village_ids: vec![],
            project_id: None,
            title: "公示".into(),
            body: "正文".into(),
            publish_at,
            end_at: None,
            objections_until: until,
        };
        let d = draft(at(1, 0), None).checked_at(now).expect("clamped");
        assert_eq!(d.publish_at, now);
        assert_eq!(
            d.objections_until,
            Some(now + Duration::days(DEFAULT_OBJECTION_DAYS))
        );
        assert_eq!(
            draft(at(1, 0), Some(at(5, 0))).checked_at(now),
            Err(NoticeError::WindowOutsideNotice),
            "a window already over is refused"
        );
        let later = draft(at(12, 0), None).checked_at(now).expect("future");
        assert_eq!(later.publish_at, at(12, 0), "a future date stands");
        let mut policy = draft(at(1, 0), None);
        policy.kind = NoticeKind::Policy;
        assert_eq!(policy.checked_at(now).expect("policy").publish_at, at(1, 0));
    }
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn draft(kind: NoticeKind) -> NoticeDraft {
        NoticeDraft {
            kind,
            scope: ScopeKind::Subdistrict,
            village_ids: vec![],
            project_id: None,
            title: "  四村整合项目安置政策  ".into(),
            body: "第一条".into(),
            publish_at: at(1, 0),
            end_at: Some(at(20, 0)),
            objections_until: None,
        }
    }

    #[test]
    fn a_publication_gets_a_seven_day_window_within_its_end() {
        let d = draft(NoticeKind::Publication).checked().unwrap();
        assert_eq!(d.title, "四村整合项目安置政策");
        assert_eq!(d.objections_until, Some(at(8, 0)));
        let mut short = draft(NoticeKind::Publication);
        short.end_at = Some(at(4, 0));
        assert_eq!(short.checked().unwrap().objections_until, Some(at(4, 0)));
        let mut open_ended = draft(NoticeKind::Publication);
        open_ended.end_at = None;
        assert_eq!(
            open_ended.checked().unwrap().objections_until,
            Some(at(8, 0))
        );
    }

    #[test]
    fn bad_drafts_are_refused_with_the_reason() {
        let mut d = draft(NoticeKind::Policy);
        d.title = " ".into();
        assert_eq!(d.checked(), Err(NoticeError::Required { field: "title" }));
        let mut d = draft(NoticeKind::Policy);
        d.body = "字".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(
            d.checked(),
            Err(NoticeError::TooLong {
                field: "body",
                max: MAX_BODY_CHARS
            })
        );
        // A composed body may be as long as a large project's list, and no longer.
        let mut d = draft(NoticeKind::Policy);
        d.body = "字".repeat(MAX_BODY_CHARS + 1);
        assert!(d.clone().composed().is_ok());
        d.body = "字".repeat(MAX_COMPOSED_BODY_CHARS + 1);
        assert_eq!(
            d.composed(),
            Err(NoticeError::TooLong {
                field: "body",
                max: MAX_COMPOSED_BODY_CHARS
            })
        );
        let mut d = draft(NoticeKind::Policy);
        d.end_at = Some(at(1, 0));
        assert_eq!(d.checked(), Err(NoticeError::EndBeforePublish));
        let mut d = draft(NoticeKind::Policy);
        d.objections_until = Some(at(3, 0));
        assert_eq!(d.checked(), Err(NoticeError::NoObjections));
        let mut d = draft(NoticeKind::Publication);
        d.objections_until = Some(at(21, 0));
        assert_eq!(d.checked(), Err(NoticeError::WindowOutsideNotice));
        let mut d = draft(NoticeKind::Publication);
        d.objections_until = Some(at(1, 0));
        assert_eq!(d.checked(), Err(NoticeError::WindowOutsideNotice));
        let mut d = draft(NoticeKind::Policy);
        d.scope = ScopeKind::Villages;
        assert_eq!(d.checked(), Err(NoticeError::EmptyScope));
        let mut d = draft(NoticeKind::Policy);
        d.scope = ScopeKind::Project;
        d.village_ids = vec![3];
        assert_eq!(d.checked(), Err(NoticeError::EmptyScope));
    }

    #[test]
    fn the_scope_keeps_only_what_it_names() {
        let mut d = draft(NoticeKind::Progress);
        d.scope = ScopeKind::Villages;
        d.village_ids = vec![3, 1, 3];
        d.project_id = Some(9);
        let d = d.checked().unwrap();
        assert_eq!((d.village_ids.clone(), d.project_id), (vec![1, 3], None));
        let mut d = draft(NoticeKind::Progress);
        d.scope = ScopeKind::Project;
        d.project_id = Some(9);
        d.village_ids = vec![1];
        let d = d.checked().unwrap();
        assert_eq!((d.village_ids.clone(), d.project_id), (vec![], Some(9)));
    }

    #[test]
    fn states_and_the_objection_window_follow_the_clock() {
        assert_eq!(
            NoticeState::at(at(2, 0), Some(at(5, 0)), at(1, 0)),
            NoticeState::Scheduled
        );
        assert_eq!(
            NoticeState::at(at(2, 0), Some(at(5, 0)), at(2, 0)),
            NoticeState::Current
        );
        assert_eq!(
            NoticeState::at(at(2, 0), Some(at(5, 0)), at(5, 0)),
            NoticeState::Ended
        );
        assert_eq!(
            NoticeState::at(at(2, 0), None, at(28, 0)),
            NoticeState::Current
        );
        let p = NoticeKind::Publication;
        assert_eq!(
            objections_open(p, at(2, 0), Some(at(9, 0)), at(1, 23)),
            Err(NoticeError::WindowClosed)
        );
        assert_eq!(
            objections_open(p, at(2, 0), Some(at(9, 0)), at(2, 0)),
            Ok(())
        );
        assert_eq!(
            objections_open(p, at(2, 0), Some(at(9, 0)), at(9, 0)),
            Err(NoticeError::WindowClosed)
        );
        assert_eq!(
            objections_open(NoticeKind::Policy, at(2, 0), None, at(3, 0)),
            Err(NoticeError::NoObjections)
        );
    }

    #[test]
    fn the_diff_shows_what_a_correction_changed() {
        use DiffLine::*;
        let diff = line_diff("甲\n乙\n丙\n丁", "甲\n乙二\n丙\n丁\n戊");
        assert_eq!(
            diff,
            vec![
                Same("甲".into()),
                Removed("乙".into()),
                Added("乙二".into()),
                Same("丙".into()),
                Same("丁".into()),
                Added("戊".into())
            ]
        );
        assert_eq!(line_diff("", "新"), vec![Added("新".into())]);
        assert_eq!(line_diff("旧", ""), vec![Removed("旧".into())]);
        // Whatever the texts, the old lines are the diff without its additions, and the new ones
        // without its removals.
        let (old, new) = ("a\nb\nc\nb\na", "b\na\nc\nc\nb");
        let d = line_diff(old, new);
        let keep = |f: fn(&DiffLine) -> Option<&str>| {
            d.iter().filter_map(f).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(
            keep(|l| match l {
                Same(s) | Removed(s) => Some(s),
                Added(_) => None,
            }),
            old
        );
        assert_eq!(
            keep(|l| match l {
                Same(s) | Added(s) => Some(s),
                Removed(_) => None,
            }),
            new
        );
    }

    #[test]
    fn attachments_are_told_by_their_content() {
        assert_eq!(
            AttachmentKind::sniff(b"%PDF-1.7\n"),
            Some(AttachmentKind::Pdf)
        );
        assert_eq!(
            AttachmentKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(AttachmentKind::Png)
        );
        assert_eq!(
            AttachmentKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(AttachmentKind::Jpeg)
        );
        assert_eq!(
            AttachmentKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(AttachmentKind::Webp)
        );
        assert_eq!(
            AttachmentKind::sniff(b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml"),
            Some(AttachmentKind::Xlsx)
        );
        assert_eq!(AttachmentKind::sniff(b"PK\x03\x04 a plain zip"), None);
        assert_eq!(AttachmentKind::sniff(b"MZ\x90\0 an executable"), None);
        assert_eq!(AttachmentKind::sniff(b""), None);
        assert_eq!(
            attachment_name("C:\\docs\\安置政策.PDF", AttachmentKind::Pdf),
            "安置政策.pdf"
        );
        assert_eq!(
            attachment_name("../../evil\".exe", AttachmentKind::Png),
            "evil.png"
        );
        assert_eq!(attachment_name("", AttachmentKind::Xlsx), "附件.xlsx");
    }
}

#[cfg(test)]
mod visibility_tests {
    use super::*;

    #[test]
    fn a_scheduled_notice_is_seen_by_cadres_only() {
        let now = Utc::now();
        let later = now + Duration::hours(1);
        assert!(!visible(later, false, now));
        assert!(visible(later, true, now));
        assert!(visible(now, false, now), "published this instant");
    }
}
