//! What every page shares: the chrome around it (navigation for the signed-in user's role,
//! language links, the CSRF token), people's names in place of internal identifiers, rendering,
//! and the error and not-found pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use yongxin_domain::Role;
use yongxin_store::User;

use crate::http::context::{percent_encode, Ctx};
use crate::http::error::AppError;
use crate::http::i18n::{Catalog, Lang};

/// What the page frame needs: language, user, CSRF token, the current path, the title.
pub struct Chrome {
    /// The catalog of the request's language.
    pub catalog: &'static Catalog,
    /// The request's language.
    pub lang: Lang,
    /// The signed-in user.
    pub user: Option<User>,
    /// CSRF token for forms.
    pub csrf: String,
    /// Current path and query.
    pub path: String,
    /// Page title (already translated).
    pub title: String,
}

/// A link of the navigation bar.
pub struct NavLink {
    /// Target.
    pub href: &'static str,
    /// Label (translated).
    pub label: String,
}

impl Chrome {
    /// The chrome of a page about one project: its title leads with the project's name.
    pub fn for_project(ctx: &Ctx, title_key: &str, project_name: &str) -> Self {
        let mut c = Self::new(ctx, title_key);
        c.title = format!("{project_name} · {}", c.title);
        c
    }

    /// The frame for a request, titled by a catalog key.
    pub fn new(ctx: &Ctx, title_key: &str) -> Self {
        let catalog = ctx.lang.catalog();
        Self {
            catalog,
            lang: ctx.lang,
            user: ctx.user.clone(),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            title: catalog.t(title_key).to_owned(),
        }
    }

    /// A message.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalog.t(key)
    }

    /// The `<html lang>` tag.
    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// The link that switches to the other language and comes back here.
    pub fn other_lang_href(&self) -> String {
        let other = if self.lang == Lang::ZhCn {
            Lang::En
        } else {
            Lang::ZhCn
        };
        format!(
            "/lang?set={}&next={}",
            other.tag(),
            percent_encode(&self.path)
        )
    }

    /// The name of the other language, in that language.
    pub fn other_lang_name(&self) -> &'static str {
        if self.lang == Lang::ZhCn {
            "English"
        } else {
            "中文"
        }
    }

    /// The navigation links the user's role reaches.
    pub fn nav(&self) -> Vec<NavLink> {
        let mut links = vec![
            ("/", "nav.home"),
            ("/notices", "nav.notices"),
            ("/consultations", "nav.consultations"),
        ];
        if let Some(u) = &self.user {
            links.push(("/projects", "nav.resettlement"));
            if u.role.is_cadre() {
                links.extend([
                    ("/meetings", "nav.meetings"),
                    ("/campaigns", "nav.campaigns"),
                    ("/appeals", "nav.appeals"),
                    ("/appeals/stats", "nav.stats"),
                    ("/appeals/hot", "nav.hot"),
                    ("/villages", "nav.villages"),
                    ("/grids", "nav.grids"),
                    ("/households", "nav.households"),
                ]);
            } else {
                links.extend([
                    ("/appeals", "nav.my_appeals"),
                    ("/households", "nav.my_household"),
                ]);
            }
            use yongxin_domain::Permission as P;
            for (permission, href, key) in [
                (P::ReadSupervision, "/supervision", "nav.supervision"),
                (P::WorkInOffice, "/scorecards", "nav.scorecards"),
                (P::ReadAudit, "/audit", "nav.audit"),
                (P::ManageProjects, "/admin/projects", "nav.projects"),
                (P::ManageUsers, "/admin/users", "nav.users"),
                (P::ManageUsers, "/admin/import", "nav.import"),
                (P::ManageCalendar, "/admin/calendar", "nav.calendar"),
                (P::ManageCategories, "/admin/categories", "nav.categories"),
                (P::ManageOpen311Keys, "/admin/open311", "nav.open311"),
            ] {
                if u.role.may(permission) {
                    links.push((href, key));
                }
            }
        } else {
            links.extend([
                ("/appeals/new", "nav.new_appeal"),
                ("/track", "nav.track"),
                ("/public/appeals", "nav.public"),
            ]);
        }
        links
            .into_iter()
            .map(|(href, key)| NavLink {
                href,
                label: self.t(key).to_owned(),
            })
            .collect()
    }

    /// A title as the language quotes one (《…》, “…”).
    pub fn quoted(&self, title: &str) -> String {
        self.catalog
            .format("list.title", &[("title", title.to_owned())])
    }

    /// The reason of a resettlement calculation, in the reader's language.
    pub fn calc_reason(&self, reason: &str) -> String {
        crate::resettlement::words::reason(self.catalog, reason)
    }

    /// A line of a resettlement calculation, in the reader's language.
    pub fn line_text(
        &self,
        line: &yongxin_domain::resettlement::entitlement::EntitlementLine,
    ) -> String {
        crate::resettlement::words::description(self.catalog, line)
    }

    /// The unit of a calculation line's quantity.
    pub fn line_unit(
        &self,
        line: &yongxin_domain::resettlement::entitlement::EntitlementLine,
    ) -> String {
        crate::resettlement::words::unit(self.catalog, line)
    }

    /// The heading of a group of calculation lines.
    pub fn line_group(&self, group: &yongxin_domain::resettlement::entitlement::LineGroup) -> &str {
        crate::resettlement::words::group(self.catalog, *group)
    }

    /// A unit of a purchase (an apartment, a layout).
    pub fn unit_label(
        &self,
        unit: &yongxin_domain::resettlement::entitlement::ChosenUnit,
    ) -> String {
        crate::resettlement::words::unit_label(self.catalog, unit)
    }

    /// The translated name of a role.
    pub fn role_name(&self, role: &Role) -> &str {
        self.catalog.t(role_key(*role))
    }

    /// The translated name of a village kind.
    pub fn kind_name(&self, kind: &yongxin_domain::VillageKind) -> &str {
        self.catalog.t(match *kind {
            yongxin_domain::VillageKind::Village => "kind.village",
            yongxin_domain::VillageKind::Community => "kind.community",
        })
    }

    /// A message with its `{n}` placeholder filled.
    pub fn format(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.catalog.format(key, &[("n", n.to_string())])
    }

    /// The label of a yellow or red card.
    pub fn card_label(&self, card: &str) -> String {
        self.catalog.t(&format!("appeal.card.{card}")).to_owned()
    }

    /// The button label of an appeal action.
    pub fn action_label(&self, action: &str) -> String {
        self.catalog.t(&format!("appeal.do.{action}")).to_owned()
    }

    /// The catalog key naming a grouping of the three rates.
    pub fn stats_group_key(&self, group: &str) -> &'static str {
        match group {
            "category" => "stats.group_category",
            "department" => "stats.group_department",
            "cadre" => "stats.group_cadre",
            "grid" => "stats.group_grid",
            _ => "stats.group_village",
        }
    }

    /// A rate as a percentage with one decimal, or a dash when there is nothing to count.
    pub fn percent(&self, rate: &Option<f64>) -> String {
        rate.map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "—".to_owned())
    }

    /// Whether the user works in the office.
    pub fn is_cadre(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_cadre())
    }
}

/// The catalog key of a role's name.
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Resident => "role.resident",
        Role::GridWorker => "role.grid_worker",
        Role::VillageOfficer => "role.village_officer",
        Role::DepartmentStaff => "role.department_staff",
        Role::Leader => "role.leader",
        Role::Admin => "role.admin",
    }
}

/// Renders a template into a response.
/// Who did something, as a person reads it: a user's name for their sign-in name, and plain
/// words for the system, the hotline platforms and residents without an account — never the
/// internal identifier the record keeps (`system:demo`, `anonymous:138****5678`, `staff`).
pub struct ActorNames {
    users: std::collections::HashMap<String, String>,
    catalog: &'static Catalog,
}

impl ActorNames {
    /// The names of every account.
    pub async fn load(
        state: &crate::AppState,
        catalog: &'static Catalog,
    ) -> Result<Self, AppError> {
        Ok(Self {
            users: state
                .store
                .users()
                .await?
                .into_iter()
                // A resident's name is masked as on every list the office sees.
                .map(|u| {
                    let name = if u.role == Role::Resident {
                        yongxin_domain::resettlement::masked_name(&u.display_name)
                    } else {
                        u.display_name
                    };
                    (u.username, name)
                })
                .collect(),
            catalog,
        })
    }

    /// The name to show for a record's actor.
    pub fn name(&self, actor: &str) -> String {
        if let Some(n) = self.users.get(actor) {
            return n.clone();
        }
        use yongxin_domain::actor::ActorKind;
        match ActorKind::of(actor) {
            ActorKind::System => self.catalog.t("actor.system").to_owned(),
            ActorKind::Anonymous => self.catalog.t("actor.anonymous").to_owned(),
            ActorKind::Tracked => self.catalog.t("actor.tracked").to_owned(),
            ActorKind::Resident => self.catalog.t("actor.resident").to_owned(),
            ActorKind::Platform(client) => self.catalog.format(
                "actor.platform",
                &[("name", client.unwrap_or_default().to_owned())],
            ),
            ActorKind::User(name) => name.to_owned(),
        }
    }
}

/// Renders a page, or the internal error when the template fails.
pub fn render<T: Template>(template: &T) -> Result<Response, AppError> {
    template
        .render()
        .map(|html| Html(html).into_response())
        .map_err(AppError::internal)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    message: String,
}

/// The page shown for an error.
pub fn render_error_page(ctx: &Ctx, err: &AppError) -> Response {
    let mut c = Chrome::new(ctx, "error.title");
    c.title = format!("{} {}", err.status.as_u16(), c.title);
    let page = ErrorPage {
        message: err.message(c.catalog),
        c,
    };
    match page.render() {
        Ok(html) => (err.status, Html(html)).into_response(),
        Err(_) => (err.status, err.code).into_response(),
    }
}

/// Anything not routed.
pub async fn not_found() -> AppError {
    AppError::not_found()
}

/// 404 as a status, for tests that compare.
pub const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
