//! Who did something (操作人), as the record, a case's history and the store name them: a user by
//! their user name, or one of the few actors that are not an account, each with its prefix.

use std::fmt;

/// Who acts in a change. The record keeps it as text; [`ActorKind::of`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

impl Actor {
    /// A signed-in user, by user name.
    pub fn user(username: &str) -> Self {
        Actor(username.to_owned())
    }

    /// A job of the server itself (`cards`, `auto-close`).
    pub fn system(job: &str) -> Self {
        Actor(format!("system:{job}"))
    }

    /// A resident without an account who filed a case, by their masked phone number.
    pub fn anonymous(masked_phone: &str) -> Self {
        Actor(format!("anonymous:{masked_phone}"))
    }

    /// A resident acting with a case's tracking code, by the case's masked phone number.
    pub fn tracked(masked_phone: &str) -> Self {
        Actor(format!("tracked:{masked_phone}"))
    }

    /// An outside platform sending through Open311, by the name of its key.
    pub fn platform(client: &str) -> Self {
        Actor(format!("open311:{client}"))
    }

    /// The actor as recorded.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An actor as the record spells it (tests, imports and the record's own text).
impl From<&str> for Actor {
    fn from(recorded: &str) -> Self {
        Actor(recorded.to_owned())
    }
}

impl From<&Actor> for String {
    fn from(actor: &Actor) -> Self {
        actor.0.clone()
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> Self {
        actor.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of actor a recorded name is, for showing it to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind<'a> {
    /// A user account, by user name.
    User(&'a str),
    /// The server itself.
    System,
    /// A resident without an account.
    Anonymous,
    /// A resident with a tracking code.
    Tracked,
    /// A household or resident acting on their own record.
    Resident,
    /// An outside platform, by its key's name when recorded.
    Platform(Option<&'a str>),
}

impl<'a> ActorKind<'a> {
    /// Reads a recorded actor.
    pub fn of(recorded: &'a str) -> Self {
        match recorded.split_once(':') {
            Some(("system", _)) => ActorKind::System,
            Some(("anonymous", _)) => ActorKind::Anonymous,
            Some(("tracked", _)) => ActorKind::Tracked,
            Some(("household" | "resident", _)) => ActorKind::Resident,
            Some(("open311", client)) => ActorKind::Platform(Some(client)),
            Some(("open311_key", _)) => ActorKind::Platform(None),
            _ => ActorKind::User(recorded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_actor_reads_back_as_itself() {
        assert_eq!(
            ActorKind::of(Actor::user("wang").as_str()),
            ActorKind::User("wang")
        );
        assert_eq!(
            ActorKind::of(Actor::system("cards").as_str()),
            ActorKind::System
        );
        assert_eq!(
            ActorKind::of(Actor::anonymous("139****5678").as_str()),
            ActorKind::Anonymous
        );
        assert_eq!(
            ActorKind::of(Actor::tracked("139****5678").as_str()),
            ActorKind::Tracked
        );
        assert_eq!(
            ActorKind::of(Actor::platform("12345热线").as_str()),
            ActorKind::Platform(Some("12345热线"))
        );
        assert_eq!(ActorKind::of("open311_key:7"), ActorKind::Platform(None));
        assert_eq!(ActorKind::of("household:12"), ActorKind::Resident);
    }

    #[test]
    fn the_record_keeps_the_text_it_always_kept() {
        assert_eq!(Actor::system("auto-close").to_string(), "system:auto-close");
        assert_eq!(String::from(&Actor::platform("x")), "open311:x");
        assert_eq!(Actor::from("admin"), Actor::user("admin"));
    }
}
