//! Settings › Users and Settings › API Keys: what an Owner manages from the page. Every server
//! function here checks that the caller is an Owner (in the request, not the page), and records
//! what it changed as a self-audit event with the Owner, their address and user agent.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Role, User};

/// An API key as the page lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub revoked: bool,
    pub scopes: super::KeyScopes,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// Whether it had expired when it was listed.
    pub expired: bool,
}

impl KeyInfo {
    /// "Active", "Revoked" or "Expired".
    pub fn status(&self) -> &'static str {
        if self.revoked {
            "Revoked"
        } else if self.expired {
            "Expired"
        } else {
            "Active"
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::ApiKey> for KeyInfo {
    fn from(k: crate::store::ApiKey) -> Self {
        let expired = k.expired(chrono::Utc::now().timestamp_millis());
        Self {
            expired,
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            revoked: k.revoked,
            scopes: k.scopes,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// How long a key made in the page lasts: the choices of its "Expires" menu, in days (0: never).
pub const KEY_LIFETIMES: [(u32, &str); 5] = [
    (0, "Never"),
    (30, "In 30 days"),
    (90, "In 90 days"),
    (180, "In 180 days"),
    (365, "In 1 year"),
];

/// The signed-in Owner, or a 403 (for the other Owner-only pages' server functions).
#[cfg(feature = "ssr")]
pub(crate) async fn ssr_owner() -> Result<User, ServerFnError> {
    ssr::owner().await
}

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;

    use crate::accounts::audit::{self, Action};
    use crate::accounts::{Role, User};
    use crate::events::api::ssr::{internal, requesting, store, viewer};

    /// The signed-in Owner, or a 403.
    pub async fn owner() -> Result<User, ServerFnError> {
        let (user, _) = viewer().await?;
        if !user.role.manages() {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(http::StatusCode::FORBIDDEN);
            }
            return Err(ServerFnError::new("only Owners manage users and API keys"));
        }
        Ok(user)
    }

    /// Records what `owner` did, from the request's address and user agent.
    pub async fn record(owner: &User, action: Action) -> Result<(), ServerFnError> {
        audit::record(&store()?, &requesting(owner), action)
            .await
            .map_err(internal)
    }

    /// How many Owners there are: the last one cannot be demoted or removed.
    pub async fn owners() -> Result<usize, ServerFnError> {
        Ok(store()?
            .users()
            .await
            .map_err(internal)?
            .iter()
            .filter(|u| u.role == Role::Owner)
            .count())
    }
}

#[server(name = ListUsers)]
pub async fn list_users() -> Result<Vec<User>, ServerFnError> {
    ssr::owner().await?;
    crate::events::api::ssr::store()?
        .users()
        .await
        .map_err(crate::events::api::ssr::internal)
}

/// Adds a user with a generated password, returned once to show.
#[server(name = AddUser)]
pub async fn add_user(
    name: String,
    role: String,
    actor_id: String,
) -> Result<(User, String), ServerFnError> {
    use super::audit::Action;
    use super::password;
    let owner = ssr::owner().await?;
    let name = name.trim().to_string();
    super::check_name(&name).map_err(ServerFnError::new)?;
    let role = Role::parse(&role).ok_or_else(|| ServerFnError::new("unknown role"))?;
    let actor_id = match actor_id.trim() {
        "" => name.clone(),
        a => a.to_string(),
    };
    let password = password::generate();
    let hash = tokio::task::spawn_blocking({
        let p = password.clone();
        move || password::hash(&p)
    })
    .await
    .map_err(|_| ServerFnError::new("hashing failed"))?;
    let store = crate::events::api::ssr::store()?;
    let user = match store.add_user(&name, role, &actor_id, &hash).await {
        Ok(user) => user,
        Err(crate::store::AddUserError::Taken(n)) => {
            return Err(ServerFnError::new(format!(
                "a user named `{n}` already exists"
            )));
        }
        Err(crate::store::AddUserError::Store(e)) => {
            return Err(crate::events::api::ssr::internal(e));
        }
    };
    ssr::record(
        &owner,
        Action {
            event: "User Added",
            action: "added",
            success: true,
            target: Some(("user", user.actor_id.clone(), user.name.clone())),
            description: format!("{} added {} as {}", owner.name, user.name, role.label()),
            metadata: serde_json::json!({"role": role.as_str()}),
        },
    )
    .await?;
    Ok((user, password))
}

#[server(name = ChangeRole)]
pub async fn change_role(name: String, role: String) -> Result<User, ServerFnError> {
    use super::audit::Action;
    let owner = ssr::owner().await?;
    let role = Role::parse(&role).ok_or_else(|| ServerFnError::new("unknown role"))?;
    let store = crate::events::api::ssr::store()?;
    let current = store
        .user_with_hash(&name)
        .await
        .map_err(crate::events::api::ssr::internal)?
        .ok_or_else(|| ServerFnError::new(format!("no user named `{name}`")))?
        .0;
    if current.role == Role::Owner && role != Role::Owner && ssr::owners().await? <= 1 {
        return Err(ServerFnError::new("the last Owner keeps the Owner role"));
    }
    let user = store
        .set_role(&name, role)
        .await
        .map_err(crate::events::api::ssr::internal)?
        .ok_or_else(|| ServerFnError::new(format!("no user named `{name}`")))?;
    ssr::record(
        &owner,
        Action {
            event: "Role Changed",
            action: "role_changed",
            success: true,
            target: Some(("user", user.actor_id.clone(), user.name.clone())),
            description: format!(
                "{} changed {}'s role from {} to {}",
                owner.name,
                user.name,
                current.role.label(),
                role.label()
            ),
            metadata: serde_json::json!({"from": current.role.as_str(), "to": role.as_str()}),
        },
    )
    .await?;
    Ok(user)
}

#[server(name = RemoveUser)]
pub async fn remove_user(name: String) -> Result<(), ServerFnError> {
    use super::audit::Action;
    let owner = ssr::owner().await?;
    if name == owner.name {
        return Err(ServerFnError::new("you cannot remove yourself"));
    }
    let store = crate::events::api::ssr::store()?;
    let user = store
        .remove_user(&name)
        .await
        .map_err(crate::events::api::ssr::internal)?
        .ok_or_else(|| ServerFnError::new(format!("no user named `{name}`")))?;
    ssr::record(
        &owner,
        Action {
            event: "User Removed",
            action: "removed",
            success: true,
            target: Some(("user", user.actor_id.clone(), user.name.clone())),
            description: format!("{} removed {}", owner.name, user.name),
            metadata: serde_json::json!({"role": user.role.as_str()}),
        },
    )
    .await
}

#[server(name = ListKeys)]
pub async fn list_keys() -> Result<Vec<KeyInfo>, ServerFnError> {
    ssr::owner().await?;
    let keys = crate::events::api::ssr::store()?
        .list_api_keys()
        .await
        .map_err(crate::events::api::ssr::internal)?;
    Ok(keys.into_iter().map(KeyInfo::from).collect())
}

/// Creates an API key with the scopes `ingest` and/or `read`, lasting `days` (0: no expiry); its
/// secret is returned once, to show, and only its hash is kept.
#[server(name = CreateKey)]
pub async fn create_key(
    name: String,
    ingest: bool,
    read: bool,
    days: u32,
) -> Result<(KeyInfo, String), ServerFnError> {
    use super::audit::Action;
    let owner = ssr::owner().await?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServerFnError::new("the name must be 1 to 200 characters"));
    }
    if !ingest && !read {
        return Err(ServerFnError::new(
            "a key needs at least one scope: ingest, read or both",
        ));
    }
    if !KEY_LIFETIMES.iter().any(|(d, _)| *d == days) {
        return Err(ServerFnError::new(
            "the expiry must be never, 30, 90, 180 or 365 days",
        ));
    }
    let scopes = super::KeyScopes { ingest, read };
    let expires_at = (days > 0)
        .then(|| (chrono::Utc::now() + chrono::Duration::days(i64::from(days))).timestamp_millis());
    let (key, secret) = crate::events::api::ssr::store()?
        .create_api_key_with(&name, scopes, expires_at)
        .await
        .map_err(crate::events::api::ssr::internal)?;
    ssr::record(
        &owner,
        Action {
            event: "API Key Created",
            action: "created",
            success: true,
            target: Some(("api_key", key.id.to_string(), key.name.clone())),
            description: format!("{} created the API key {}", owner.name, key.name),
            metadata: serde_json::json!({
                "prefix": key.prefix,
                "scopes": key.scopes.label(),
                "expires_at": key.expires_at,
            }),
        },
    )
    .await?;
    Ok((KeyInfo::from(key), secret))
}

#[server(name = RevokeKey)]
pub async fn revoke_key(id: i64) -> Result<(), ServerFnError> {
    use super::audit::Action;
    let owner = ssr::owner().await?;
    let store = crate::events::api::ssr::store()?;
    let name = store
        .list_api_keys()
        .await
        .map_err(crate::events::api::ssr::internal)?
        .into_iter()
        .find(|k| k.id == id)
        .map_or_else(|| format!("#{id}"), |k| k.name);
    let revoked = store
        .revoke_api_key(id)
        .await
        .map_err(crate::events::api::ssr::internal)?;
    if !revoked {
        return Err(ServerFnError::new(format!("no live API key #{id}")));
    }
    ssr::record(
        &owner,
        Action {
            event: "API Key Revoked",
            action: "revoked",
            success: true,
            target: Some(("api_key", id.to_string(), name.clone())),
            description: format!("{} revoked the API key {name}", owner.name),
            metadata: serde_json::json!({}),
        },
    )
    .await
}

/// A server function's error, as the settings pages show it.
fn error_line(e: &ServerFnError) -> AnyView {
    let text = crate::events::page::clean_error(&e.to_string());
    view! { <p class="auth-error" role="alert">{text}</p> }.into_any()
}

/// A secret (a key's, a new user's password) shown once, after `message`.
fn shown_once(
    testid: &'static str,
    secret_testid: &'static str,
    message: String,
    secret: String,
) -> AnyView {
    view! {
        <div class="secret-once" data-testid=testid>
            <p>{message}</p>
            <code data-testid=secret_testid>{secret}</code>
        </div>
    }
    .into_any()
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Settings › API Keys.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_keys());
    let name = RwSignal::new(String::new());
    // Least privilege by default: a new key may send events, nothing more.
    let ingest = RwSignal::new(true);
    let read = RwSignal::new(false);
    let days = RwSignal::new(0u32);
    let create = Action::new(move |(n, i, r, d): &(String, bool, bool, u32)| {
        let (n, i, r, d) = (n.clone(), *i, *r, *d);
        async move { create_key(n, i, r, d).await }
    });
    let revoke = Action::new(move |id: &i64| {
        let id = *id;
        async move { revoke_key(id).await }
    });
    // Reloads the list after each change (both read, so the effect follows both).
    Effect::new(move |_| {
        let (created, revoked) = (create.version().get(), revoke.version().get());
        if created + revoked > 0 {
            keys.refetch();
        }
    });
    view! {
        <section class="page settings-page">
            <p class="breadcrumb">"Settings"</p>
            <h1>"API Keys"</h1>
            <p class="muted">"Services send events with a key: " <code>"Authorization: Bearer <key>"</code> ". A key's secret is shown once, when it is created. The " <strong>"ingest"</strong> " scope sends events; " <strong>"read"</strong> " reads, tails and exports them."</p>
            <form class="settings-form" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch((name.get_untracked(), ingest.get_untracked(), read.get_untracked(), days.get_untracked()));
            }>
                <label>"Name" <input data-testid="key-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) required /></label>
                <fieldset class="scopes">
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" data-testid="key-scope-ingest" prop:checked=ingest on:change=move |ev| ingest.set(event_target_checked(&ev)) />" ingest"</label>
                    <label><input type="checkbox" data-testid="key-scope-read" prop:checked=read on:change=move |ev| read.set(event_target_checked(&ev)) />" read"</label>
                </fieldset>
                <label>"Expires" <select data-testid="key-expires" on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {KEY_LIFETIMES.iter().map(|(d, label)| view! { <option value=d.to_string()>{*label}</option> }).collect_view()}
                </select></label>
                <button type="submit" class="btn btn-primary" data-testid="create-key">"Create key"</button>
            </form>
            {move || create.value().get().map(|r| match r {
                Ok((key, secret)) => shown_once(
                    "new-key",
                    "new-key-secret",
                    format!("Key “{}” created. Copy its secret now; it is not shown again:", key.name),
                    secret,
                ),
                Err(e) => error_line(&e),
            })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || keys.get().map(|r| match r {
                    Err(e) => error_line(&e),
                    Ok(list) => view! {
                        <table class="settings-table" data-testid="keys-table">
                            <thead><tr><th>"#"</th><th>"Name"</th><th>"Key"</th><th>"Scopes"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|k| {
                                    let id = k.id;
                                    view! {
                                        <tr data-testid="key-row">
                                            <td>{k.id}</td>
                                            <td>{k.name.clone()}</td>
                                            <td><code>{format!("{}…", k.prefix)}</code></td>
                                            <td data-testid="key-scopes">{k.scopes.label()}</td>
                                            <td>{date(k.created_at)}</td>
                                            <td>{k.expires_at.map_or_else(|| "Never".to_string(), date)}</td>
                                            <td data-testid="key-last-used">{k.last_used_at.map_or_else(|| "Never".to_string(), date)}</td>
                                            <td>{k.status()}</td>
                                            <td>{(!k.revoked).then(|| view! {
                                                <button class="btn" data-testid="revoke-key" on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Settings › Users.
#[component]
pub fn UsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    let name = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_string());
    let add = Action::new(move |(n, r, a): &(String, String, String)| {
        let (n, r, a) = (n.clone(), r.clone(), a.clone());
        async move { add_user(n, r, a).await }
    });
    let set_role = Action::new(move |(n, r): &(String, String)| {
        let (n, r) = (n.clone(), r.clone());
        async move { change_role(n, r).await.map(|_| ()) }
    });
    let remove = Action::new(move |n: &String| {
        let n = n.clone();
        async move { remove_user(n).await }
    });
    Effect::new(move |_| {
        let changes = add.version().get() + set_role.version().get() + remove.version().get();
        if changes > 0 {
            users.refetch();
        }
    });
    let role_options = move |selected: Role| {
        Role::ALL
            .into_iter()
            .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
            .collect_view()
    };
    view! {
        <section class="page settings-page">
            <p class="breadcrumb">"Settings"</p>
            <h1>"Users"</h1>
            <p class="muted">"Owners manage everything; Auditors read every event and export; Members see only the events they performed and those of system actors."</p>
            <form class="settings-form" on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((name.get_untracked(), role.get_untracked(), actor.get_untracked()));
            }>
                <label>"Name" <input data-testid="user-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) required /></label>
                <label>"Actor id" <input data-testid="user-actor" placeholder="their name" prop:value=actor on:input=move |ev| actor.set(event_target_value(&ev)) /></label>
                <label>"Role" <select data-testid="user-role" on:change=move |ev| role.set(event_target_value(&ev))>{role_options(Role::Member)}</select></label>
                <button type="submit" class="btn btn-primary" data-testid="add-user">"Add user"</button>
            </form>
            {move || add.value().get().map(|r| match r {
                Ok((user, password)) => shown_once(
                    "new-user",
                    "new-user-password",
                    format!("{} was added. Their password is shown only now:", user.name),
                    password,
                ),
                Err(e) => error_line(&e),
            })}
            {move || set_role.value().get().and_then(Result::err).or_else(|| remove.value().get().and_then(Result::err)).map(|e| error_line(&e))}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || users.get().map(|r| match r {
                    Err(e) => error_line(&e),
                    Ok(list) => view! {
                        <table class="settings-table" data-testid="users-table">
                            <thead><tr><th>"Name"</th><th>"Actor id"</th><th>"Role"</th><th>"Added"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let n1 = u.name.clone();
                                    let n2 = u.name.clone();
                                    view! {
                                        <tr data-testid="user-row">
                                            <td>{u.name.clone()}</td>
                                            <td><code>{u.actor_id.clone()}</code></td>
                                            <td>
                                                <select aria-label=format!("Role of {}", u.name) on:change=move |ev| { set_role.dispatch((n1.clone(), event_target_value(&ev))); }>
                                                    {role_options(u.role)}
                                                </select>
                                            </td>
                                            <td>{date(u.created_at)}</td>
                                            <td><button class="btn" on:click=move |_| { remove.dispatch(n2.clone()); }>"Remove"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
