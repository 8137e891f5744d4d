//! Signing in and out, and the gate in front of the pages.
//!
//! The sign-in and "no access" pages are plain HTML forms rendered here: they work before the
//! page's script loads, and nothing on them needs it. `POST /auth/sign-in` checks the name and
//! password (Argon2id), slows repeated failures down per name and per address
//! (`SignInThrottle`), and starts a session; `POST /auth/sign-out` ends it. Both refuse a form
//! posted from another site (`Sec-Fetch-Site`, else `Origin`), on top of the SameSite=Strict
//! cookie.
//!
//! The gate sends a browser that asks for a page without a session to the sign-in page (and back
//! to the page after), and shows a signed-in user without the Audit Logs permission a "no access"
//! page. It only decides what page to show: every server function and API route checks the caller
//! itself and applies the caller's scope in its query.

use std::net::SocketAddr;

use app::accounts::Actor;
use app::accounts::audit::{self, Action};
use app::accounts::session;
use app::accounts::{Role, User, password};
use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;

/// Where a browser goes after signing in when it names no page.
pub const HOME: &str = "/settings/audit-logs";

/// A `next` target that stays on this server: a path, not `//host` or a URL.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => HOME,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Audit Logs</title><link rel=\"stylesheet\" href=\"/pkg/auditlog.css\">\
         </head><body><main class=\"auth-page\"><section class=\"auth-card\">\
         <div class=\"brand\">Audit Logs</div>{body}</section></main></body></html>"
    )
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    error: Option<String>,
    wait: Option<u64>,
}

/// `GET /sign-in`: the form.
pub async fn sign_in_page(Query(q): Query<SignInQuery>) -> Response {
    let message = match (q.error.as_deref(), q.wait) {
        (Some("invalid"), _) => "That name and password do not match.".to_string(),
        (Some("throttled"), Some(s)) => {
            format!("Too many failed attempts. Try again in {s} seconds.")
        }
        (Some("throttled"), None) => "Too many failed attempts. Try again shortly.".to_string(),
        (Some("origin"), _) => "The form was not sent from this site.".to_string(),
        _ => String::new(),
    };
    let alert = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"auth-error\" role=\"alert\">{}</p>",
            escape(&message)
        )
    };
    let next = escape(local_path(q.next.as_deref()));
    let body = format!(
        "<h1>Sign in</h1>{alert}\
         <form method=\"post\" action=\"/auth/sign-in\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Name<input name=\"name\" autocomplete=\"username\" required autofocus></label>\
         <label>Password<input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" class=\"primary\">Sign in</button></form>"
    );
    let mut resp = Html(page("Sign in", &body)).into_response();
    no_store(&mut resp);
    resp
}

fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[derive(Deserialize)]
pub struct SignInForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /auth/sign-in`.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = local_path(form.next.as_deref()).to_string();
    let back = |error: &str, wait: Option<u64>| {
        let mut to = format!("/sign-in?error={error}&next={}", urlencode(&next));
        if let Some(w) = wait {
            to.push_str(&format!("&wait={w}"));
        }
        Redirect::to(&to).into_response()
    };
    if !session::same_origin(&headers) {
        return back("origin", None);
    }
    let ip = peer.ip().to_string();
    let name = form.name.trim().to_string();
    if let Err(wait) = state.throttle.check(&name, &ip) {
        let secs = wait.as_secs().max(1);
        if state.throttle.first_refusal(&name, &ip) {
            let tried: String = name.chars().take(64).collect();
            let actor = tried_actor(&tried, &ip, user_agent(&headers));
            record(
                &state,
                &actor,
                Action {
                    event: "Sign-in Throttled",
                    action: "sign_in",
                    success: false,
                    target: None,
                    description: format!(
                        "Sign-ins as {tried} were refused for {secs} s after repeated failures"
                    ),
                    metadata: serde_json::json!({"name": tried, "wait_seconds": secs}),
                },
            )
            .await;
        }
        let mut resp = back("throttled", Some(secs));
        *resp.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let found = match state.store.user_with_hash(&name).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "sign-in lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Verified off the async threads (Argon2 takes tens of milliseconds), against a decoy when the
    // name is unknown, so the answer takes as long either way.
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, password::decoy().to_string()),
    };
    let pw = form.password;
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .unwrap_or(false);
    let agent = user_agent(&headers);
    let Some(user) = user.filter(|_| ok) else {
        state.throttle.failed(&name, &ip);
        // Debug formatting: a name with line breaks cannot forge lines of the server's log.
        tracing::info!(name = ?name, ip = %ip, "failed sign-in");
        let tried: String = name.chars().take(64).collect();
        let actor = tried_actor(&tried, &ip, agent);
        record(
            &state,
            &actor,
            Action {
                event: "Sign-in Failed",
                action: "sign_in",
                success: false,
                target: None,
                description: format!("A sign-in as {tried} failed"),
                metadata: serde_json::json!({"name": tried}),
            },
        )
        .await;
        return back("invalid", None);
    };
    state.throttle.succeeded(&name, &ip);
    // A new session id at every sign-in: a session the browser held before (another user's, or
    // one planted on it) ends here.
    if let Some(old) = session::token_from(&headers, &state.sessions)
        && let Err(e) = state.store.end_session(&session::token_hash(&old)).await
    {
        tracing::error!(error = %e, "ending the previous session failed");
    }
    let actor = Actor::user(&user, Some(ip.clone()), agent);
    let token = session::new_token();
    let now = chrono::Utc::now().timestamp_millis();
    if let Err(e) = state
        .store
        .add_session(&session::token_hash(&token), user.id, now)
        .await
    {
        tracing::error!(error = %e, "storing a session failed");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    record(
        &state,
        &actor,
        Action {
            event: "Signed In",
            action: "sign_in",
            success: true,
            target: None,
            description: format!("{} signed in", user.name),
            metadata: serde_json::json!({"role": user.role.as_str()}),
        },
    )
    .await;
    let mut resp = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&token, &state.sessions)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The visitor who tried to sign in as `tried` (the name typed, never the password).
fn tried_actor(tried: &str, ip: &str, user_agent: Option<String>) -> Actor {
    Actor {
        id: if tried.is_empty() {
            "(empty)".into()
        } else {
            tried.to_string()
        },
        name: tried.to_string(),
        kind: "user",
        ip: Some(ip.to_string()),
        user_agent,
    }
}

/// `POST /auth/sign-out`: ends the session (if any) and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !session::same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "the form was not sent from this site",
        )
            .into_response();
    }
    if let Ok(Some(user)) = session::current_user(&state.store, &headers, &state.sessions).await {
        let actor = Actor::user(&user, Some(peer.ip().to_string()), user_agent(&headers));
        record(
            &state,
            &actor,
            Action {
                event: "Signed Out",
                action: "sign_out",
                success: true,
                target: None,
                description: format!("{} signed out", user.name),
                metadata: serde_json::json!({}),
            },
        )
        .await;
    }
    if let Some(token) = session::token_from(&headers, &state.sessions)
        && let Err(e) = state.store.end_session(&session::token_hash(&token)).await
    {
        tracing::error!(error = %e, "ending a session failed");
    }
    let mut resp = Redirect::to("/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(&state.sessions)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Records a self-audit event; a failure to record is logged, and the request goes on.
async fn record(state: &AppState, actor: &Actor, action: Action) {
    if let Err(e) = audit::record(&state.store, actor, action).await {
        tracing::error!(error = %e, "recording a self-audit event failed");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `path` is a page (rather than the API, a server function, a script or a file).
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path.starts_with("/auth/")
        || path == "/sign-in"
        || path == "/favicon.ico")
}

/// The gate in front of the pages (see the module doc).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::GET || !is_page(req.uri().path()) {
        return next.run(req).await;
    }
    let user = match session::current_user(&state.store, req.headers(), &state.sessions).await {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    match user {
        None => {
            let here = req
                .uri()
                .path_and_query()
                .map_or(HOME.to_string(), |p| p.as_str().to_string());
            let mut resp =
                Redirect::to(&format!("/sign-in?next={}", urlencode(&here))).into_response();
            no_store(&mut resp);
            resp
        }
        Some(user) if user.role == Role::None => no_access(&user),
        Some(_) => next.run(req).await,
    }
}

/// The page a signed-in user without the Audit Logs permission sees (403).
fn no_access(user: &User) -> Response {
    let body = format!(
        "<h1>No access</h1><p>You are signed in as <strong>{}</strong>, whose role has no access \
         to Audit Logs. Ask an Owner for the Auditor or Member role.</p>\
         <form method=\"post\" action=\"/auth/sign-out\">\
         <button type=\"submit\">Sign out</button></form>",
        escape(&user.name)
    );
    let mut resp = (StatusCode::FORBIDDEN, Html(page("No access", &body))).into_response();
    no_store(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(
            local_path(Some("/settings/audit-logs?f=x")),
            "/settings/audit-logs?f=x"
        );
        assert_eq!(local_path(Some("//evil.example/x")), HOME);
        assert_eq!(local_path(Some("https://evil.example")), HOME);
        assert_eq!(local_path(Some("/\\evil.example")), HOME);
        assert_eq!(local_path(None), HOME);
    }

    #[test]
    fn pages_are_gated_and_the_rest_is_not() {
        assert!(is_page("/settings/audit-logs"));
        assert!(is_page("/settings/audit-logs/events/4"));
        assert!(!is_page("/api/v1/events"));
        assert!(!is_page("/api/list_events123"));
        assert!(!is_page("/pkg/auditlog.wasm"));
        assert!(!is_page("/sign-in"));
    }
}
