//! Records of notices (公告, 公示), projects, and who has been informed.

use crate::id::ProjectId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use yongxin_domain::notice::{NoticeKind, ScopeKind};

/// A project (项目): a piece of work that concerns the households of chosen villages, such as the
/// four-village integration (四村整合项目).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// Short stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The villages it covers.
    pub village_ids: Vec<i64>,
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Short stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The villages it covers.
    pub village_ids: Vec<i64>,
}

/// A stored notice, as its current version reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Notice {
    /// Id.
    pub id: i64,
    /// Kind.
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    /// Whom it addresses.
    #[sqlx(try_from = "String")]
    pub scope: ScopeKind,
    /// The villages (scope `villages`).
    #[sqlx(skip)]
    pub village_ids: Vec<i64>,
    /// The project (scope `project`).
    pub project_id: Option<ProjectId>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// From when it is public.
    pub publish_at: DateTime<Utc>,
    /// Until when it is current.
    pub end_at: Option<DateTime<Utc>>,
    /// Until when objections are taken (公示).
    pub objections_until: Option<DateTime<Utc>>,
    /// Current version (1 for a notice never corrected).
    pub version: i64,
    /// Who published it.
    pub created_by: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was last corrected.
    pub updated_at: DateTime<Utc>,
    /// Objections raised.
    pub objections: i64,
    /// Of those, settled: answered, declined with a reason, or merged into another case (each
    /// is an answer the objector can read; the name stays for the API).
    pub objections_answered: i64,
}

/// One version of a notice's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NoticeVersion {
    /// 1, 2, …
    pub version: i64,
    /// Title then.
    pub title: String,
    /// Text then.
    pub body: String,
    /// Who wrote this version.
    pub author: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it was corrected (none for the first version).
    pub reason: Option<String>,
}

/// Which notices a list shows.
#[derive(Debug, Clone, Default)]
pub struct NoticeQuery {
    /// Only notices published by then (none: scheduled ones too, for staff).
    pub published_by: Option<DateTime<Utc>>,
    /// Only notices addressing this village: the whole subdistrict's, the village's own and
    /// those of projects covering it.
    pub village_id: Option<i64>,
    /// Only notices of this project.
    pub project_id: Option<ProjectId>,
    /// Only this kind.
    pub kind: Option<NoticeKind>,
    /// Page, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// One page of notices, newest publication first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePage {
    /// The rows.
    pub notices: Vec<Notice>,
    /// Matches over all pages.
    pub total: i64,
}

/// A file attached to a notice, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NoticeAttachment {
    /// Id.
    pub id: i64,
    /// Random part of its address.
    pub token: String,
    /// File name shown and sent.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
}

/// A file to attach, already checked.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// Random part of its address.
    pub token: String,
    /// File name shown and sent.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// How a household came to be informed of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InformedHow {
    /// A member read it signed in.
    Read,
    /// A cadre told them in person and recorded it.
    Confirmed,
}

impl InformedHow {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            InformedHow::Read => "read",
            InformedHow::Confirmed => "confirmed",
        }
    }

    /// Reads a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "read" => Some(InformedHow::Read),
            "confirmed" => Some(InformedHow::Confirmed),
            _ => None,
        }
    }
}

/// That, how, by whom and when a household was informed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Informed {
    /// How.
    pub how: InformedHow,
    /// The reading member's or the confirming cadre's user name.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Informed households of one grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    /// Village.
    pub village_id: i64,
    /// Village name.
    pub village_name: String,
    /// Grid.
    pub grid_id: i64,
    /// Grid name.
    pub grid_name: String,
    /// Households the notice addresses.
    pub households: i64,
    /// Of those, informed.
    pub informed: i64,
}
