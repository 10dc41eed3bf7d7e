//! 诉求办理: the lifecycle of an appeal, as a pure state machine.
//!
//! submitted → accepted (受理) | declined (不予受理) → assigned (派单) → contacted → in progress →
//! answered (办结) → rated (回访) → closed. A dissatisfied rating reopens the case (重办) until the
//! policy's limit; a case may be transferred (转办) or returned for re-dispatch (退回) with a
//! reason, merged into another (并单), and an unrated answer closes by itself after some days.
//! Who may take which action is decided at the edge; here is only what the case allows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::calendar::{Card, WorkingCalendar};

/// Longest text a person may write into a case (description, note, reply, reason).
pub const MAX_TEXT_CHARS: usize = 4000;

code_enum! {
    /// Where a case stands.
    AppealStatus {
        /// 已提交: waiting to be accepted.
        Submitted = "submitted",
        /// 已受理: accepted, waiting to be dispatched.
        Accepted = "accepted",
        /// 不予受理: declined with a reason (final).
        Declined = "declined",
        /// 已派单: with a department or cadre.
        Assigned = "assigned",
        /// 已联系: the handler has contacted the resident.
        Contacted = "contacted",
        /// 办理中
        InProgress = "in_progress",
        /// 已办结: answered, waiting for the resident's rating.
        Answered = "answered",
        /// 已关闭 (final)
        Closed = "closed",
        /// 已并单: merged into another case (final).
        Merged = "merged",
    }
}

impl AppealStatus {
    /// Whether the case still needs work or a rating.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            AppealStatus::Declined | AppealStatus::Closed | AppealStatus::Merged
        )
    }

    /// Open311's two states.
    pub fn open311(self) -> &'static str {
        if self.is_open() {
            "open"
        } else {
            "closed"
        }
    }
}

code_enum! {
    /// The two deadlines of a case.
    Deadline {
        /// 联系时限: to contact the resident.
        Contact = "contact",
        /// 办结时限: to answer.
        Resolution = "resolution",
    }
}

/// What of a case decides the cards it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineClock {
    /// Where it stands.
    pub status: AppealStatus,
    /// When the case was filed: the clocks run from here.
    pub started_at: DateTime<Utc>,
    /// When the resident was contacted.
    pub contacted_at: Option<DateTime<Utc>>,
    /// The contact deadline.
    pub contact_due: DateTime<Utc>,
    /// When it was answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// The resolution deadline.
    pub resolution_due: DateTime<Utc>,
}

/// The card a case carries at `now` against each of its deadlines: only a deadline the case is
/// still waiting on can carry one, and an answered case waits on neither.
pub fn deadline_cards(
    calendar: &WorkingCalendar,
    now: DateTime<Utc>,
    c: &DeadlineClock,
) -> [(Deadline, Card); 2] {
    let open = c.status.is_open() && c.status != AppealStatus::Answered;
    let card = |waiting: bool, due: DateTime<Utc>| {
        if !(open && waiting) {
            return Card::None;
        }
        match calendar.card(now, due) {
            // 临期 means most of the time is gone, not that the deadline is near on the calendar:
            // a case filed a minute ago whose one-day contact deadline falls tomorrow is not yet
            // a warning. Yellow once half the time from filing to the deadline has passed.
            Card::Yellow if now < c.started_at + (due - c.started_at) / 2 => Card::None,
            card => card,
        }
    };
    [
        (
            Deadline::Contact,
            card(c.contacted_at.is_none(), c.contact_due),
        ),
        (
            Deadline::Resolution,
            card(c.answered_at.is_none(), c.resolution_due),
        ),
    ]
}

code_enum! {
    /// 我的工作: the tab of a cadre's own work a case belongs to, one tab per case, the most
    /// pressing first: a case past a deadline is 超期 whatever else it waits on.
    WorkTab {
        /// 超期: a deadline it still waits on has passed.
        Overdue = "overdue",
        /// 临期: a deadline it waits on is near (a yellow card).
        NearDeadline = "near",
        /// 待联系: the resident is still to be contacted.
        ToContact = "to_contact",
        /// 办理中: contacted, the answer still to give.
        InProgress = "in_progress",
        /// 待回访: answered, the rating still to come.
        ToFollowUp = "to_follow_up",
    }
}

/// Where a case stands in a cadre's work: its tab, and the deadline the card is about (the one
/// that passed or is nearest among those it waits on; none once answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkFocus {
    /// The tab.
    pub tab: WorkTab,
    /// The deadline the card names, and when it falls.
    pub deadline: Option<(Deadline, DateTime<Utc>)>,
}

/// The tab and deadline of a case in its handler's work at `now`; `None` for a case that needs
/// nothing of them (closed, declined, merged, or not yet dispatched).
pub fn work_focus(
    calendar: &WorkingCalendar,
    now: DateTime<Utc>,
    c: &DeadlineClock,
) -> Option<WorkFocus> {
    use AppealStatus as S;
    match c.status {
        S::Answered => {
            return Some(WorkFocus {
                tab: WorkTab::ToFollowUp,
                deadline: None,
            })
        }
        S::Assigned | S::Contacted | S::InProgress => {}
        _ => return None,
    }
    let cards = deadline_cards(calendar, now, c);
    let due = |d: Deadline| match d {
        Deadline::Contact => c.contact_due,
        Deadline::Resolution => c.resolution_due,
    };
    let worst = |colour: Card| {
        cards
            .iter()
            .filter(|(_, card)| *card == colour)
            .map(|(d, _)| (*d, due(*d)))
            .min_by_key(|(_, at)| *at)
    };
    let waiting_contact = c.contacted_at.is_none();
    let next = if waiting_contact {
        (Deadline::Contact, c.contact_due)
    } else {
        (Deadline::Resolution, c.resolution_due)
    };
    let (tab, deadline) = if let Some(d) = worst(Card::Red) {
        (WorkTab::Overdue, d)
    } else if let Some(d) = worst(Card::Yellow) {
        (WorkTab::NearDeadline, d)
    } else if waiting_contact {
        (WorkTab::ToContact, next)
    } else {
        (WorkTab::InProgress, next)
    };
    Some(WorkFocus {
        tab,
        deadline: Some(deadline),
    })
}

/// Whether a role dispatches a case (派单): every case, or the cases of the village it serves.
pub fn dispatches(role: crate::Role, user_village: Option<i64>, case_village: Option<i64>) -> bool {
    use crate::Permission;
    role.may(Permission::DispatchAllAppeals)
        || (role.may(Permission::DispatchVillageAppeals)
            && user_village.is_some()
            && case_village == user_village)
}

/// The actions offered on a case in `status` to someone who dispatches it, handles it (is its
/// cadre, or dispatches it), may rate it (its resident), or may record the rating a resident gives
/// on the phone (a cadre who is not its handler) — in the order the page shows them.
pub fn offered_actions(
    status: AppealStatus,
    dispatcher: bool,
    handler: bool,
    (may_rate, may_call): (bool, bool),
) -> Vec<&'static str> {
    use AppealStatus as S;
    let handling = matches!(status, S::Assigned | S::Contacted | S::InProgress);
    let mut out = Vec::new();
    if dispatcher && status == S::Submitted {
        out.extend(["accept", "decline"]);
    }
    if dispatcher && status == S::Accepted {
        out.push("assign");
    }
    if handler && status == S::Assigned {
        out.push("contact");
    }
    if handler && (handling || status == S::Answered) {
        out.push("note");
    }
    if handler && handling {
        out.extend(["answer", "transfer", "return"]);
    }
    if may_rate && status == S::Answered {
        out.push("rate");
    }
    if may_call && status == S::Answered {
        out.push("rate_by_call");
    }
    out
}

/// The period the three rates are asked for, as days in Shanghai: the year to `today` when
/// nothing is given, each end as `YYYY-MM-DD`. A refusal names the parameter at fault (`from`,
/// `to`; `to` also when it comes before `from`).
pub fn stats_period(
    today: chrono::NaiveDate,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), &'static str> {
    let day = |v: Option<&str>, name: &'static str, default| match v
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(default),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| name),
    };
    let from = day(from, "from", today - chrono::Duration::days(365))?;
    let to = day(to, "to", today)?;
    if to < from {
        return Err("to");
    }
    Ok((from, to))
}

/// A case number as a person types it: full-width digits read as digits, spaces, dashes and
/// anything else ignored.
pub fn typed_number(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect()
}

code_enum! {
    /// 紧急程度
    Urgency {
        /// 一般
        Normal = "normal",
        /// 紧急
        Urgent = "urgent",
    }
}

code_enum! {
    /// 回访评价: the resident's rating of the answer.
    Rating {
        /// 满意
        Satisfied = "satisfied",
        /// 基本满意
        BasicallySatisfied = "basically_satisfied",
        /// 不满意
        Dissatisfied = "dissatisfied",
    }
}

impl Rating {
    /// Whether the rating counts toward the satisfaction rate.
    pub fn is_satisfied(self) -> bool {
        self != Rating::Dissatisfied
    }
}

code_enum! {
    /// 来源渠道: how the appeal arrived.
    Channel {
        /// Resident web form, signed in.
        Web = "web",
        /// Web form without an account (name and phone given).
        Anonymous = "anonymous",
        /// 电话: entered at the desk from a phone call.
        Phone = "phone",
        /// 来访: entered at the desk for a walk-in.
        WalkIn = "walk_in",
        /// 走访: raised during a door-to-door visit.
        Visit = "visit",
        /// 来信
        Letter = "letter",
        /// JSON API.
        Api = "api",
        /// Open311 GeoReport v2.
        Open311 = "open311",
    }
}

/// What the office (or the resident) does to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealAction {
    /// 受理
    Accept,
    /// 不予受理, with the reason told to the resident.
    Decline {
        /// Why.
        reason: String,
    },
    /// 派单 to a department and/or a cadre.
    Assign {
        /// Department name, if any.
        department: Option<String>,
        /// Cadre's user id, if any.
        cadre: Option<i64>,
    },
    /// 转办: to another department or cadre, with a reason.
    Transfer {
        /// Why.
        reason: String,
        /// New department, if any.
        department: Option<String>,
        /// New cadre, if any.
        cadre: Option<i64>,
    },
    /// 退回: back to dispatch, with a reason.
    Return {
        /// Why.
        reason: String,
    },
    /// The handler has reached the resident.
    Contact,
    /// A note; some are shown to the resident.
    Note {
        /// The note.
        text: String,
        /// Whether the resident sees it.
        visible: bool,
    },
    /// 办结, with the written reply.
    Answer {
        /// The reply.
        reply: String,
    },
    /// 回访: the resident's rating.
    Rate {
        /// The rating.
        rating: Rating,
        /// Why, in the resident's words (the forms ask it of a dissatisfied rating); the handler
        /// and the resident see it in the history.
        reason: Option<String>,
    },
    /// 回访 by phone: the rating the resident gave on the phone to a cadre who is not the case's
    /// handler, recorded by that cadre (who called is the actor), with when the call was made.
    RateByCall {
        /// The rating.
        rating: Rating,
        /// Why, in the resident's words, as the caller noted them.
        reason: Option<String>,
        /// When the call was made.
        called_at: chrono::DateTime<chrono::Utc>,
    },
    /// 并单 into another case.
    Merge {
        /// The case this one joins.
        into: i64,
    },
    /// Closing an answer nobody rated in time.
    AutoClose,
}

impl AppealAction {
    /// The stable code of the action (`accept`, `decline`, …).
    pub fn code(&self) -> &'static str {
        match self {
            AppealAction::Accept => "accept",
            AppealAction::Decline { .. } => "decline",
            AppealAction::Assign { .. } => "assign",
            AppealAction::Transfer { .. } => "transfer",
            AppealAction::Return { .. } => "return",
            AppealAction::Contact => "contact",
            AppealAction::Note { .. } => "note",
            AppealAction::Answer { .. } => "answer",
            AppealAction::Rate { .. } => "rate",
            AppealAction::RateByCall { .. } => "rate_by_call",
            AppealAction::Merge { .. } => "merge",
            AppealAction::AutoClose => "auto_close",
        }
    }
}

/// Who must hear of a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The resident: accepted.
    ResidentAccepted,
    /// The resident: declined, with the reason.
    ResidentDeclined,
    /// The resident: answered, please rate.
    ResidentAnswered,
    /// The resident: closed.
    ResidentClosed,
    /// The resident: merged into another case that now carries theirs.
    ResidentMerged,
    /// The assigned cadre: a new case.
    CadreAssigned,
}

/// The settings the lifecycle follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealPolicy {
    /// How many times dissatisfied ratings may reopen a case.
    pub reopen_limit: u32,
}

impl Default for AppealPolicy {
    fn default() -> Self {
        Self { reopen_limit: 2 }
    }
}

/// What the lifecycle needs to know of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealState {
    /// Where it stands.
    pub status: AppealStatus,
    /// Times it was reopened.
    pub reopen_count: u32,
}

/// The outcome of an allowed action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The new status.
    pub to: AppealStatus,
    /// Whether this reopened the case (重办).
    pub reopened: bool,
    /// Whether this counts as the first contact (an answer given without a separate contact).
    pub contacted: bool,
    /// Who must be told.
    pub notices: Vec<Notice>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppealError {
    /// The case's status does not allow the action.
    #[error("a case that is {status:?} cannot be given the action {action}")]
    NotAllowed {
        /// The action's code.
        action: &'static str,
        /// The case's status.
        status: AppealStatus,
    },
    /// A required text is empty.
    #[error("{field} is required")]
    Required {
        /// Which text.
        field: &'static str,
    },
    /// A text is longer than [`MAX_TEXT_CHARS`].
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// Which text.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// An assignment names neither a department nor a cadre.
    #[error("an assignment needs a department or a cadre")]
    NoAssignee,
    /// A case cannot be merged into itself.
    #[error("a case cannot be merged into itself")]
    MergeIntoSelf,
}

/// Checks a text a person wrote: present when `required`, at most [`MAX_TEXT_CHARS`].
pub fn check_text(field: &'static str, text: &str, required: bool) -> Result<(), AppealError> {
    if required && text.trim().is_empty() {
        return Err(AppealError::Required { field });
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppealError::TooLong {
            field,
            max: MAX_TEXT_CHARS,
        });
    }
    Ok(())
}

impl AppealState {
    /// A new case.
    pub fn new() -> Self {
        Self {
            status: AppealStatus::Submitted,
            reopen_count: 0,
        }
    }

    /// Decides what an action does to the case with id `self_id`, or why it cannot be taken.
    pub fn apply(
        &self,
        self_id: i64,
        action: &AppealAction,
        policy: &AppealPolicy,
    ) -> Result<Transition, AppealError> {
        use AppealStatus as S;
        let status = self.status;
        let refuse = || AppealError::NotAllowed {
            action: action.code(),
            status,
        };
        let go = |to: AppealStatus, notices: Vec<Notice>| Transition {
            to,
            reopened: false,
            contacted: false,
            notices,
        };
        let handling = matches!(status, S::Assigned | S::Contacted | S::InProgress);
        match action {
            AppealAction::Accept if status == S::Submitted => {
                Ok(go(S::Accepted, vec![Notice::ResidentAccepted]))
            }
            AppealAction::Decline { reason } if status == S::Submitted => {
                check_text("reason", reason, true)?;
                Ok(go(S::Declined, vec![Notice::ResidentDeclined]))
            }
            AppealAction::Assign { department, cadre } if status == S::Accepted => {
                if department.as_deref().is_none_or(|d| d.trim().is_empty()) && cadre.is_none() {
                    return Err(AppealError::NoAssignee);
                }
                Ok(go(S::Assigned, vec![Notice::CadreAssigned]))
            }
            AppealAction::Transfer {
                reason,
                department,
                cadre,
            } if handling => {
                check_text("reason", reason, true)?;
                if department.as_deref().is_none_or(|d| d.trim().is_empty()) && cadre.is_none() {
                    return Err(AppealError::NoAssignee);
                }
                Ok(go(S::Assigned, vec![Notice::CadreAssigned]))
            }
            AppealAction::Return { reason } if handling => {
                check_text("reason", reason, true)?;
                Ok(go(S::Accepted, vec![]))
            }
            AppealAction::Contact if status == S::Assigned => Ok(go(S::Contacted, vec![])),
            AppealAction::Note { text, .. } if handling || status == S::Answered => {
                check_text("note", text, true)?;
                let to = if matches!(status, S::Contacted | S::InProgress) {
                    S::InProgress
                } else {
                    status
                };
                Ok(go(to, vec![]))
            }
            AppealAction::Answer { reply } if handling => {
                check_text("reply", reply, true)?;
                let mut t = go(S::Answered, vec![Notice::ResidentAnswered]);
                t.contacted = status == S::Assigned;
                Ok(t)
            }
            AppealAction::Rate { rating, reason }
            | AppealAction::RateByCall { rating, reason, .. }
                if status == S::Answered =>
            {
                if let Some(r) = reason {
                    check_text("reason", r, false)?;
                }
                if *rating == Rating::Dissatisfied && self.reopen_count < policy.reopen_limit {
                    let mut t = go(S::Assigned, vec![Notice::CadreAssigned]);
                    t.reopened = true;
                    Ok(t)
                } else {
                    Ok(go(S::Closed, vec![Notice::ResidentClosed]))
                }
            }
            AppealAction::AutoClose if status == S::Answered => {
                Ok(go(S::Closed, vec![Notice::ResidentClosed]))
            }
            AppealAction::Merge { into } if status.is_open() && status != S::Answered => {
                if *into == self_id {
                    return Err(AppealError::MergeIntoSelf);
                }
                Ok(go(S::Merged, vec![Notice::ResidentMerged]))
            }
            _ => Err(refuse()),
        }
    }
}

impl Default for AppealState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppealStatus as S;

    fn actions() -> Vec<AppealAction> {
        vec![
            AppealAction::Accept,
            AppealAction::Decline {
                reason: "不属于受理范围".into(),
            },
            AppealAction::Assign {
                department: Some("城管科".into()),
                cadre: None,
            },
            AppealAction::Transfer {
                reason: "职责不符".into(),
                department: None,
                cadre: Some(7),
            },
            AppealAction::Return {
                reason: "派错".into(),
            },
            AppealAction::Contact,
            AppealAction::Note {
                text: "已到现场".into(),
                visible: true,
            },
            AppealAction::Answer {
                reply: "已修复".into(),
            },
            AppealAction::Rate {
                rating: Rating::Satisfied,
                reason: None,
            },
            AppealAction::RateByCall {
                rating: Rating::BasicallySatisfied,
                reason: None,
                called_at: chrono::DateTime::UNIX_EPOCH,
            },
            AppealAction::Merge { into: 99 },
            AppealAction::AutoClose,
        ]
    }

    /// The whole table: for every status and action, the status it leads to, or `None` if refused.
    fn expected(status: S, action: &str) -> Option<S> {
        let handling = matches!(status, S::Assigned | S::Contacted | S::InProgress);
        match (status, action) {
            (S::Submitted, "accept") => Some(S::Accepted),
            (S::Submitted, "decline") => Some(S::Declined),
            (S::Accepted, "assign") => Some(S::Assigned),
            (_, "transfer") if handling => Some(S::Assigned),
            (_, "return") if handling => Some(S::Accepted),
            (S::Assigned, "contact") => Some(S::Contacted),
            (S::Assigned, "note") => Some(S::Assigned),
            (S::Contacted | S::InProgress, "note") => Some(S::InProgress),
            (S::Answered, "note") => Some(S::Answered),
            (_, "answer") if handling => Some(S::Answered),
            (S::Answered, "rate") | (S::Answered, "rate_by_call") | (S::Answered, "auto_close") => {
                Some(S::Closed)
            }
            (S::Submitted | S::Accepted | S::Assigned | S::Contacted | S::InProgress, "merge") => {
                Some(S::Merged)
            }
            _ => None,
        }
    }

    #[test]
    fn every_status_and_action_follows_the_table() {
        let policy = AppealPolicy::default();
        for status in S::ALL {
            for action in actions() {
                let state = AppealState {
                    status: *status,
                    reopen_count: 0,
                };
                let got = state.apply(1, &action, &policy).map(|t| t.to);
                match expected(*status, action.code()) {
                    Some(to) => assert_eq!(got, Ok(to), "{status:?} + {}", action.code()),
                    None => assert_eq!(
                        got,
                        Err(AppealError::NotAllowed {
                            action: action.code(),
                            status: *status
                        }),
                        "{status:?} + {}",
                        action.code()
                    ),
                }
            }
        }
    }

    #[test]
    fn dissatisfied_reopens_until_the_limit() {
        let policy = AppealPolicy { reopen_limit: 2 };
        let rate = AppealAction::Rate {
            rating: Rating::Dissatisfied,
            reason: None,
        };
        for (count, reopened) in [(0, true), (1, true), (2, false), (3, false)] {
            let t = AppealState {
                status: S::Answered,
                reopen_count: count,
            }
            .apply(1, &rate, &policy)
            .expect("allowed");
            assert_eq!(t.reopened, reopened, "after {count} reopenings");
            assert_eq!(t.to, if reopened { S::Assigned } else { S::Closed });
        }
        let t = AppealState {
            status: S::Answered,
            reopen_count: 0,
        }
        .apply(
            1,
            &AppealAction::Rate {
                rating: Rating::BasicallySatisfied,
                reason: None,
            },
            &policy,
        )
        .expect("allowed");
        assert_eq!(
            (t.to, t.reopened, t.notices),
            (S::Closed, false, vec![Notice::ResidentClosed])
        );
        let none = AppealPolicy { reopen_limit: 0 };
        assert_eq!(
            AppealState {
                status: S::Answered,
                reopen_count: 0
            }
            .apply(1, &rate, &none)
            .expect("ok")
            .to,
            S::Closed
        );
    }

    #[test]
    fn reasons_replies_and_assignees_are_required() {
        let p = AppealPolicy::default();
        let submitted = AppealState::new();
        assert_eq!(
            submitted.apply(
                1,
                &AppealAction::Decline {
                    reason: "  ".into()
                },
                &p
            ),
            Err(AppealError::Required { field: "reason" })
        );
        let accepted = AppealState {
            status: S::Accepted,
            reopen_count: 0,
        };
        assert_eq!(
            accepted.apply(
                1,
                &AppealAction::Assign {
                    department: Some(" ".into()),
                    cadre: None
                },
                &p
            ),
            Err(AppealError::NoAssignee)
        );
        let assigned = AppealState {
            status: S::Assigned,
            reopen_count: 0,
        };
        assert_eq!(
            assigned.apply(
                1,
                &AppealAction::Answer {
                    reply: String::new()
                },
                &p
            ),
            Err(AppealError::Required { field: "reply" })
        );
        let long = "字".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            assigned.apply(
                1,
                &AppealAction::Note {
                    text: long,
                    visible: false
                },
                &p
            ),
            Err(AppealError::TooLong {
                field: "note",
                max: MAX_TEXT_CHARS
            })
        );
        assert!(check_text("description", &"字".repeat(MAX_TEXT_CHARS), true).is_ok());
        assert_eq!(
            assigned.apply(5, &AppealAction::Merge { into: 5 }, &p),
            Err(AppealError::MergeIntoSelf)
        );
        assert_eq!(
            assigned
                .apply(5, &AppealAction::Merge { into: 6 }, &p)
                .expect("merged")
                .notices,
            vec![Notice::ResidentMerged],
            "the resident of a merged case is told"
        );
    }

    #[test]
    fn an_answer_without_a_contact_counts_as_the_contact_and_notices_go_out() {
        let p = AppealPolicy::default();
        let t = AppealState {
            status: S::Assigned,
            reopen_count: 0,
        }
        .apply(
            1,
            &AppealAction::Answer {
                reply: "好".into()
            },
            &p,
        )
        .expect("ok");
        assert!(t.contacted);
        assert_eq!(t.notices, vec![Notice::ResidentAnswered]);
        let t = AppealState {
            status: S::InProgress,
            reopen_count: 0,
        }
        .apply(
            1,
            &AppealAction::Answer {
                reply: "好".into()
            },
            &p,
        )
        .expect("ok");
        assert!(!t.contacted);
        assert_eq!(
            AppealState::new()
                .apply(1, &AppealAction::Accept, &p)
                .expect("ok")
                .notices,
            vec![Notice::ResidentAccepted]
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.code()), Some(*s));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.code()), Some(*c));
        }
        assert_eq!(S::Closed.open311(), "closed");
        assert_eq!(S::InProgress.open311(), "open");
        assert!(Rating::BasicallySatisfied.is_satisfied());
        assert!(!Rating::Dissatisfied.is_satisfied());
    }
}

/// The working days a supervision notice (督办) gives to answer: two unless the supervisor says
/// otherwise, at most thirty. Blank means the default; anything else that is not 1–30 is `None`.
pub fn supervision_days(given: Option<&str>) -> Option<u32> {
    match given.map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(2),
        Some(d) => d.parse().ok().filter(|d| (1..=30).contains(d)),
    }
}

#[cfg(test)]
mod supervision_days_tests {
    use super::supervision_days;

    #[test]
    fn two_working_days_unless_one_to_thirty_is_given() {
        assert_eq!(supervision_days(None), Some(2));
        assert_eq!(supervision_days(Some("  ")), Some(2));
        assert_eq!(supervision_days(Some("1")), Some(1));
        assert_eq!(supervision_days(Some(" 30 ")), Some(30));
        for bad in ["0", "31", "-1", "两", "2.5"] {
            assert_eq!(supervision_days(Some(bad)), None, "{bad}");
        }
    }
}

/// 案件编号: the number a resident is given, the local submission date followed by the id padded
/// to six digits (`20261127000123`). It carries the id, so no separate column is needed.
pub fn appeal_number(id: i64, created_at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}{id:06}",
        created_at
            .with_timezone(&crate::time::shanghai())
            .format("%Y%m%d")
    )
}

/// Letters of tracking codes: Crockford's base 32, without I, L, O and U, so a code read over
/// the phone or copied by hand is not mistaken.
const TRACKING_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// 查询码: the tracking code of a case, ten letters (50 bits) keyed by a secret of the
/// installation, so knowing or guessing a case number says nothing about its code. Shown as
/// `XXXXX-XXXXX`.
pub fn tracking_code(secret: &str, number: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("yongxin-tracking-v1\n{secret}\n{number}").as_bytes());
    let mut bits: u64 = 0;
    for b in &digest[..8] {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut code = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        let index = usize::try_from((bits >> (59 - 5 * i)) & 31).unwrap_or(0);
        code.push(char::from(TRACKING_ALPHABET[index]));
    }
    code
}

/// A code as typed, made comparable: case, spaces, dashes and the letters people confuse with
/// digits (O, I, L) do not matter.
pub fn normal_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// 一次性码: ten letters of the tracking alphabet from 50 random bits, shown `XXXXX-XXXXX` — the
/// code on an account's activation or reset slip.
pub fn one_time_code(bits: u64) -> String {
    let mut code = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        let index = usize::try_from((bits >> (45 - 5 * i)) & 31).unwrap_or(0);
        code.push(char::from(TRACKING_ALPHABET[index]));
    }
    code
}

/// Whether a typed tracking code is the case's ([`normal_code`]); compared in constant time.
pub fn tracking_code_matches(secret: &str, number: &str, typed: &str) -> bool {
    let normal = normal_code(typed);
    let expected: String = tracking_code(secret, number).replace('-', "");
    normal.len() == expected.len()
        && normal
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// 评价链接: the token in the link an answer notice carries (`/track/r/{token}`): the outbox
/// message's id and sixteen letters (80 bits) keyed by the installation's secret, the case number
/// and that id. The id names the notice, so the link is good only while that notice is the case's
/// latest answer and the case awaits its rating: one rating, then it is spent.
pub fn rating_token(secret: &str, number: &str, message_id: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(
        format!("yongxin-rating-link-v1\n{secret}\n{number}\n{message_id}").as_bytes(),
    );
    let mut bits: u128 = 0;
    for b in &digest[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut token = format!("{message_id}-");
    for i in 0..16 {
        let index = usize::try_from((bits >> (75 - 5 * i)) & 31).unwrap_or(0);
        token.push(char::from(TRACKING_ALPHABET[index]));
    }
    token
}

/// The message id a rating token names, before it is checked against its case.
pub fn rating_token_message(token: &str) -> Option<i64> {
    let (id, letters) = token.split_once('-')?;
    (letters.len() == 16).then_some(())?;
    id.parse().ok().filter(|id| *id > 0)
}

/// Whether a token is the one [`rating_token`] gives for this case and message; compared in
/// constant time.
pub fn rating_token_matches(secret: &str, number: &str, token: &str) -> bool {
    let Some(id) = rating_token_message(token) else {
        return false;
    };
    let expected = rating_token(secret, number, id);
    expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The id inside a case number, if it is one; the caller checks the date against the case.
pub fn parse_appeal_number(number: &str) -> Option<(chrono::NaiveDate, i64)> {
    let n = number.trim();
    if n.len() < 14 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(&n[..8], "%Y%m%d").ok()?;
    Some((date, n[8..].parse().ok()?))
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn one_time_codes_are_ten_letters_read_back_however_typed() {
        let code = one_time_code(0x3_FFFF_FFFF_FFFF);
        assert_eq!(code, "ZZZZZ-ZZZZZ");
        let code = one_time_code(0x1234_5678_9ABC);
        assert_eq!(code.len(), 11);
        assert!(code
            .chars()
            .all(|c| c == '-' || TRACKING_ALPHABET.contains(&(c as u8))));
        assert_ne!(code, one_time_code(0x1234_5678_9ABD));
        let sloppy = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(normal_code(&sloppy), code.replace('-', ""));
        assert_eq!(normal_code("o1-il"), "0111");
    }

    #[test]
    fn rating_tokens_name_their_message_and_are_keyed() {
        let t = rating_token("secret-a", "20261127000123", 42);
        assert!(t.starts_with("42-") && t.len() == 19, "{t}");
        assert_eq!(rating_token_message(&t), Some(42));
        assert!(rating_token_matches("secret-a", "20261127000123", &t));
        assert!(
            !rating_token_matches("secret-b", "20261127000123", &t),
            "keyed"
        );
        assert!(
            !rating_token_matches("secret-a", "20261127000124", &t),
            "bound to the case"
        );
        let other = rating_token("secret-a", "20261127000123", 43);
        assert_ne!(t[3..], other[3..], "bound to the message");
        // Another message's id with this message's letters is refused.
        assert!(!rating_token_matches(
            "secret-a",
            "20261127000123",
            &format!("43-{}", &t[3..])
        ));
        for bad in [
            "",
            "42",
            "42-",
            "x-ABCDEFGHJKMNPQRS",
            "-1-ABCDEFGHJKMNPQR",
            "42-ABC",
        ] {
            assert!(
                !rating_token_matches("secret-a", "20261127000123", bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn tracking_codes_are_keyed_and_forgiving_to_type() {
        let code = tracking_code("secret-a", "20261127000123");
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        assert!(code
            .chars()
            .all(|c| c == '-' || TRACKING_ALPHABET.contains(&(c as u8))));
        assert_eq!(code, tracking_code("secret-a", "20261127000123"), "stable");
        assert_ne!(code, tracking_code("secret-b", "20261127000123"), "keyed");
        assert_ne!(code, tracking_code("secret-a", "20261127000124"));
        assert!(tracking_code_matches("secret-a", "20261127000123", &code));
        let sloppy = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert!(tracking_code_matches("secret-a", "20261127000123", &sloppy));
        let with_o = code.replace('0', "o");
        assert!(tracking_code_matches("secret-a", "20261127000123", &with_o));
        assert!(!tracking_code_matches("secret-a", "20261127000123", ""));
        assert!(!tracking_code_matches("secret-b", "20261127000123", &code));
        // Codes of neighbouring cases share nothing visible.
        let others: Vec<String> = (0..200)
            .map(|i| tracking_code("secret-a", &format!("20261127{i:06}")))
            .collect();
        let distinct: std::collections::HashSet<_> = others.iter().collect();
        assert_eq!(distinct.len(), 200);
    }
    use chrono::TimeZone;

    #[test]
    fn numbers_carry_the_local_date_and_the_id() {
        // 20:00 UTC on 26 November is 04:00 on 27 November in Shanghai.
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 20, 0, 0)
            .single()
            .expect("t");
        assert_eq!(appeal_number(123, at), "20261127000123");
        assert_eq!(appeal_number(1_234_567, at), "202611271234567");
        assert_eq!(
            parse_appeal_number("20261127000123"),
            Some((
                chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("d"),
                123
            ))
        );
        assert_eq!(
            parse_appeal_number("202611271234567").map(|p| p.1),
            Some(1_234_567)
        );
        assert_eq!(parse_appeal_number("2026112700012"), None);
        assert_eq!(parse_appeal_number("20261327000123"), None);
        assert_eq!(parse_appeal_number("2026112700012x"), None);
    }
}

/// The facts of a case that actions change, held in memory: what a store loads before an action
/// and writes back after it, and what a demo or import replays a whole history on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// Where it stands.
    pub status: AppealStatus,
    /// Times reopened.
    pub reopen_count: u32,
    /// Department handling it.
    pub department: Option<String>,
    /// Cadre handling it.
    pub cadre: Option<i64>,
    /// First contact.
    pub contacted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Answered (cleared when a rating reopens it).
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Rated.
    pub rated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Closed, declined or merged.
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The latest reply.
    pub reply: Option<String>,
    /// The latest rating.
    pub rating: Option<Rating>,
    /// The case it was merged into.
    pub merged_into: Option<i64>,
}

impl CaseFacts {
    /// A new case going to a department.
    pub fn new(department: Option<String>) -> Self {
        Self {
            status: AppealStatus::Submitted,
            reopen_count: 0,
            department,
            cadre: None,
            contacted_at: None,
            answered_at: None,
            rated_at: None,
            closed_at: None,
            reply: None,
            rating: None,
            merged_into: None,
        }
    }

    /// Applies an action at `now` if the lifecycle allows it, changing the facts accordingly.
    pub fn act(
        &mut self,
        self_id: i64,
        action: &AppealAction,
        policy: &AppealPolicy,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Transition, AppealError> {
        let t = AppealState {
            status: self.status,
            reopen_count: self.reopen_count,
        }
        .apply(self_id, action, policy)?;
        self.status = t.to;
        if matches!(
            t.to,
            AppealStatus::Closed | AppealStatus::Declined | AppealStatus::Merged
        ) {
            self.closed_at = Some(now);
        }
        match action {
            AppealAction::Assign { department, cadre }
            | AppealAction::Transfer {
                department, cadre, ..
            } => {
                if let Some(d) = department.as_ref().filter(|d| !d.trim().is_empty()) {
                    self.department = Some(d.clone());
                }
                self.cadre = *cadre;
            }
            AppealAction::Return { .. } => self.cadre = None,
            AppealAction::Contact => {
                self.contacted_at.get_or_insert(now);
            }
            AppealAction::Answer { reply } => {
                self.reply = Some(reply.clone());
                self.answered_at = Some(now);
                self.contacted_at.get_or_insert(now);
            }
            AppealAction::Rate { rating, .. } | AppealAction::RateByCall { rating, .. } => {
                self.rating = Some(*rating);
                self.rated_at = Some(now);
                if t.reopened {
                    self.reopen_count += 1;
                    self.answered_at = None;
                }
            }
            AppealAction::Merge { into } => self.merged_into = Some(*into),
            AppealAction::Accept
            | AppealAction::Decline { .. }
            | AppealAction::Note { .. }
            | AppealAction::AutoClose => {}
        }
        Ok(t)
    }
}

impl AppealAction {
    /// The text an action leaves in the history, and whether the resident sees it.
    pub fn event_text(&self) -> (Option<String>, bool) {
        match self {
            AppealAction::Decline { reason } => (Some(reason.clone()), true),
            AppealAction::Transfer { reason, .. } | AppealAction::Return { reason } => {
                (Some(reason.clone()), false)
            }
            AppealAction::Note { text, visible } => (Some(text.clone()), *visible),
            AppealAction::Answer { reply } => (Some(reply.clone()), true),
            AppealAction::Rate {
                reason: Some(r), ..
            } if !r.trim().is_empty() => (Some(r.trim().to_owned()), true),
            // The call is part of the record: when it was made, then the resident's words.
            AppealAction::RateByCall {
                reason, called_at, ..
            } => {
                let when = crate::time::display_local(*called_at);
                let text = match reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                    Some(r) => format!("回访电话 {when}：{r}"),
                    None => format!("回访电话 {when}"),
                };
                (Some(text), true)
            }
            AppealAction::Assign { .. } => (None, false),
            AppealAction::Accept
            | AppealAction::Contact
            | AppealAction::Rate { .. }
            | AppealAction::Merge { .. }
            | AppealAction::AutoClose => (None, true),
        }
    }
}

#[cfg(test)]
mod facts_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn facts_follow_the_history() {
        let p = AppealPolicy::default();
        let t0 = chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
            .single()
            .expect("t");
        let at = |h: i64| t0 + chrono::Duration::hours(h);
        let mut f = CaseFacts::new(Some("城管".into()));
        f.act(1, &AppealAction::Accept, &p, at(1)).expect("ok");
        f.act(
            1,
            &AppealAction::Assign {
                department: None,
                cadre: Some(9),
            },
            &p,
            at(2),
        )
        .expect("ok");
        assert_eq!((f.department.as_deref(), f.cadre), (Some("城管"), Some(9)));
        f.act(
            1,
            &AppealAction::Answer {
                reply: "好了".into(),
            },
            &p,
            at(3),
        )
        .expect("ok");
        assert_eq!((f.contacted_at, f.answered_at), (Some(at(3)), Some(at(3))));
        f.act(
            1,
            &AppealAction::Rate {
                rating: Rating::Dissatisfied,
                reason: None,
            },
            &p,
            at(4),
        )
        .expect("ok");
        assert_eq!(
            (f.status, f.reopen_count, f.answered_at),
            (AppealStatus::Assigned, 1, None)
        );
        f.act(1, &AppealAction::Contact, &p, at(5)).expect("ok");
        assert_eq!(f.contacted_at, Some(at(3)), "the first contact stays");
        f.act(
            1,
            &AppealAction::Answer {
                reply: "彻底好了".into(),
            },
            &p,
            at(6),
        )
        .expect("ok");
        f.act(
            1,
            &AppealAction::Rate {
                rating: Rating::Satisfied,
                reason: None,
            },
            &p,
            at(7),
        )
        .expect("ok");
        assert_eq!(
            (f.status, f.closed_at, f.reply.as_deref()),
            (AppealStatus::Closed, Some(at(7)), Some("彻底好了"))
        );
        let before = f.clone();
        assert!(f.act(1, &AppealAction::Accept, &p, at(8)).is_err());
        assert_eq!(f, before, "a refused action changes nothing");
    }
}

/// The counts behind the three rates (三率) of a group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RateCounts {
    /// Cases filed in the period (declined and merged ones included).
    pub total: i64,
    /// Cases whose contact was due by now or has happened.
    pub contact_due: i64,
    /// Of those, contacted no later than the contact deadline.
    pub contacted_on_time: i64,
    /// Cases whose answer was due by now or has been given.
    pub resolution_due: i64,
    /// Of those, answered no later than the resolution deadline.
    pub answered_on_time: i64,
    /// Cases answered at least once (answered now, or rated): those a rating could be asked of.
    pub answered: i64,
    /// Cases rated by the resident (online, on /track, or on the phone to the office).
    pub rated: i64,
    /// Of those, rated satisfied or basically satisfied.
    pub satisfied: i64,
}

impl RateCounts {
    /// The counts of two groups together.
    pub fn plus(self, o: RateCounts) -> RateCounts {
        RateCounts {
            total: self.total + o.total,
            contact_due: self.contact_due + o.contact_due,
            contacted_on_time: self.contacted_on_time + o.contacted_on_time,
            resolution_due: self.resolution_due + o.resolution_due,
            answered_on_time: self.answered_on_time + o.answered_on_time,
            answered: self.answered + o.answered,
            rated: self.rated + o.rated,
            satisfied: self.satisfied + o.satisfied,
        }
    }

    /// 回访覆盖率: rated among the cases answered. An answer nobody rated closes by itself and
    /// counts here as not rated, never as satisfied.
    pub fn rating_coverage(&self) -> Option<f64> {
        ratio(self.rated, self.answered)
    }

    /// 响应率: contacted before the contact deadline, among cases whose contact is due.
    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.contacted_on_time, self.contact_due)
    }

    /// 办结率: answered before the resolution deadline, among cases whose answer is due.
    pub fn resolution_rate(&self) -> Option<f64> {
        ratio(self.answered_on_time, self.resolution_due)
    }

    /// 满意率: (satisfied + basically satisfied) / rated.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.rated)
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Which of a case's deadlines have been seen to pass while it was still waiting (逾期): a
/// deadline that has passed stays passed, so once recorded the case counts as due for good
/// (unless declined or merged) and the rates need not look at it again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lapsed {
    /// The contact deadline passed with no contact.
    pub contact: bool,
    /// The resolution deadline passed with no answer.
    pub resolution: bool,
}

/// One case's contribution to the three rates as far as it is settled: everything but the
/// deadlines that have passed and not yet been recorded as lapsed. These are kept as counters
/// per day and group, changed in the same transaction as the case, so a year's rates are read
/// rather than recomputed; the few cases whose deadline passed since it was last recorded are
/// counted when the rates are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettledTally {
    /// The case itself (1) or, as a difference, 0.
    pub total: i64,
    /// Contact due: contacted, or the contact deadline recorded as lapsed (and not declined or
    /// merged).
    pub contact_due: i64,
    /// Contacted no later than the contact deadline.
    pub contacted_on_time: i64,
    /// Answer due: answered, or the resolution deadline recorded as lapsed (and not declined or
    /// merged).
    pub resolution_due: i64,
    /// Answered no later than the resolution deadline.
    pub answered_on_time: i64,
    /// Answered at least once: answered now, or rated (a reopened case keeps its rating).
    pub answered: i64,
    /// Rated.
    pub rated: i64,
    /// Rated satisfied or basically satisfied.
    pub satisfied: i64,
}

impl SettledTally {
    /// What a case with these deadlines, facts and lapsed deadlines adds.
    pub fn of(
        contact_due: chrono::DateTime<chrono::Utc>,
        resolution_due: chrono::DateTime<chrono::Utc>,
        f: &CaseFacts,
        lapsed: Lapsed,
    ) -> Self {
        let flag = |b: bool| i64::from(b);
        let live = !matches!(f.status, AppealStatus::Declined | AppealStatus::Merged);
        Self {
            total: 1,
            contact_due: flag(f.contacted_at.is_some() || (lapsed.contact && live)),
            contacted_on_time: flag(f.contacted_at.is_some_and(|t| t <= contact_due)),
            resolution_due: flag(f.answered_at.is_some() || (lapsed.resolution && live)),
            answered_on_time: flag(f.answered_at.is_some_and(|t| t <= resolution_due)),
            answered: flag(f.answered_at.is_some() || f.rating.is_some()),
            rated: flag(f.rating.is_some()),
            satisfied: flag(matches!(
                f.rating,
                Some(Rating::Satisfied | Rating::BasicallySatisfied)
            )),
        }
    }

    fn zip(self, o: Self, op: fn(i64, i64) -> i64) -> Self {
        Self {
            total: op(self.total, o.total),
            contact_due: op(self.contact_due, o.contact_due),
            contacted_on_time: op(self.contacted_on_time, o.contacted_on_time),
            resolution_due: op(self.resolution_due, o.resolution_due),
            answered_on_time: op(self.answered_on_time, o.answered_on_time),
            answered: op(self.answered, o.answered),
            rated: op(self.rated, o.rated),
            satisfied: op(self.satisfied, o.satisfied),
        }
    }

    /// The sum of two tallies.
    pub fn plus(self, o: Self) -> Self {
        self.zip(o, |a, b| a + b)
    }

    /// The difference of two tallies.
    pub fn minus(self, o: Self) -> Self {
        self.zip(o, |a, b| a - b)
    }

    /// Whether it changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The counts at a moment, given how many of the group's open cases (neither declined nor
    /// merged) are by then past a deadline not yet recorded as lapsed: uncontacted past the
    /// contact deadline, and unanswered past the resolution deadline.
    pub fn at(self, contact_overdue: i64, resolution_overdue: i64) -> RateCounts {
        RateCounts {
            total: self.total,
            contact_due: self.contact_due + contact_overdue,
            contacted_on_time: self.contacted_on_time,
            resolution_due: self.resolution_due + resolution_overdue,
            answered_on_time: self.answered_on_time,
            answered: self.answered,
            rated: self.rated,
            satisfied: self.satisfied,
        }
    }
}

/// A case's tally under each group it is counted in, before and after a change, as the
/// differences to apply: `(group index, key, difference)`, none that is zero. A case that moves
/// to another key (a new cadre, a transfer) leaves the old key and joins the new one whole.
pub fn tally_moves<const N: usize>(
    before: Option<(&[String; N], SettledTally)>,
    after: (&[String; N], SettledTally),
) -> Vec<(usize, String, SettledTally)> {
    let mut moves = Vec::new();
    for i in 0..N {
        let (new_key, new) = (&after.0[i], after.1);
        match before {
            Some((old_keys, old)) if old_keys[i] == *new_key => {
                let d = new.minus(old);
                if !d.is_zero() {
                    moves.push((i, new_key.clone(), d));
                }
            }
            Some((old_keys, old)) => {
                moves.push((i, old_keys[i].clone(), SettledTally::default().minus(old)));
                moves.push((i, new_key.clone(), new));
            }
            None => moves.push((i, new_key.clone(), new)),
        }
    }
    moves
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn rates_are_shares_and_absent_without_cases() {
        let c = RateCounts {
            total: 10,
            contact_due: 8,
            contacted_on_time: 6,
            resolution_due: 5,
            answered_on_time: 5,
            answered: 8,
            rated: 4,
            satisfied: 3,
        };
        assert_eq!(c.response_rate(), Some(0.75));
        assert_eq!(c.resolution_rate(), Some(1.0));
        assert_eq!(c.satisfaction_rate(), Some(0.75));
        // Half the answers were rated: the other half closed unrated and count as neither.
        assert_eq!(c.rating_coverage(), Some(0.5));
        assert_eq!(RateCounts::default().satisfaction_rate(), None);
        assert_eq!(RateCounts::default().rating_coverage(), None);
    }

    fn at(h: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH + chrono::Duration::hours(1_000_000 + h)
    }

    /// The three rates' counts of one case at `now`, straight from their definitions.
    fn by_definition(
        now: chrono::DateTime<chrono::Utc>,
        contact_due: chrono::DateTime<chrono::Utc>,
        resolution_due: chrono::DateTime<chrono::Utc>,
        f: &CaseFacts,
    ) -> RateCounts {
        let live = !matches!(f.status, AppealStatus::Declined | AppealStatus::Merged);
        let flag = |b: bool| i64::from(b);
        RateCounts {
            total: 1,
            contact_due: flag(f.contacted_at.is_some() || (contact_due < now && live)),
            contacted_on_time: flag(f.contacted_at.is_some_and(|t| t <= contact_due)),
            resolution_due: flag(f.answered_at.is_some() || (resolution_due < now && live)),
            answered_on_time: flag(f.answered_at.is_some_and(|t| t <= resolution_due)),
            answered: flag(f.answered_at.is_some() || f.rating.is_some()),
            rated: flag(f.rating.is_some()),
            satisfied: flag(matches!(
                f.rating,
                Some(Rating::Satisfied | Rating::BasicallySatisfied)
            )),
        }
    }

    #[test]
    fn kept_counters_plus_the_overdue_open_cases_give_the_defined_counts() {
        let p = AppealPolicy::default();
        let (contact_due, resolution_due) = (at(24), at(5 * 24));
        let assign = AppealAction::Assign {
            department: None,
            cadre: Some(5),
        };
        let histories: Vec<Vec<(i64, AppealAction)>> = vec![
            vec![],
            vec![(1, AppealAction::Accept)],
            vec![(
                1,
                AppealAction::Decline {
                    reason: "不属于".into(),
                },
            )],
            vec![
                (1, AppealAction::Accept),
                (2, assign.clone()),
                (30, AppealAction::Contact),
                (
                    200,
                    AppealAction::Answer {
                        reply: "好".into()
                    },
                ),
                (
                    210,
                    AppealAction::Rate {
                        rating: Rating::Dissatisfied,
                        reason: None,
                    },
                ),
            ],
            vec![
                (1, AppealAction::Accept),
                (2, assign.clone()),
                (
                    2,
                    AppealAction::Answer {
                        reply: "好".into()
                    },
                ),
                (
                    3,
                    AppealAction::Rate {
                        rating: Rating::BasicallySatisfied,
                        reason: None,
                    },
                ),
            ],
            vec![
                (1, AppealAction::Accept),
                (1, assign.clone()),
                (20, AppealAction::Contact),
            ],
        ];
        for history in histories {
            let mut f = CaseFacts::new(Some("城管".into()));
            for (h, action) in &history {
                f.act(1, action, &p, at(*h)).expect("a legal history");
            }
            for now in [at(0), at(25), at(6 * 24), at(400)] {
                let open = !matches!(f.status, AppealStatus::Declined | AppealStatus::Merged)
                    && f.answered_at.is_none();
                let contact_passed = open && f.contacted_at.is_none() && contact_due < now;
                let resolution_passed = open && resolution_due < now;
                // Whether or not the passing has been recorded, the counts are the same.
                for recorded in [false, true] {
                    let lapsed = Lapsed {
                        contact: recorded && contact_passed,
                        resolution: recorded && resolution_passed,
                    };
                    let tally = SettledTally::of(contact_due, resolution_due, &f, lapsed);
                    assert_eq!(
                        tally.at(
                            i64::from(contact_passed && !lapsed.contact),
                            i64::from(resolution_passed && !lapsed.resolution)
                        ),
                        by_definition(now, contact_due, resolution_due, &f),
                        "{history:?} at {now}, recorded {recorded}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_case_moving_between_keys_leaves_one_and_joins_the_other() {
        let keys = |cadre: &str| ["v1".to_owned(), cadre.to_owned()];
        let new = SettledTally {
            total: 1,
            ..SettledTally::default()
        };
        let contacted = SettledTally {
            contact_due: 1,
            contacted_on_time: 1,
            ..new
        };
        assert_eq!(
            tally_moves(None, (&keys(""), new)),
            vec![(0, "v1".to_owned(), new), (1, String::new(), new)]
        );
        assert_eq!(
            tally_moves(Some((&keys("7"), new)), (&keys("7"), contacted)),
            vec![
                (0, "v1".to_owned(), contacted.minus(new)),
                (1, "7".to_owned(), contacted.minus(new))
            ]
        );
        assert_eq!(
            tally_moves(Some((&keys("7"), contacted)), (&keys("9"), contacted)),
            vec![
                (1, "7".to_owned(), SettledTally::default().minus(contacted)),
                (1, "9".to_owned(), contacted)
            ]
        );
        assert!(tally_moves(Some((&keys("7"), new)), (&keys("7"), new)).is_empty());
        assert_eq!(new.plus(contacted).minus(contacted), new);
    }
}

#[cfg(test)]
mod deadline_card_tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::calendar::WorkingCalendar;

    /// A case filed on a Wednesday, contact due in an hour, answer due in ten days.
    fn clock(status: AppealStatus) -> (DateTime<Utc>, DeadlineClock) {
        let now = Utc.with_ymd_and_hms(2025, 3, 12, 2, 0, 0).unwrap();
        let c = DeadlineClock {
            status,
            started_at: now - Duration::hours(23),
            contacted_at: None,
            contact_due: now + Duration::hours(1),
            answered_at: None,
            resolution_due: now + Duration::days(10),
        };
        (now, c)
    }

    #[test]
    fn a_waiting_deadline_turns_yellow_then_red_and_a_far_one_carries_nothing() {
        let calendar = WorkingCalendar::official();
        let (now, c) = clock(AppealStatus::Assigned);
        assert_eq!(
            deadline_cards(&calendar, now, &c),
            [
                (Deadline::Contact, Card::Yellow),
                (Deadline::Resolution, Card::None)
            ]
        );
        let later = now + Duration::hours(2);
        assert_eq!(
            deadline_cards(&calendar, later, &c)[0],
            (Deadline::Contact, Card::Red)
        );
    }

    #[test]
    fn a_met_deadline_and_an_answered_or_closed_case_carry_no_card() {
        let calendar = WorkingCalendar::official();
        let (now, mut c) = clock(AppealStatus::InProgress);
        let late = now + Duration::days(30);
        c.contacted_at = Some(now);
        assert_eq!(
            deadline_cards(&calendar, late, &c),
            [
                (Deadline::Contact, Card::None),
                (Deadline::Resolution, Card::Red)
            ]
        );
        for status in [
            AppealStatus::Answered,
            AppealStatus::Closed,
            AppealStatus::Declined,
        ] {
            let (_, c) = clock(status);
            assert_eq!(
                deadline_cards(&calendar, late, &c),
                [
                    (Deadline::Contact, Card::None),
                    (Deadline::Resolution, Card::None)
                ],
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_case_filed_a_minute_ago_is_not_yet_near_its_deadline() {
        let calendar = WorkingCalendar::official();
        // Wednesday 10:00 in Shanghai; contact due Thursday 10:00 (one working day).
        let filed = Utc.with_ymd_and_hms(2025, 3, 12, 2, 0, 0).unwrap();
        let c = DeadlineClock {
            status: AppealStatus::Assigned,
            started_at: filed,
            contacted_at: None,
            contact_due: filed + Duration::days(1),
            answered_at: None,
            resolution_due: filed + Duration::days(14),
        };
        let card = |at| deadline_cards(&calendar, at, &c)[0].1;
        assert_eq!(card(filed + Duration::minutes(1)), Card::None, "just filed");
        assert_eq!(card(filed + Duration::hours(11)), Card::None, "under half");
        assert_eq!(card(filed + Duration::hours(13)), Card::Yellow, "past half");
        assert_eq!(card(filed + Duration::hours(25)), Card::Red);
        let focus = |at| work_focus(&calendar, at, &c).expect("an assigned case is in a tab");
        assert_eq!(
            focus(filed + Duration::minutes(1)),
            WorkFocus {
                tab: WorkTab::ToContact,
                deadline: Some((Deadline::Contact, c.contact_due))
            }
        );
        assert_eq!(
            focus(filed + Duration::hours(13)).tab,
            WorkTab::NearDeadline
        );
        assert_eq!(
            focus(filed + Duration::hours(25)),
            WorkFocus {
                tab: WorkTab::Overdue,
                deadline: Some((Deadline::Contact, c.contact_due))
            }
        );
    }

    #[test]
    fn each_case_is_in_one_tab_of_its_handlers_work() {
        let calendar = WorkingCalendar::official();
        let filed = Utc.with_ymd_and_hms(2025, 3, 12, 2, 0, 0).unwrap();
        let mut c = DeadlineClock {
            status: AppealStatus::InProgress,
            started_at: filed,
            contacted_at: Some(filed + Duration::hours(2)),
            contact_due: filed + Duration::days(1),
            answered_at: None,
            resolution_due: filed + Duration::days(14),
        };
        let day3 = filed + Duration::days(3);
        assert_eq!(
            work_focus(&calendar, day3, &c),
            Some(WorkFocus {
                tab: WorkTab::InProgress,
                deadline: Some((Deadline::Resolution, c.resolution_due))
            }),
            "a met contact deadline is not this case's concern any more"
        );
        // Contacted late and answer overdue: the card names the answer's deadline.
        c.contacted_at = None;
        let late = filed + Duration::days(15);
        assert_eq!(
            work_focus(&calendar, late, &c),
            Some(WorkFocus {
                tab: WorkTab::Overdue,
                deadline: Some((Deadline::Contact, c.contact_due))
            }),
            "both passed: the earlier one is named"
        );
        c.contacted_at = Some(filed + Duration::days(2));
        assert_eq!(
            work_focus(&calendar, late, &c).expect("in a tab").deadline,
            Some((Deadline::Resolution, c.resolution_due))
        );
        c.status = AppealStatus::Answered;
        assert_eq!(
            work_focus(&calendar, late, &c),
            Some(WorkFocus {
                tab: WorkTab::ToFollowUp,
                deadline: None
            })
        );
        for status in [
            AppealStatus::Submitted,
            AppealStatus::Accepted,
            AppealStatus::Closed,
            AppealStatus::Declined,
            AppealStatus::Merged,
        ] {
            c.status = status;
            assert_eq!(work_focus(&calendar, late, &c), None, "{status:?}");
        }
    }

    #[test]
    fn only_yellow_and_red_are_announced() {
        assert_eq!(Card::None.colour(), None);
        assert_eq!(
            Card::Yellow.colour(),
            Some(crate::calendar::CardColour::Yellow)
        );
        assert_eq!(Card::Red.colour().map(|c| c.code()), Some("red"));
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::Role;

    #[test]
    fn a_village_officer_dispatches_only_the_cases_of_their_village() {
        assert!(dispatches(Role::Leader, None, Some(3)));
        assert!(dispatches(Role::VillageOfficer, Some(3), Some(3)));
        assert!(!dispatches(Role::VillageOfficer, Some(3), Some(4)));
        assert!(!dispatches(Role::VillageOfficer, Some(3), None));
        assert!(
            !dispatches(Role::VillageOfficer, None, None),
            "an officer without a village"
        );
        assert!(!dispatches(Role::GridWorker, Some(3), Some(3)));
        assert!(!dispatches(Role::Resident, None, None));
    }

    #[test]
    fn each_party_is_offered_what_the_case_allows_them() {
        use AppealStatus as S;
        assert_eq!(
            offered_actions(S::Submitted, true, true, (false, false)),
            ["accept", "decline"]
        );
        assert!(offered_actions(S::Submitted, false, true, (true, true)).is_empty());
        assert_eq!(
            offered_actions(S::Accepted, true, true, (false, false)),
            ["assign"]
        );
        assert_eq!(
            offered_actions(S::Assigned, false, true, (false, false)),
            ["contact", "note", "answer", "transfer", "return"]
        );
        assert_eq!(
            offered_actions(S::InProgress, false, false, (false, true)),
            Vec::<&str>::new()
        );
        assert_eq!(
            offered_actions(S::Answered, false, true, (true, false)),
            ["note", "rate"]
        );
        assert_eq!(
            offered_actions(S::Answered, true, false, (false, true)),
            ["rate_by_call"]
        );
        assert!(offered_actions(S::Closed, true, true, (true, true)).is_empty());
    }

    #[test]
    fn the_rates_period_defaults_to_the_past_year_and_names_a_bad_end() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(
            stats_period(today, None, Some(" ")),
            Ok((d("2025-12-07"), today))
        );
        assert_eq!(
            stats_period(today, Some("2026-01-01"), Some("2026-03-31")),
            Ok((d("2026-01-01"), d("2026-03-31")))
        );
        assert_eq!(stats_period(today, Some("2026-13-01"), None), Err("from"));
        assert_eq!(stats_period(today, None, Some("31/03/2026")), Err("to"));
        assert_eq!(
            stats_period(today, Some("2026-04-01"), Some("2026-03-31")),
            Err("to")
        );
    }

    #[test]
    fn counts_add_up_field_by_field() {
        let a = RateCounts {
            total: 3,
            contact_due: 2,
            contacted_on_time: 1,
            resolution_due: 2,
            answered_on_time: 2,
            answered: 2,
            rated: 1,
            satisfied: 1,
        };
        let b = RateCounts {
            total: 1,
            rated: 1,
            ..RateCounts::default()
        };
        assert_eq!(
            a.plus(b),
            RateCounts {
                total: 4,
                rated: 2,
                ..a
            }
        );
        assert_eq!(a.plus(RateCounts::default()), a);
    }

    #[test]
    fn a_typed_case_number_keeps_its_digits_whatever_the_width() {
        assert_eq!(typed_number(" 2026-1203-00０４２ "), "2026120300042");
        assert_eq!(typed_number("ＸＹ１２"), "12");
        assert_eq!(typed_number(""), "");
    }
}
