//! Roles (角色) and the part of the registry each user may see (scope, 数据范围).

use serde::{Deserialize, Serialize};

/// What a user does in the office, which decides the routes they reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 居民: sees their own household.
    Resident,
    /// 网格员: a cadre responsible for one or more grids.
    GridWorker,
    /// 村干部: an officer of one village or community.
    VillageOfficer,
    /// 科室工作人员: department staff of the subdistrict office.
    DepartmentStaff,
    /// 领导: a leader of the subdistrict office.
    Leader,
    /// 管理员: administers users, settings and imports.
    Admin,
}

impl Role {
    /// Every role, from least to most reach.
    pub const ALL: [Role; 6] = [
        Role::Resident,
        Role::GridWorker,
        Role::VillageOfficer,
        Role::DepartmentStaff,
        Role::Leader,
        Role::Admin,
    ];

    /// The stable code stored in databases and APIs.
    pub fn code(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::GridWorker => "grid_worker",
            Role::VillageOfficer => "village_officer",
            Role::DepartmentStaff => "department_staff",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }

    /// Reads a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Whether the role works inside the office (anyone but a resident).
    pub fn is_cadre(self) -> bool {
        self.may(crate::Permission::WorkInOffice)
    }

    /// Whether the role may open the full identity number and phone of people in its scope.
    /// Department staff route cases and need no more than the masked values.
    pub fn may_view_full_personal_data(self) -> bool {
        self.may(crate::Permission::ViewFullPersonalData)
    }

    /// Whether the role may import rosters, export unmasked lists and manage users.
    pub fn is_admin(self) -> bool {
        self.may(crate::Permission::ManageUsers)
    }
}

/// Reads a stored code.
impl TryFrom<String> for Role {
    type Error = crate::UnknownCode;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Role::parse(&code).ok_or(crate::UnknownCode { what: "Role", code })
    }
}

/// The part of the registry a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole subdistrict.
    Subdistrict,
    /// One village or community.
    Village(i64),
    /// The grids this cadre is responsible for.
    Grids(Vec<i64>),
    /// One household.
    Household(i64),
    /// Nothing (an account not yet attached to its place in the registry).
    Nothing,
}

impl Scope {
    /// Whether a household at this place is within the scope.
    pub fn covers(&self, village_id: i64, grid_id: i64, household_id: i64) -> bool {
        match self {
            Scope::Subdistrict => true,
            Scope::Village(v) => *v == village_id,
            Scope::Grids(gs) => gs.contains(&grid_id),
            Scope::Household(h) => *h == household_id,
            Scope::Nothing => false,
        }
    }

    /// The part of the registry a cadre's coverage view (宣传到户) counts: the whole subdistrict
    /// (`(None, None)`), one village, or some grids. A household or nothing has no coverage to
    /// see, so `None`.
    pub fn coverage_reach(&self) -> Option<(Option<i64>, Option<Vec<i64>>)> {
        match self {
            Scope::Subdistrict => Some((None, None)),
            Scope::Village(v) => Some((Some(*v), None)),
            Scope::Grids(g) => Some((None, Some(g.clone()))),
            Scope::Household(_) | Scope::Nothing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn coverage_is_counted_over_a_cadres_part_only() {
        assert_eq!(Scope::Subdistrict.coverage_reach(), Some((None, None)));
        assert_eq!(Scope::Village(4).coverage_reach(), Some((Some(4), None)));
        assert_eq!(
            Scope::Grids(vec![2, 5]).coverage_reach(),
            Some((None, Some(vec![2, 5])))
        );
        assert_eq!(Scope::Household(3).coverage_reach(), None);
        assert_eq!(Scope::Nothing.coverage_reach(), None);
    }

    #[test]
    fn scopes_cover_only_their_part() {
        assert!(Scope::Subdistrict.covers(1, 2, 3));
        assert!(Scope::Village(1).covers(1, 2, 3));
        assert!(!Scope::Village(9).covers(1, 2, 3));
        assert!(Scope::Grids(vec![5, 2]).covers(1, 2, 3));
        assert!(!Scope::Grids(vec![5]).covers(1, 2, 3));
        assert!(Scope::Household(3).covers(1, 2, 3));
        assert!(!Scope::Household(4).covers(1, 2, 3));
        assert!(!Scope::Nothing.covers(1, 2, 3));
    }

    #[test]
    fn only_department_staff_are_kept_from_full_personal_data() {
        let allowed: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may_view_full_personal_data())
            .collect();
        assert_eq!(allowed.len(), 5);
        assert!(!Role::DepartmentStaff.may_view_full_personal_data());
    }
}
