//! The account commands of `auditlog`: `users` (the people who sign in) and `keys` (the API keys
//! of sending services), each recorded in the log like every administrative command.

use anyhow::Context as _;
use app::accounts::{Role, password};
use app::store::Store;
use clap::Subcommand;

use crate::{record_command, utc_minute};

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// Add a user. Prints a generated password once unless --password-stdin gives one.
    Add {
        name: String,
        /// owner, auditor, member or none.
        #[arg(long, default_value = "member")]
        role: String,
        /// The actor id of the events this person performs (what a Member sees); their name by
        /// default.
        #[arg(long)]
        actor_id: Option<String>,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users and their roles.
    List,
    /// Change a user's role (effective on their next request).
    SetRole { name: String, role: String },
    /// Give a user a new password (generated, or from standard input); ends their sessions.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user and end their sessions.
    Remove { name: String },
}

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key; its secret is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do: `ingest` (send events), `read` (read, tail and export events) or
        /// both, comma-separated.
        #[arg(long, default_value = "ingest,read")]
        scopes: String,
        /// The key stops working this many days from now (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        /// Print only the secret (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its number (`keys list` shows it): refused from the next request on.
    Revoke { id: i64 },
}

/// The password to set: one line of standard input, or a generated one (returned to be shown).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((password::generate(), true));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    app::accounts::check_password(&password).map_err(anyhow::Error::msg)?;
    Ok((password, false))
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role)
        .with_context(|| format!("unknown role `{role}`: use owner, auditor, member or none"))
}

pub(crate) async fn users(store: &Store, command: UsersCommand) -> anyhow::Result<()> {
    let (event, action, name, metadata) = match &command {
        UsersCommand::List => return run_users(store, command).await,
        UsersCommand::Add { name, role, .. } => (
            "User Added",
            "added",
            name,
            serde_json::json!({"role": role}),
        ),
        UsersCommand::SetRole { name, role } => (
            "Role Changed",
            "role_changed",
            name,
            serde_json::json!({"role": role}),
        ),
        UsersCommand::Passwd { name, .. } => (
            "Password Changed",
            "password_changed",
            name,
            serde_json::json!({}),
        ),
        UsersCommand::Remove { name } => ("User Removed", "removed", name, serde_json::json!({})),
    };
    let target = ("user", name.clone(), name.clone());
    let result = run_users(store, command).await;
    record_command(store, event, action, target, metadata, &result).await;
    result
}

async fn run_users(store: &Store, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add {
            name,
            role,
            actor_id,
            password_stdin,
        } => {
            app::accounts::check_name(&name).map_err(anyhow::Error::msg)?;
            let role = parse_role(&role)?;
            let (password, generated) = new_password(password_stdin)?;
            let hash = password::hash(&password);
            let actor = actor_id.unwrap_or_else(|| name.clone());
            let user = store.add_user(&name, role, &actor, &hash).await?;
            println!(
                "Added {} ({}, actor id {}).",
                user.name,
                user.role.label(),
                user.actor_id
            );
            if generated {
                println!("Password (shown only now): {password}");
            }
        }
        UsersCommand::List => {
            for u in store.users().await? {
                let created =
                    chrono::DateTime::from_timestamp_millis(u.created_at).unwrap_or_default();
                println!(
                    "{:<24} {:<9} actor {:<24} added {}",
                    u.name,
                    u.role.label(),
                    u.actor_id,
                    created.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UsersCommand::SetRole { name, role } => {
            let role = parse_role(&role)?;
            let user = store
                .set_role(&name, role)
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("{} is now {}.", user.name, user.role.label());
        }
        UsersCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            store
                .set_password(&name, &password::hash(&password))
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("{name}'s password was changed and their sessions ended.");
            if generated {
                println!("Password (shown only now): {password}");
            }
        }
        UsersCommand::Remove { name } => {
            store
                .remove_user(&name)
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("Removed {name}; their sessions ended.");
        }
    }
    Ok(())
}

pub(crate) async fn keys(store: &Store, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            name,
            scopes,
            expires_in_days,
            quiet,
        } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 200,
                "--name must be 1 to 200 characters"
            );
            let scopes = app::accounts::KeyScopes::parse(&scopes)
                .map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let expires_at = expires_in_days.map(|days| {
                (chrono::Utc::now() + chrono::Duration::days(i64::from(days))).timestamp_millis()
            });
            let created = store.create_api_key_with(name, scopes, expires_at).await;
            let result = created
                .as_ref()
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}"));
            let id = created
                .as_ref()
                .map_or(String::new(), |(k, _)| k.id.to_string());
            let target = ("api_key", id, name.to_string());
            record_command(
                store,
                "API Key Created",
                "created",
                target,
                serde_json::json!({"scopes": scopes.label(), "expires_at": expires_at}),
                &result,
            )
            .await;
            let (key, secret) = created?;
            if quiet {
                println!("{secret}");
            } else {
                println!(
                    "Created API key #{} \"{}\" (scopes: {}{}). Its secret is shown only now:\n\n  {secret}\n",
                    key.id,
                    key.name,
                    key.scopes.label(),
                    key.expires_at
                        .map(|t| format!("; expires {}", utc_minute(t)))
                        .unwrap_or_default(),
                );
                println!("Send events with:  Authorization: Bearer {secret}");
            }
        }
        KeysCommand::Revoke { id } => {
            let result = match store.revoke_api_key(id).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(anyhow::anyhow!("no live API key #{id}")),
                Err(e) => Err(e.into()),
            };
            let target = ("api_key", id.to_string(), format!("#{id}"));
            record_command(
                store,
                "API Key Revoked",
                "revoked",
                target,
                serde_json::json!({}),
                &result,
            )
            .await;
            result?;
            println!("Revoked API key #{id}.");
        }
        KeysCommand::List => {
            let keys = store.list_api_keys().await?;
            if keys.is_empty() {
                println!("No API keys. Create one with: auditlog keys create --name NAME");
            }
            let now = chrono::Utc::now().timestamp_millis();
            for k in keys {
                let status = if k.revoked {
                    "  (revoked)".to_string()
                } else if k.expired(now) {
                    "  (expired)".to_string()
                } else {
                    String::new()
                };
                println!(
                    "#{:<4} {:<30} {}…  {:<13} created {}  expires {}  last used {}{status}",
                    k.id,
                    k.name,
                    k.prefix,
                    k.scopes.label(),
                    utc_minute(k.created_at),
                    k.expires_at.map_or("never".into(), utc_minute),
                    k.last_used_at.map_or("never".into(), utc_minute),
                );
            }
        }
    }
    Ok(())
}
