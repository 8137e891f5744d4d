//! Audit events: the model, the read query, the server functions and the page that shows them.

pub mod api;
pub mod model;
pub mod page;
pub mod query;
mod time;
mod time_picker;
pub mod view;
