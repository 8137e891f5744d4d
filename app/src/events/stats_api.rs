//! The server function behind the page's view summary: the count, facets and histogram of the view
//! the list shows, validated exactly as [`super::api::list_events`] validates it.

use leptos::prelude::*;

use super::stats::ViewStats;

/// The statistics of the page's current view; the parameters mean what they mean for
/// [`super::api::list_events`]. Facets hold the ten most frequent values of each field; the
/// histogram's bucket is chosen from the view's range (the data's, for All Time).
#[server(name = GetViewStats)]
pub async fn view_stats(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
    filter: String,
    search: Option<String>,
    quiet: bool,
) -> Result<ViewStats, ServerFnError> {
    use super::api::{parse_view, ssr};
    use super::stats::DEFAULT_FACET_LIMIT;

    let (_, query) = parse_view(start, end, event, &filter, search, quiet).await?;
    ssr::store()?
        .view_stats(&query, DEFAULT_FACET_LIMIT)
        .await
        .map_err(ssr::internal)
}
