//! Audit events: the model, the read query, the server functions and the page that shows them.

pub mod api;
pub(crate) mod browser;
mod chart;
mod details;
pub mod drawer;
mod export_history;
mod export_menu;
mod filter_bar;
mod live;
pub mod model;
pub mod noise;
pub mod page;
pub mod query;
mod request;
pub mod stats;
pub mod stats_api;
mod stats_panel;
mod table;
mod time;
mod time_picker;
pub mod view;
