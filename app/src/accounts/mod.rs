//! Who may see what: the people who sign in to the viewer, their roles, and what each role's
//! events are. Shared by the server (which enforces it in every query) and the page (which only
//! shows it).

#[cfg(feature = "ssr")]
pub mod audit;
pub mod integrity;
#[cfg(feature = "ssr")]
pub mod looked;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;
pub mod settings;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

/// A person's role in Audit Logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: all events, users, API keys, settings.
    Owner,
    /// All events and exports; no management.
    Auditor,
    /// Only the events they performed themselves (their actor id), plus events of system actors.
    Member,
    /// Signed in, but without the Audit Logs permission: sees a "no access" page.
    None,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Auditor, Role::Member, Role::None];

    /// The stored and command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Auditor => "auditor",
            Role::Member => "member",
            Role::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Auditor => "Auditor",
            Role::Member => "Member",
            Role::None => "No access",
        }
    }

    /// May manage users, API keys and settings.
    pub fn manages(self) -> bool {
        self == Role::Owner
    }
}

/// Who did something the viewer records about itself (an export, a sign-in, a change of users or
/// keys): a signed-in user, an API key, a visitor who tried to sign in, or the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The actor id: a user's own (`User::actor_id`), `key_N` for an API key, `user@host` for the
    /// command line.
    pub id: String,
    pub name: String,
    /// The actor type: "user", "app" (an API key) or "system" (the command line).
    pub kind: &'static str,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// A signed-in user (or the user whose name was tried) at `ip` with `user_agent`.
    pub fn user(user: &User, ip: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            id: user.actor_id.clone(),
            name: user.name.clone(),
            kind: "user",
            ip,
            user_agent,
        }
    }
}

/// What an API key may do. A key has at least one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyScopes {
    /// May send events (`POST /api/v1/events`).
    pub ingest: bool,
    /// May read, tail and export events (every other `/api/v1` route).
    pub read: bool,
}

impl KeyScopes {
    pub const ALL: KeyScopes = KeyScopes {
        ingest: true,
        read: true,
    };

    /// Parses `ingest`, `read` or both (`ingest,read`); an error names what it did not know.
    pub fn parse(s: &str) -> Result<KeyScopes, String> {
        let mut scopes = KeyScopes {
            ingest: false,
            read: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "ingest" => scopes.ingest = true,
                "read" => scopes.read = true,
                other => {
                    return Err(format!(
                        "unknown scope `{other}`: a key's scopes are `ingest` and `read`"
                    ));
                }
            }
        }
        if !scopes.ingest && !scopes.read {
            return Err("a key needs at least one scope: `ingest`, `read` or both".into());
        }
        Ok(scopes)
    }

    /// `ingest`, `read` or `ingest, read`, as lists show them.
    pub fn label(self) -> String {
        [(self.ingest, "ingest"), (self.read, "read")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A person who signs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    /// The sign-in name (unique, as typed when the user was added).
    pub name: String,
    pub role: Role,
    /// The `actor.id` their own events carry: what a Member sees.
    pub actor_id: String,
    /// Epoch milliseconds.
    pub created_at: i64,
}

impl User {
    /// The events this user may see, as a filter the store ANDs into every query
    /// (`EventQuery::scope`); `None` when the role has no access to Audit Logs at all.
    pub fn scope(&self) -> Option<Filter> {
        match self.role {
            Role::Owner | Role::Auditor => Some(Filter::default()),
            Role::Member => Some(member_scope(&self.actor_id)),
            Role::None => None,
        }
    }
}

/// A Member's events: performed by `actor_id`, or by a system actor.
pub fn member_scope(actor_id: &str) -> Filter {
    let is = |field, value: &str| {
        Item::Condition(Condition {
            field,
            op: Op::Is,
            values: vec![value.to_string()],
        })
    };
    Filter {
        combine: Combine::Any,
        items: vec![is(Field::ActorId, actor_id), is(Field::ActorType, "system")],
    }
}

/// The signed-in user (an error without a session, or for a role without access).
#[server(name = WhoAmI)]
pub async fn who_am_i() -> Result<User, ServerFnError> {
    crate::events::api::ssr::viewer()
        .await
        .map(|(user, _)| user)
}

/// The signed-in user and their role at the foot of the sidebar, with "Sign out" (a plain form:
/// it works before the page's script has loaded).
#[component]
pub fn AccountBox() -> impl IntoView {
    let me = Resource::new(|| (), |_| who_am_i());
    view! {
        <div class="account">
            <Suspense fallback=|| ()>
                {move || {
                    me.get()
                        .and_then(Result::ok)
                        .map(|u| {
                            view! {
                                <p class="account-name" data-testid="account-name">{u.name}</p>
                                <p class="account-role">{u.role.label()}</p>
                            }
                        })
                }}
            </Suspense>
            <form method="post" action="/auth/sign-out">
                <button type="submit">"Sign out"</button>
            </form>
        </div>
    }
}

/// Why a sign-in name or password is refused when a user is added; names the limit.
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if !(1..=64).contains(&n) {
        return Err(format!("the name must be 1 to 64 characters (it is {n})"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the name must not contain spaces or control characters".into());
    }
    Ok(())
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters (it is {n})"
        ));
    }
    if password.len() > 1024 {
        return Err("the password must be at most 1024 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_only_owners_manage() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(Role::Owner.manages());
        assert!(!Role::Auditor.manages() && !Role::Member.manages());
    }

    #[test]
    fn each_role_sees_its_events() {
        let user = |role| User {
            id: 1,
            name: "ann".into(),
            role,
            actor_id: "usr_1".into(),
            created_at: 0,
        };
        assert_eq!(user(Role::Owner).scope(), Some(Filter::default()));
        assert_eq!(user(Role::Auditor).scope(), Some(Filter::default()));
        assert_eq!(user(Role::None).scope(), None);
        assert_eq!(user(Role::Member).scope(), Some(member_scope("usr_1")));
    }

    #[test]
    fn names_and_passwords_have_clear_limits() {
        assert!(check_name("ann").is_ok());
        assert!(check_name("").unwrap_err().contains("1 to 64"));
        assert!(check_name("a b").unwrap_err().contains("spaces"));
        assert!(check_password("short").unwrap_err().contains("at least 12"));
        assert!(check_password("a long enough one").is_ok());
    }
}
