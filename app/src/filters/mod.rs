//! Filters on the event list: one typed model ([`model`]) with its URL form ([`codec`]) and its
//! reference semantics ([`Filter::matches`]), shared by the page, the REST API and the store, which
//! compiles it to SQL (`store::filter_sql`, server only).

pub mod cidr;
pub mod codec;
pub mod model;
pub mod search;
/// Random events and filters for property tests (the store's and the server's).
#[cfg(any(test, feature = "test-support"))]
pub mod testgen;
#[cfg(test)]
mod tests;

pub use model::{Combine, Condition, Field, Filter, FilterError, Item, Op};
pub use search::matches_search;
