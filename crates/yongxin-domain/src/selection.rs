//! 选房: choosing homes — on selection day (现场选房) in lottery order with a time limit, or online
//! (线上选房) in a window, optionally in waves by lottery order. This module holds the rules a
//! claim is judged by (window, wave, limit), the selection-day queue (call, skip to the end after
//! three calls) and the words a refusal is told in. The store applies them inside the claim's
//! transaction, where the unit's owner is decided.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Qty;

code_enum! {
    /// How households choose.
    SelectionMode {
        /// 现场选房: called one by one in the hall, an operator confirms.
        Onsite = ("onsite", "现场选房"),
        /// 线上选房: households claim themselves in a window.
        Online = ("online", "线上选房"),
    }
}

/// A wave (批次): lottery orders `from..=to` may act from `opens_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    /// First lottery order of the wave.
    pub from_order: i64,
    /// Last lottery order of the wave.
    pub to_order: i64,
    /// When it opens.
    pub opens_at: DateTime<Utc>,
}

/// Why a claim was refused: each maps to one HTTP status (409 taken, 422 over the limit or not a
/// unit of the project, 403 not the household's turn).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    /// A unit is sold already (or was sold by a claim that won the race).
    #[error("房源 {0} 已被选走")]
    Taken(String),
    /// Over the household's limit.
    #[error("所选面积合计 {chosen} m² 超过可选上限 {limit} m²")]
    OverLimit {
        /// Area owned plus claimed.
        chosen: String,
        /// The household's limit.
        limit: String,
    },
    /// No unit, a unit twice, or a unit not of this project.
    #[error("房源有误：{0}")]
    BadUnits(String),
    /// Before the window or the household's wave.
    #[error("尚未轮到该户选房：{0}")]
    NotYourTurn(String),
    /// After the window.
    #[error("选房已于 {0} 结束")]
    Closed(String),
    /// The household is not on the frozen, drawn list.
    #[error("该户不在本次选房名单中")]
    NotListed,
    /// Selection day: only the household being called, through the operator.
    #[error("现场选房由工作人员为正在叫号的户确认")]
    NotCalled,
    /// Selection day: the household being called has not come to the desk (到场) yet.
    #[error("该户尚未到场：叫号后登记到场，才能确认选房")]
    NotPresent,
}

/// Why a confirmed choice cannot be returned (退回) by the operator: after the window or the
/// household's signature only an administrator's correction applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    /// The slip is signed.
    #[error("确认书已签字，只能由管理员更正")]
    Signed,
    /// The window has passed.
    #[error("确认已超过 {0} 秒，只能由管理员更正")]
    TooLate(i64),
    /// Returned or corrected already.
    #[error("该确认已经退回或更正")]
    Released,
    /// Not a choice made at the desk on selection day (a household's own online choice is
    /// released only by an administrator's correction).
    #[error("只有现场选房由工作人员确认的选择可以退回，其他须由管理员更正")]
    NotAtDesk,
    /// Another household is at the desk now: returning would put this one ahead of it.
    #[error("下一户已到场，只能由管理员更正")]
    NextAtDesk,
}

/// Whether the operator may still return a choice confirmed at `confirmed_at`: within
/// `window_seconds`, before the slip is signed, once.
pub fn check_return(
    confirmed_at: DateTime<Utc>,
    signed: bool,
    released: bool,
    window_seconds: i64,
    now: DateTime<Utc>,
) -> Result<(), ReturnRefusal> {
    if released {
        Err(ReturnRefusal::Released)
    } else if signed {
        Err(ReturnRefusal::Signed)
    } else if (now - confirmed_at).num_seconds() >= window_seconds {
        Err(ReturnRefusal::TooLate(window_seconds))
    } else {
        Ok(())
    }
}

/// Seconds the operator may return a confirmed choice for, unless the selection says otherwise.
pub const DEFAULT_RETURN_SECONDS: i64 = 120;

/// What of a registered combination (登记户型组合) is still to choose: the registered layouts less
/// the layouts of the units owned, each counted as often as it appears (`C + C` needs two).
pub fn still_to_choose<'a>(
    registered: &'a [String],
    owned_layouts: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut left: Vec<&str> = registered.iter().map(String::as_str).collect();
    for layout in owned_layouts {
        if let Some(i) = left.iter().position(|l| *l == layout) {
            left.remove(i);
        }
    }
    left
}

/// Why a selection could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// Only in the selection phase.
    #[error("项目不在选房阶段")]
    Phase,
    /// The lottery has not been drawn.
    #[error("尚未摇号")]
    NotDrawn,
    /// The window or waves are wrong.
    #[error("{0}")]
    Window(String),
}

/// Whether a household of lottery order `order` may act at `now` in a window with waves (no waves:
/// everyone from the start).
pub fn check_turn(
    (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
    waves: &[Wave],
    order: i64,
    now: DateTime<Utc>,
) -> Result<(), ClaimRefusal> {
    let show = crate::time::display_local;
    if now >= ends_at {
        return Err(ClaimRefusal::Closed(show(ends_at)));
    }
    if now < starts_at {
        return Err(ClaimRefusal::NotYourTurn(format!(
            "选房 {} 开始",
            show(starts_at)
        )));
    }
    if waves.is_empty() {
        return Ok(());
    }
    match waves
        .iter()
        .find(|w| w.from_order <= order && order <= w.to_order)
    {
        None => Err(ClaimRefusal::NotYourTurn(format!(
            "第 {order} 号不在任何批次中"
        ))),
        Some(w) if now < w.opens_at => Err(ClaimRefusal::NotYourTurn(format!(
            "第 {}–{} 号 {} 开始",
            w.from_order,
            w.to_order,
            show(w.opens_at)
        ))),
        Some(_) => Ok(()),
    }
}

/// Checks waves: ordered, not overlapping, inside the window.
pub fn check_waves(
    (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
    waves: &[Wave],
) -> Result<(), String> {
    if ends_at <= starts_at {
        return Err("结束时间必须晚于开始时间".into());
    }
    for (i, w) in waves.iter().enumerate() {
        if w.from_order < 1 || w.to_order < w.from_order {
            return Err(format!("第 {} 批：顺序号范围有误", i + 1));
        }
        if w.opens_at < starts_at || w.opens_at >= ends_at {
            return Err(format!("第 {} 批：开始时间应在选房时间内", i + 1));
        }
        if let Some(prev) = i.checked_sub(1).map(|p| &waves[p]) {
            if w.from_order <= prev.to_order {
                return Err(format!("第 {} 批与上一批的顺序号重叠", i + 1));
            }
        }
    }
    Ok(())
}

/// Checks the units of a claim against the household's limit: the area it owns already plus the
/// units' areas.
pub fn check_limit(owned: Qty, units: &[Qty], limit: Qty) -> Result<(), ClaimRefusal> {
    let chosen = owned + units.iter().copied().sum::<Qty>();
    if chosen > limit {
        return Err(ClaimRefusal::OverLimit {
            chosen: chosen.short(),
            limit: limit.short(),
        });
    }
    Ok(())
}

/// Unit ids of a claim: at least one, at most eight, none twice.
pub fn check_unit_ids(ids: &[i64]) -> Result<(), ClaimRefusal> {
    if ids.is_empty() || ids.len() > 8 {
        return Err(ClaimRefusal::BadUnits("每次选 1 到 8 套".into()));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(ClaimRefusal::BadUnits("同一套房源选了两次".into()));
    }
    Ok(())
}

/// How many calls a household gets before it goes to the end of the queue.
pub const CALLS_BEFORE_SKIP: u32 = 3;

/// One household in the selection-day queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// Household.
    pub household_id: i64,
    /// Lottery order.
    pub order: i64,
    /// Calls since it last came up.
    pub calls: u32,
    /// Times it went to the end.
    pub skipped: u32,
    /// Chosen and confirmed.
    pub done: bool,
    /// When it was last called: its time limit runs from then.
    #[serde(default)]
    pub called_at: Option<DateTime<Utc>>,
    /// When it came to the desk after its call (到场): only then can a choice be confirmed.
    #[serde(default)]
    pub present_at: Option<DateTime<Utc>>,
}

impl QueueEntry {
    /// Seconds left of the time limit at `now`, once called.
    pub fn seconds_left(&self, limit_seconds: i64, now: DateTime<Utc>) -> Option<i64> {
        self.called_at
            .map(|t| (limit_seconds - (now - t).num_seconds()).max(0))
    }
}

/// What the operator did to the household being called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueAction {
    /// 叫号: call (again).
    Call,
    /// 过号: not present; after [`CALLS_BEFORE_SKIP`] calls it goes to the end.
    Skip,
    /// 到场: the household called has come to the desk.
    Present,
    /// 完成: its whole combination is chosen or it declined the rest (stored by the caller).
    Finish,
}

/// Why the desk's queue refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueRefusal {
    /// The selection is online: there is no queue at a desk.
    #[error("线上选房没有叫号队列")]
    NoQueue,
    /// A household finishes by choosing its units or declining the rest, not by an action.
    #[error("选定房源或记录放弃剩余后，该户才算完成")]
    FinishesByChoosing,
    /// The queue's own rule (nobody called, nobody left, …), in the words it states it.
    #[error("{0}")]
    Rule(&'static str),
}

/// The selection-day queue: households in lottery order; the first not done is being called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Queue {
    /// In calling order.
    pub entries: Vec<QueueEntry>,
}

impl Queue {
    /// A queue in lottery order.
    pub fn new(mut households: Vec<(i64, i64)>) -> Self {
        households.sort_by_key(|(_, order)| *order);
        Queue {
            entries: households
                .into_iter()
                .map(|(household_id, order)| QueueEntry {
                    household_id,
                    order,
                    calls: 0,
                    skipped: 0,
                    done: false,
                    called_at: None,
                    present_at: None,
                })
                .collect(),
        }
    }

    /// The household being called.
    pub fn current(&self) -> Option<&QueueEntry> {
        self.entries.iter().find(|e| !e.done)
    }

    /// Applies the operator's action to the current household: a skip before the third call or
    /// of a household at the desk is refused, and on the third call it moves the household to the
    /// end; a household comes to the desk only once called.
    pub fn apply(&mut self, action: QueueAction, now: DateTime<Utc>) -> Result<(), &'static str> {
        let Some(i) = self.entries.iter().position(|e| !e.done) else {
            return Err("所有户都已选房");
        };
        let e = &mut self.entries[i];
        match action {
            QueueAction::Call => {
                e.calls += 1;
                e.called_at = Some(now);
            }
            QueueAction::Present => {
                if e.called_at.is_none() {
                    return Err("请先叫号，再登记到场");
                }
                if e.present_at.is_none() {
                    e.present_at = Some(now);
                }
            }
            QueueAction::Skip => {
                if e.present_at.is_some() {
                    return Err("该户已到场，不能过号");
                }
                if e.calls < CALLS_BEFORE_SKIP {
                    return Err("叫号满三次后才能过号");
                }
                let mut e = self.entries.remove(i);
                e.calls = 0;
                e.called_at = None;
                e.skipped += 1;
                self.entries.push(e);
            }
            QueueAction::Finish => e.done = true,
        }
        Ok(())
    }

    /// Whether a choice may be confirmed for this household now: it is the one being called and
    /// it has come to the desk.
    pub fn may_confirm(&self, household_id: i64) -> Result<(), ClaimRefusal> {
        match self.current() {
            Some(e) if e.household_id == household_id => {
                if e.present_at.is_some() {
                    Ok(())
                } else {
                    Err(ClaimRefusal::NotPresent)
                }
            }
            _ => Err(ClaimRefusal::NotCalled),
        }
    }
}

impl Queue {
    /// After a household's choice was released on selection day: it is called next. An
    /// administrator's correction calls it again; an operator's return (`at_desk`) finds it still
    /// at the desk, its call and arrival kept.
    pub fn reopen(&mut self, household_id: i64, at_desk: bool) {
        if let Some(i) = self
            .entries
            .iter()
            .position(|e| e.household_id == household_id)
        {
            let mut e = self.entries.remove(i);
            e.done = false;
            if !at_desk {
                e.calls = 0;
                e.called_at = None;
                e.present_at = None;
            }
            let at = self
                .entries
                .iter()
                .position(|x| !x.done)
                .unwrap_or(self.entries.len());
            self.entries.insert(at, e);
        }
    }
}

/// Who may claim for a household: an operator for any (on the household's behalf, `Some(true)`),
/// a resident for their own (`Some(false)`), nobody else (`None`).
pub fn claim_right(
    role: crate::Role,
    own_household: Option<i64>,
    household_id: i64,
) -> Option<bool> {
    if role.may(crate::Permission::OperateSelection) {
        Some(true)
    } else if role == crate::Role::Resident && own_household == Some(household_id) {
        Some(false)
    } else {
        None
    }
}

/// How long the board (选房大屏) shows a unit as just taken, so the hall sees each sale happen.
pub const JUST_TAKEN_SECONDS: i64 = 60;

/// How the board shows a unit: `free`, `just` (sold within [`JUST_TAKEN_SECONDS`]) or `sold`.
pub fn unit_look(sold: bool, sold_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> &'static str {
    match (sold, sold_at) {
        (false, _) => "free",
        (true, Some(t)) if now - t < chrono::Duration::seconds(JUST_TAKEN_SECONDS) => "just",
        (true, _) => "sold",
    }
}

#[cfg(test)]
mod unit_look_tests {
    use super::*;

    #[test]
    fn a_sale_shows_as_just_taken_for_a_minute() {
        let now = Utc::now();
        let ago = |s: i64| Some(now - chrono::Duration::seconds(s));
        assert_eq!(unit_look(false, None, now), "free");
        assert_eq!(unit_look(true, ago(0), now), "just");
        assert_eq!(unit_look(true, ago(59), now), "just");
        assert_eq!(unit_look(true, ago(60), now), "sold");
        assert_eq!(unit_look(true, None, now), "sold");
    }
}

#[cfg(test)]
mod claim_right_tests {
    use super::*;
    use crate::Role;

    #[test]
    fn a_resident_claims_for_their_own_household_and_an_operator_for_any() {
        assert_eq!(claim_right(Role::Resident, Some(5), 5), Some(false));
        assert_eq!(claim_right(Role::Resident, Some(5), 6), None);
        assert_eq!(claim_right(Role::Resident, None, 6), None);
        assert_eq!(claim_right(Role::DepartmentStaff, None, 6), Some(true));
        assert_eq!(claim_right(Role::GridWorker, None, 6), None);
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use chrono::Duration;

    #[test]
    fn turns_follow_the_window_and_the_waves() {
        let t0: DateTime<Utc> = "2026-12-01T01:00:00Z".parse().unwrap();
        let window = (t0, t0 + Duration::hours(8));
        let waves = vec![
            Wave {
                from_order: 1,
                to_order: 200,
                opens_at: t0,
            },
            Wave {
                from_order: 201,
                to_order: 400,
                opens_at: t0 + Duration::minutes(30),
            },
        ];
        assert!(check_waves(window, &waves).is_ok());
        assert_eq!(check_turn(window, &waves, 5, t0), Ok(()));
        assert!(matches!(
            check_turn(window, &waves, 250, t0),
            Err(ClaimRefusal::NotYourTurn(_))
        ));
        assert_eq!(
            check_turn(window, &waves, 250, t0 + Duration::minutes(30)),
            Ok(())
        );
        assert!(matches!(
            check_turn(window, &waves, 401, t0 + Duration::hours(1)),
            Err(ClaimRefusal::NotYourTurn(_))
        ));
        assert!(matches!(
            check_turn(window, &[], 1, t0 - Duration::seconds(1)),
            Err(ClaimRefusal::NotYourTurn(_))
        ));
        assert!(matches!(
            check_turn(window, &[], 1, t0 + Duration::hours(8)),
            Err(ClaimRefusal::Closed(_))
        ));
        let overlapping = vec![
            waves[0].clone(),
            Wave {
                from_order: 150,
                ..waves[1].clone()
            },
        ];
        assert!(check_waves(window, &overlapping)
            .unwrap_err()
            .contains("重叠"));
        assert!(check_waves((t0, t0), &[]).is_err());
    }

    #[test]
    fn limits_and_unit_lists_are_checked() {
        let q = |s: &str| s.parse::<Qty>().unwrap();
        assert_eq!(check_limit(q("90"), &[q("45")], q("140")), Ok(()));
        assert!(matches!(
            check_limit(q("90"), &[q("70")], q("140")),
            Err(ClaimRefusal::OverLimit { .. })
        ));
        assert!(check_unit_ids(&[]).is_err());
        assert!(check_unit_ids(&[3, 3]).is_err());
        assert!(check_unit_ids(&[1, 2]).is_ok());
    }

    fn t0() -> DateTime<Utc> {
        "2026-12-01T01:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_time_limit_runs_from_the_call() {
        let mut q = Queue::new(vec![(10, 1)]);
        assert_eq!(
            q.current().unwrap().seconds_left(300, t0()),
            None,
            "not called yet"
        );
        q.apply(QueueAction::Call, t0()).unwrap();
        let e = q.current().unwrap();
        assert_eq!(
            e.seconds_left(300, t0() + Duration::seconds(100)),
            Some(200)
        );
        assert_eq!(e.seconds_left(300, t0() + Duration::seconds(900)), Some(0));
    }

    #[test]
    fn absent_households_go_to_the_end_after_three_calls() {
        let mut q = Queue::new(vec![(10, 2), (11, 1), (12, 3)]);
        assert_eq!(q.current().unwrap().household_id, 11);
        assert!(
            q.apply(QueueAction::Skip, t0()).is_err(),
            "not before three calls"
        );
        for _ in 0..3 {
            q.apply(QueueAction::Call, t0()).unwrap();
        }
        q.apply(QueueAction::Skip, t0()).unwrap();
        assert_eq!(q.current().unwrap().household_id, 10);
        q.apply(QueueAction::Finish, t0()).unwrap();
        assert_eq!(q.current().unwrap().household_id, 12);
        q.apply(QueueAction::Finish, t0()).unwrap();
        let back = q.current().unwrap();
        assert_eq!((back.household_id, back.skipped, back.calls), (11, 1, 0));
        q.apply(QueueAction::Finish, t0()).unwrap();
        assert!(q.current().is_none());
        assert!(q.apply(QueueAction::Call, t0()).is_err());
        q.reopen(12, false);
        assert_eq!(q.current().unwrap().household_id, 12);
    }

    #[test]
    fn only_the_household_called_and_at_the_desk_is_confirmed() {
        let mut q = Queue::new(vec![(10, 1), (11, 2)]);
        assert_eq!(q.may_confirm(10), Err(ClaimRefusal::NotPresent));
        assert_eq!(q.may_confirm(11), Err(ClaimRefusal::NotCalled));
        assert!(
            q.apply(QueueAction::Present, t0()).is_err(),
            "not before its call"
        );
        q.apply(QueueAction::Call, t0()).unwrap();
        assert_eq!(q.may_confirm(10), Err(ClaimRefusal::NotPresent));
        q.apply(QueueAction::Present, t0()).unwrap();
        assert_eq!(q.may_confirm(10), Ok(()));
        assert_eq!(q.may_confirm(11), Err(ClaimRefusal::NotCalled));
        q.apply(QueueAction::Call, t0()).unwrap();
        q.apply(QueueAction::Call, t0()).unwrap();
        assert!(
            q.apply(QueueAction::Skip, t0()).is_err(),
            "a household at the desk is not skipped"
        );
        // Finished, then its choice returned at the desk: it is current again, still present.
        q.apply(QueueAction::Finish, t0()).unwrap();
        assert_eq!(q.may_confirm(10), Err(ClaimRefusal::NotCalled));
        q.reopen(10, true);
        assert_eq!(q.may_confirm(10), Ok(()));
        // A correction calls it again from the start.
        q.reopen(10, false);
        assert_eq!(q.may_confirm(10), Err(ClaimRefusal::NotPresent));
        assert_eq!(q.current().unwrap().calls, 0);
    }

    #[test]
    fn what_is_still_to_choose_counts_each_registered_layout() {
        let reg = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(still_to_choose(&reg(&["C", "E"]), ["C"]), vec!["E"]);
        assert_eq!(still_to_choose(&reg(&["C", "E"]), ["E", "C"]).len(), 0);
        assert_eq!(still_to_choose(&reg(&["C", "C"]), ["C"]), vec!["C"]);
        assert_eq!(
            still_to_choose(&reg(&["C"]), ["A", "C", "C"]).len(),
            0,
            "units beyond the combination take nothing more"
        );
        assert_eq!(still_to_choose(&reg(&["B", "C"]), ["A"]), vec!["B", "C"]);
        assert!(still_to_choose(&[], ["A"]).is_empty());
    }

    #[test]
    fn a_choice_is_returned_only_in_its_window_before_the_signature() {
        let at = t0();
        let w = DEFAULT_RETURN_SECONDS;
        assert_eq!(
            check_return(at, false, false, w, at + Duration::seconds(119)),
            Ok(())
        );
        assert_eq!(
            check_return(at, false, false, w, at + Duration::seconds(120)),
            Err(ReturnRefusal::TooLate(120))
        );
        assert_eq!(
            check_return(at, true, false, w, at),
            Err(ReturnRefusal::Signed)
        );
        assert_eq!(
            check_return(at, false, true, w, at),
            Err(ReturnRefusal::Released)
        );
    }
}
