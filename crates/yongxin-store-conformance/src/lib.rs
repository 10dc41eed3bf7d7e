//! The conformance suite: behaviour every backend must show, run against SQLite in every
//! `cargo test` and against PostgreSQL when `YONGXIN_TEST_POSTGRES_URL` is set.
//!
//! A backend's test file calls [`conformance_tests!`] with an async expression that yields a
//! fresh, migrated, empty store or a [`Fresh`] (or `None`), and any attributes every test gets.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::sync::Arc;
use yongxin_domain::Actor;

use chrono::{Duration, Utc};
use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::registry::{Relation, VillageKind};
use yongxin_domain::roster::HouseholdRecord;
use yongxin_domain::{NewAuditEntry, Role, Scope};

use yongxin_domain::appeal::{
    AppealAction, AppealError, AppealPolicy, AppealStatus, Channel, Rating, Urgency,
};
use yongxin_domain::calendar::WorkingCalendar;
use yongxin_domain::catalogue::default_catalogue;
use yongxin_domain::resettlement::entitlement::MeasuredStructure;
use yongxin_domain::resettlement::policy::{Policy, StructureKind, EXAMPLE_TOML};
use yongxin_domain::resettlement::{Phase, PhaseError, ResettlementError};

use yongxin_store::{AppealId, HouseholdId, ProjectId};
use yongxin_store::{
    AppealQuery, AppealScope, Conflict, HouseholdQuery, NewAppeal, NewUser, NewVillage, StatsGroup,
    Store, StoreError,
};

/// Generates one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr $(, #[$attr:meta])*) => {
        $crate::conformance_tests!(@each $make; [$(#[$attr])*];
            empty_store_has_no_registry_and_a_valid_record,
            registry_round_trips_and_searches,
            scopes_limit_what_a_search_returns,
            reimport_replaces_members,
            conflicts_and_missing_rows_are_typed,
            users_sessions_and_tokens,
            sign_in_failures_are_counted_per_account_and_address,
            every_change_is_recorded_in_a_valid_chain,
            concurrent_writers_keep_one_chain,
            a_failed_write_leaves_concurrent_writes_intact,
            failed_intakes_leave_the_intakes_beside_them_intact,
            consultation_results_keep_the_village_of_the_answer,
            catalogue_and_calendars_round_trip,
            an_appeal_follows_its_lifecycle_to_the_end,
            a_refused_action_changes_nothing,
            appeal_searches_respect_scope_and_filters,
            concurrent_actions_on_one_case_apply_once,
            imported_histories_are_replayed_through_the_lifecycle,
            the_three_rates_count_what_was_on_time,
            the_kept_rates_agree_with_the_cases_themselves,
            the_desks_counts_agree_with_the_cases_themselves,
            the_outbox_hands_each_message_to_one_sender_until_delivered,
            the_outbox_is_listed_by_state_and_names_rating_links,
            supervision_notices_are_tracked_to_their_answer,
            photos_are_kept_with_their_appeal_and_events,
            a_resettlement_project_moves_through_its_phases,
            concurrent_claims_never_sell_a_unit_twice,
            the_selection_day_queue_and_turns_are_enforced,
            a_campaign_is_walked_to_every_household,
            campaign_targets_and_hand_assignment,
            the_weeks_head_is_published_once
        );
    };
    (@each $make:expr; $attrs:tt; $($name:ident),+) => {
        $(
            $crate::conformance_tests!(@one $make; $attrs; $name);
        )+
    };
    (@one $make:expr; [$(#[$attr:meta])*]; $name:ident) => {
        #[tokio::test]
        $(#[$attr])*
        async fn $name() {
            let Some(fresh) = $make.await else { return };
            let $crate::Fresh { store, keep: _keep } = fresh.into();
            $crate::$name(store).await;
        }
    };
}

/// A store for one check, with what must live as long as it (the temporary directory of a file).
pub struct Fresh {
    /// The store, migrated and empty.
    pub store: Arc<dyn Store>,
    /// Dropped when the check ends.
    pub keep: Option<Box<dyn std::any::Any + Send>>,
}

impl From<Arc<dyn Store>> for Fresh {
    fn from(store: Arc<dyn Store>) -> Self {
        Fresh { store, keep: None }
    }
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

async fn seeded(store: &dyn Store) -> yongxin_domain::demo::DemoSubdistrict {
    let demo = generate(42, DemoSize::SMALL);
    yongxin_demo::load(store, &demo, HASH).await.unwrap();
    demo
}

fn query(scope: Scope) -> HouseholdQuery {
    HouseholdQuery {
        scope,
        village_id: None,
        grid_id: None,
        text: None,
        page: 1,
        per_page: 20,
    }
}

async fn with_catalogue(store: &dyn Store) {
    for (i, c) in default_catalogue().iter().enumerate() {
        store
            .save_category(&Actor::user("admin"), c, i as i64, true)
            .await
            .unwrap();
    }
}

fn new_appeal(
    category: &str,
    description: &str,
    village_id: Option<i64>,
    resident: Option<(i64, HouseholdId)>,
) -> NewAppeal {
    let cat = default_catalogue()
        .into_iter()
        .find(|c| c.code == category)
        .unwrap();
    let now = Utc::now();
    let due = cat.deadlines(Urgency::Normal, now, &WorkingCalendar::official());
    let mut answers = std::collections::BTreeMap::new();
    for q in cat.questions.iter().filter(|q| q.required) {
        let value = q
            .choices
            .first()
            .map(|c| c.key.clone())
            .unwrap_or_else(|| "和园小区".into());
        answers.insert(q.code.clone(), vec![value]);
    }
    NewAppeal {
        category: category.into(),
        urgency: Urgency::Normal,
        channel: Channel::Web,
        title: description.chars().take(12).collect(),
        description: description.into(),
        answers,
        address: "前街1号".into(),
        latitude: None,
        longitude: None,
        village_id,
        grid_id: None,
        household_id: resident.map(|r| r.1),
        resident_user_id: resident.map(|r| r.0),
        contact_name: "张三".into(),
        contact_phone: "13912345678".into(),
        contact_email: None,
        department: cat.department,
        created_at: now,
        contact_due: due.contact_due,
        resolution_due: due.resolution_due,
    }
}

mod accounts;
mod appeals;
mod audit;
mod campaigns;
mod consultations;
mod outbox;
mod rates;
mod registry;
mod resettlement;
mod selection;

pub use accounts::*;
pub use appeals::*;
pub use audit::*;
pub use campaigns::*;
pub use consultations::*;
pub use outbox::*;
pub use rates::*;
pub use registry::*;
pub use resettlement::*;
pub use selection::*;
