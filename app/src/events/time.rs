//! Showing times in the viewer's time zone.
//!
//! The server does not know the browser's zone, so the server render shows UTC; once hydrated, the
//! page switches to the browser's zone (and says which zone it is showing).

use chrono::{DateTime, Utc};

/// The zone times are shown in: UTC on the server, the browser's zone after hydration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Zone {
    Utc,
    /// The browser's local zone, with its IANA name ("Europe/Berlin").
    Local(String),
}

impl Zone {
    pub fn label(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Local(name) => name.clone(),
        }
    }

    /// `2026-11-25 14:03:12` in this zone.
    pub fn format(&self, t: DateTime<Utc>) -> String {
        match self {
            Zone::Utc => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Zone::Local(_) => local::format(t),
        }
    }
}

/// The browser's zone; `None` outside a browser.
pub fn browser_zone() -> Option<Zone> {
    local::zone_name().map(Zone::Local)
}

#[cfg(feature = "hydrate")]
mod local {
    use chrono::{DateTime, Utc};
    use wasm_bindgen::JsValue;

    pub fn format(t: DateTime<Utc>) -> String {
        let d = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes(),
            d.get_seconds()
        )
    }

    pub fn zone_name() -> Option<String> {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
            .ok()?
            .as_string()
    }
}

#[cfg(not(feature = "hydrate"))]
mod local {
    use chrono::{DateTime, Utc};

    pub fn format(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }

    pub fn zone_name() -> Option<String> {
        None
    }
}
