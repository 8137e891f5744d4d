//! The browser entry point: hydrates the server-rendered Audit Logs page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Hydrated: the page's controls work from now on. Browser journeys wait for this mark before
    // they type or click, however long the wasm took to load.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
