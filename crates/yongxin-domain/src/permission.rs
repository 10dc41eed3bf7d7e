//! Who may do what (权限): one table of [`Permission`]s by [`Role`], asked by pages, the API,
//! Open311 and the navigation alike, so no handler carries its own list of roles.
//!
//! A permission says what a role may do at all; whether the object is within the user's part
//! of the registry is the scope's question ([`crate::Scope`]), asked by the loaders.

use crate::Role;

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Work in the office at all: the cadres' lists, the registry within scope.
    WorkInOffice,
    /// Read the office's internal notes on cases (a resident reads only what is meant for them).
    ReadInternalNotes,
    /// Be assigned cases to handle (承办).
    HandleAppeals,
    /// Open the full identity number and phone of people in scope (each view recorded).
    ViewFullPersonalData,
    /// File an appeal on a household's behalf at the desk (phone calls, walk-ins, visits).
    FileAppealForHousehold,
    /// Accept, decline, assign and merge cases of the whole subdistrict (派单).
    DispatchAllAppeals,
    /// Dispatch the cases of one's own village (village officers).
    DispatchVillageAppeals,
    /// Rate the handling of one's own case (回访评价).
    RateAppeal,
    /// Record the rating a resident gives on the phone (电话回访), on a case one does not handle.
    RecordRatingCall,
    /// Issue a supervision notice (督办).
    Supervise,
    /// Read the supervision desk (red and yellow cards, open notices).
    ReadSupervision,
    /// Answer any supervision notice, not only those about one's own cases.
    AnswerAnySupervision,
    /// See hot issues with case numbers and places.
    ReadHotIssues,
    /// Publish and correct notices (公告, 公示).
    PublishNotice,
    /// Run consultations (征求意见) and read free-text answers.
    RunConsultation,
    /// Hold meetings (village officers: of their own village).
    OrganiseMeeting,
    /// Run door-to-door campaigns (入户走访): create them, assign households, read all progress.
    RunCampaign,
    /// Visit households of a campaign and record the visits.
    VisitHouseholds,
    /// Correct a visit recorded by someone else or long ago, with a reason (the household's
    /// village officer; the rule is `campaign::may_correct`).
    CorrectVisit,
    /// Create projects and choose their villages.
    ManageProjects,
    /// Move a resettlement project's phase, publish its policy and results.
    RunResettlement,
    /// Assess households and see a project's whole household list.
    AssessHouseholds,
    /// Freeze the lottery list and draw (摇号).
    DrawLottery,
    /// Operate house selection on households' behalf (现场选房), set up selections.
    OperateSelection,
    /// Correct a confirmed choice of apartments.
    CorrectClaim,
    /// Read the audit record.
    ReadAudit,
    /// Manage users, import rosters and export unmasked lists.
    ManageUsers,
    /// Load working-day calendars.
    ManageCalendar,
    /// Edit the service catalogue.
    ManageCategories,
    /// Issue and revoke Open311 keys.
    ManageOpen311Keys,
    /// Revoke anyone's API tokens.
    RevokeApiTokens,
    /// Read the server's metrics.
    ReadMetrics,
    /// Read every notification the office sent or holds (通知发送记录), recipients masked.
    ReadOutbox,
    /// Read every group's scorecard (考核); other cadres read their own.
    ReadAllScorecards,
}

impl Permission {
    /// Every permission, for the table's tests and documentation.
    pub const ALL: [Permission; 34] = [
        Permission::WorkInOffice,
        Permission::ReadInternalNotes,
        Permission::HandleAppeals,
        Permission::ViewFullPersonalData,
        Permission::FileAppealForHousehold,
        Permission::DispatchAllAppeals,
        Permission::DispatchVillageAppeals,
        Permission::RateAppeal,
        Permission::RecordRatingCall,
        Permission::Supervise,
        Permission::ReadSupervision,
        Permission::AnswerAnySupervision,
        Permission::ReadHotIssues,
        Permission::PublishNotice,
        Permission::RunConsultation,
        Permission::OrganiseMeeting,
        Permission::RunCampaign,
        Permission::VisitHouseholds,
        Permission::CorrectVisit,
        Permission::ManageProjects,
        Permission::RunResettlement,
        Permission::AssessHouseholds,
        Permission::DrawLottery,
        Permission::OperateSelection,
        Permission::CorrectClaim,
        Permission::ReadAudit,
        Permission::ManageUsers,
        Permission::ManageCalendar,
        Permission::ManageCategories,
        Permission::ManageOpen311Keys,
        Permission::RevokeApiTokens,
        Permission::ReadMetrics,
        Permission::ReadOutbox,
        Permission::ReadAllScorecards,
    ];

    /// The roles holding this permission.
    pub fn roles(self) -> &'static [Role] {
        use Role::{Admin, DepartmentStaff, GridWorker, Leader, Resident, VillageOfficer};
        match self {
            Permission::WorkInOffice
            | Permission::ReadInternalNotes
            | Permission::FileAppealForHousehold => {
                &[GridWorker, VillageOfficer, DepartmentStaff, Leader, Admin]
            }
            // Leaders supervise and administrators keep the system; neither takes cases.
            Permission::HandleAppeals => &[GridWorker, VillageOfficer, DepartmentStaff],
            // Department staff route cases and need no more than the masked values.
            Permission::ViewFullPersonalData => {
                &[Resident, GridWorker, VillageOfficer, Leader, Admin]
            }
            Permission::DispatchAllAppeals
            | Permission::ReadSupervision
            | Permission::ReadHotIssues
            | Permission::PublishNotice
            | Permission::RunConsultation
            | Permission::AssessHouseholds
            | Permission::OperateSelection
            | Permission::RunCampaign
            | Permission::ReadAllScorecards => &[DepartmentStaff, Leader, Admin],
            // The essay's drives sent every kind of cadre to the doors, leaders included.
            Permission::VisitHouseholds => &[GridWorker, VillageOfficer, DepartmentStaff, Leader],
            Permission::DispatchVillageAppeals | Permission::CorrectVisit => &[VillageOfficer],
            Permission::RateAppeal => &[Resident],
            // The desk that calls residents back; grid workers handle cases and do not judge
            // their neighbours' handling.
            Permission::RecordRatingCall => &[VillageOfficer, DepartmentStaff, Leader, Admin],
            Permission::Supervise
            | Permission::ManageProjects
            | Permission::RunResettlement
            | Permission::DrawLottery
            | Permission::ReadAudit => &[Leader, Admin],
            Permission::AnswerAnySupervision => &[DepartmentStaff, Admin],
            Permission::OrganiseMeeting => &[VillageOfficer, DepartmentStaff, Leader, Admin],
            Permission::CorrectClaim
            | Permission::ManageUsers
            | Permission::ManageCalendar
            | Permission::ManageCategories
            | Permission::ManageOpen311Keys
            | Permission::RevokeApiTokens
            | Permission::ReadMetrics
            | Permission::ReadOutbox => &[Admin],
        }
    }
}

impl Role {
    /// Whether this role holds a permission.
    pub fn may(self, permission: Permission) -> bool {
        permission.roles().contains(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    /// The whole table, written out once more by role so a change shows as a changed line here.
    #[test]
    fn the_table() {
        // An administrator holds everything but what belongs to a role by its nature: rating
        // one's own case, dispatching one's own village, handling cases, knocking on doors.
        let admin: Vec<Permission> = P::ALL
            .into_iter()
            .filter(|p| {
                !matches!(
                    p,
                    P::RateAppeal
                        | P::DispatchVillageAppeals
                        | P::HandleAppeals
                        | P::VisitHouseholds
                        | P::CorrectVisit
                )
            })
            .collect();
        let expected: [(Role, &[Permission]); 6] = [
            (Role::Resident, &[P::ViewFullPersonalData, P::RateAppeal]),
            (
                Role::GridWorker,
                &[
                    P::WorkInOffice,
                    P::ReadInternalNotes,
                    P::HandleAppeals,
                    P::ViewFullPersonalData,
                    P::FileAppealForHousehold,
                    P::VisitHouseholds,
                ],
            ),
            (
                Role::VillageOfficer,
                &[
                    P::WorkInOffice,
                    P::ReadInternalNotes,
                    P::HandleAppeals,
                    P::ViewFullPersonalData,
                    P::FileAppealForHousehold,
                    P::DispatchVillageAppeals,
                    P::RecordRatingCall,
                    P::OrganiseMeeting,
                    P::VisitHouseholds,
                    P::CorrectVisit,
                ],
            ),
            (
                Role::DepartmentStaff,
                &[
                    P::WorkInOffice,
                    P::ReadInternalNotes,
                    P::HandleAppeals,
                    P::FileAppealForHousehold,
                    P::DispatchAllAppeals,
                    P::RecordRatingCall,
                    P::ReadSupervision,
                    P::AnswerAnySupervision,
                    P::ReadHotIssues,
                    P::PublishNotice,
                    P::RunConsultation,
                    P::OrganiseMeeting,
                    P::RunCampaign,
                    P::VisitHouseholds,
                    P::AssessHouseholds,
                    P::OperateSelection,
                    P::ReadAllScorecards,
                ],
            ),
            (
                Role::Leader,
                &[
                    P::WorkInOffice,
                    P::ReadInternalNotes,
                    P::ViewFullPersonalData,
                    P::FileAppealForHousehold,
                    P::DispatchAllAppeals,
                    P::RecordRatingCall,
                    P::Supervise,
                    P::ReadSupervision,
                    P::ReadHotIssues,
                    P::PublishNotice,
                    P::RunConsultation,
                    P::OrganiseMeeting,
                    P::RunCampaign,
                    P::VisitHouseholds,
                    P::ManageProjects,
                    P::RunResettlement,
                    P::AssessHouseholds,
                    P::DrawLottery,
                    P::OperateSelection,
                    P::ReadAudit,
                    P::ReadAllScorecards,
                ],
            ),
            (Role::Admin, &admin),
        ];
        for (role, allowed) in expected {
            for p in P::ALL {
                assert_eq!(
                    role.may(p),
                    allowed.contains(&p),
                    "{role:?} {p:?}: the table says {}",
                    role.may(p)
                );
            }
        }
    }

    #[test]
    fn every_permission_is_held_by_someone_and_listed_once() {
        for p in P::ALL {
            assert!(!p.roles().is_empty(), "{p:?}");
            assert_eq!(P::ALL.iter().filter(|q| **q == p).count(), 1, "{p:?}");
        }
    }

    #[test]
    fn residents_never_reach_office_work() {
        for p in P::ALL {
            if Role::Resident.may(p) {
                assert!(
                    matches!(p, P::ViewFullPersonalData | P::RateAppeal),
                    "{p:?}"
                );
            }
        }
    }
}
