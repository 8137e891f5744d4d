//! The few browser calls the page needs beyond Leptos: the clipboard, the page's origin, moving
//! focus to a table row, and where the table is scrolled (for the live tail). Outside the browser (server rendering, native tests) they do
//! nothing; they are only ever called from event handlers and effects, which run in the browser.

/// Puts `text` on the clipboard; false when the browser refused (no permission, not a secure
/// context, no clipboard API).
pub async fn copy_text(text: String) -> bool {
    imp::copy_text(text).await
}

/// `https://host:port` of the page, to turn a path into a link someone else can open.
pub fn origin() -> String {
    imp::origin()
}

/// Focuses the table row of event `id`, if it is on the page.
pub fn focus_row(id: i64) {
    imp::focus(&format!("tr[data-seq=\"{id}\"]"));
}

/// Keeps the focus inside the element `container` when Tab (`backwards`: Shift-Tab) would leave
/// it: from its last control to its first, and back. True when it moved the focus (the key's
/// default must then be prevented).
pub fn wrap_focus(container: &str, backwards: bool) -> bool {
    imp::wrap_focus(container, backwards)
}

/// Saves `bytes` as a file called `name` (the browser's download), without a round trip.
pub fn save_file(name: &str, bytes: &[u8], mime: &str) -> bool {
    imp::save_file(name, bytes, mime).is_some()
}

/// An HTTP request from the page (same origin): the status and the body's text, or why it could
/// not be made. `body` is sent as JSON.
pub async fn fetch_text(
    method: &str,
    url: &str,
    body: Option<String>,
) -> Result<(u16, String), String> {
    imp::fetch_text(method, url, body).await
}

/// The error message of an API answer (`{"error": "…"}`), or a plain description.
pub fn api_error(status: u16, text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("the server answered {status}"))
}

/// The table's body, whose first row new events are inserted above.
const TABLE_BODY: &str = "[data-testid=\"events-table\"] tbody";

/// True when the reader has scrolled the table's first row out of sight (upwards).
pub fn table_scrolled() -> bool {
    imp::top(TABLE_BODY).is_some_and(|top| top < 0.0)
}

/// Scrolls the table's first row into sight.
pub fn scroll_to_table() {
    imp::scroll_to("[data-testid=\"events-table\"]");
}

#[cfg(feature = "hydrate")]
mod imp {
    use leptos::prelude::{document, window};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    pub async fn copy_text(text: String) -> bool {
        // `navigator.clipboard` is undefined outside secure contexts; calling through it would throw.
        let navigator = window().navigator();
        let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        else {
            return false;
        };
        let Ok(clipboard) = clipboard.dyn_into::<web_sys::Clipboard>() else {
            return false;
        };
        JsFuture::from(clipboard.write_text(&text)).await.is_ok()
    }

    pub fn origin() -> String {
        window().location().origin().unwrap_or_default()
    }

    pub fn focus(selector: &str) {
        if let Ok(Some(el)) = document().query_selector(selector)
            && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.focus();
        }
    }

    pub fn wrap_focus(container: &str, backwards: bool) -> bool {
        const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex=\"-1\"])";
        let doc = document();
        let Ok(Some(root)) = doc.query_selector(container) else {
            return false;
        };
        let Ok(list) = root.query_selector_all(FOCUSABLE) else {
            return false;
        };
        let n = list.length();
        let item = |i: u32| {
            list.item(i)
                .and_then(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        };
        let (Some(first), Some(last)) = (item(0), item(n.saturating_sub(1))) else {
            return false;
        };
        let active = doc.active_element();
        let is = |el: &web_sys::HtmlElement| {
            active
                .as_ref()
                .is_some_and(|a| a == el.as_ref() as &web_sys::Element)
        };
        let inside = active.as_ref().is_some_and(|a| root.contains(Some(a)));
        let target = if !inside {
            &first
        } else if backwards && (is(&first) || active.as_ref() == Some(&root)) {
            &last
        } else if !backwards && is(&last) {
            &first
        } else {
            return false;
        };
        let _ = target.focus();
        true
    }

    pub fn save_file(name: &str, bytes: &[u8], mime: &str) -> Option<()> {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
        let a = document()
            .create_element("a")
            .ok()?
            .dyn_into::<web_sys::HtmlAnchorElement>()
            .ok()?;
        a.set_href(&url);
        a.set_download(name);
        a.click();
        // The download has started from the URL; it may go once this task is over.
        leptos::task::spawn_local(async move {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        Some(())
    }

    pub async fn fetch_text(
        method: &str,
        url: &str,
        body: Option<String>,
    ) -> Result<(u16, String), String> {
        let unreachable = || "the server could not be reached".to_string();
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            let headers = web_sys::Headers::new().map_err(|_| unreachable())?;
            headers
                .set("content-type", "application/json")
                .map_err(|_| unreachable())?;
            init.set_headers(&headers);
            init.set_body(&wasm_bindgen::JsValue::from_str(&body));
        }
        let response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
            .await
            .map_err(|_| unreachable())?
            .dyn_into::<web_sys::Response>()
            .map_err(|_| unreachable())?;
        let text = JsFuture::from(response.text().map_err(|_| unreachable())?)
            .await
            .map_err(|_| unreachable())?
            .as_string()
            .unwrap_or_default();
        Ok((response.status(), text))
    }

    pub fn top(selector: &str) -> Option<f64> {
        let el = document().query_selector(selector).ok()??;
        Some(el.get_bounding_client_rect().top())
    }

    pub fn scroll_to(selector: &str) {
        if let Ok(Some(el)) = document().query_selector(selector) {
            el.scroll_into_view();
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub async fn copy_text(_text: String) -> bool {
        false
    }

    pub fn origin() -> String {
        String::new()
    }

    pub fn focus(_selector: &str) {}

    pub fn wrap_focus(_container: &str, _backwards: bool) -> bool {
        false
    }

    pub fn save_file(_name: &str, _bytes: &[u8], _mime: &str) -> Option<()> {
        None
    }

    pub async fn fetch_text(
        _method: &str,
        _url: &str,
        _body: Option<String>,
    ) -> Result<(u16, String), String> {
        Err("not in a browser".into())
    }

    pub fn top(_selector: &str) -> Option<f64> {
        None
    }

    pub fn scroll_to(_selector: &str) {}
}
