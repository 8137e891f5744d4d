//! Audit Logs: the shared application crate.
//!
//! Components, server functions and the event model are compiled for both the server (`ssr`) and
//! the browser (`hydrate`); the store is server-only.

#![recursion_limit = "256"]

pub mod accounts;
pub mod events;
pub mod export;
pub mod filters;
#[cfg(feature = "ssr")]
pub mod store;
pub mod tail;
pub mod timerange;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use events::drawer::EventDrawer;
use events::page::AuditLogsPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/auditlog.css" />
        <Title text="Audit Logs" />
        <Router>
            <div class="layout">
                <nav class="sidebar">
                    <div class="brand">"Audit Logs"</div>
                    <p class="nav-title">"Settings"</p>
                    <A href="/settings/audit-logs">"Audit Logs"</A>
                    <A href="/settings/users">"Users"</A>
                    <A href="/settings/api-keys">"API Keys"</A>
                    <A href="/settings/integrity">"Integrity"</A>
                    <accounts::AccountBox />
                </nav>
                <main class="content">
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=|| view! { <Redirect path="/settings/audit-logs" /> } />
                        <Route path=path!("/settings/users") view=accounts::settings::UsersPage />
                        <Route path=path!("/settings/api-keys") view=accounts::settings::ApiKeysPage />
                        <Route path=path!("/settings/integrity") view=accounts::integrity::IntegrityPage />
                        // The drawer of one event is a child route, so the page (and its table)
                        // stays as it is while the drawer opens, changes event and closes.
                        <ParentRoute path=path!("/settings/audit-logs") view=AuditLogsPage>
                            <Route path=path!("") view=|| () />
                            // Rendered whole before it is sent, so an unknown event is a 404.
                            <Route path=path!("events/:id") view=EventDrawer ssr=SsrMode::Async />
                        </ParentRoute>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><a href="/settings/audit-logs">"Go to Audit Logs"</a></p>
        </section>
    }
}
