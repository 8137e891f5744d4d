//! Noisy events: high-volume, low-signal event types (access checks, reads) that the page can hide
//! with one switch. Which names count as noise is the operator's choice (`--noisy-events`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::filters::{Condition, Field, Item, Op};

/// The configured noisy event names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoisyEvents(pub Vec<String>);

impl Default for NoisyEvents {
    fn default() -> Self {
        Self(vec!["Access Checked".into(), "Resource Read".into()])
    }
}

impl NoisyEvents {
    /// From a comma-separated list; blanks are dropped.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        )
    }

    /// The condition that hides them ("event is none of …"), or nothing when the list is empty.
    pub fn condition(&self) -> Option<Item> {
        (!self.0.is_empty()).then(|| {
            Item::Condition(Condition {
                field: Field::Event,
                op: Op::NoneOf,
                values: self.0.clone(),
            })
        })
    }
}

/// The noisy event names, for the page's switch.
#[server(name = GetNoisyEvents)]
pub async fn noisy_events() -> Result<NoisyEvents, ServerFnError> {
    super::api::ssr::viewer().await?;
    Ok(use_context::<NoisyEvents>().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_from_the_command_line() {
        assert_eq!(
            NoisyEvents::parse(" A , ,B"),
            NoisyEvents(vec!["A".into(), "B".into()])
        );
        assert_eq!(NoisyEvents::parse("").condition(), None);
        assert!(NoisyEvents::default().condition().is_some());
    }
}
