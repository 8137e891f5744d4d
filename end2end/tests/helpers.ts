// What the browser journeys share: the API key scripts/e2e.sh created, posting events through the
// API, and collecting a page's errors.
import { expect, test as base, type APIRequestContext, type Page } from "@playwright/test";

export { expect };

/** Waits until the wasm has hydrated the page, when the page has any (the sign-in page has none):
 * a click or a keystroke before that would be lost. */
export async function hydrated(page: Page) {
  await page.waitForFunction(
    () =>
      document.documentElement.hasAttribute("data-hydrated") ||
      !document.querySelector('script[type="module"]'),
  );
}

/** Playwright's `test`, whose page waits for hydration after every goto and reload. */
export const test = base.extend({
  page: async ({ page }, use) => {
    const goto = page.goto.bind(page);
    const reload = page.reload.bind(page);
    page.goto = async (...args: Parameters<Page["goto"]>) => {
      const response = await goto(...args);
      await hydrated(page);
      return response;
    };
    page.reload = async (...args: Parameters<Page["reload"]>) => {
      const response = await reload(...args);
      await hydrated(page);
      return response;
    };
    await use(page);
  },
});

export const apiKey = process.env.E2E_API_KEY!;

/** Posts `events` through the ingest API; returns their ids, in order. */
export async function postEvents(request: APIRequestContext, events: object[]) {
  const resp = await request.post("/api/v1/events", {
    headers: { Authorization: `Bearer ${apiKey}` },
    data: events,
  });
  expect(resp.status()).toBe(201);
  return (await resp.json()).results.map((r: { id: number }) => r.id) as number[];
}

/** Uncaught errors and console errors of a page (a panic in the wasm, a hydration mismatch). */
export function collectErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return errors;
}

/** The password scripts/e2e.sh gave every user. */
export const password = process.env.E2E_PASSWORD!;

/** Signs in through the sign-in page as `name` (one of scripts/e2e.sh's users). */
export async function signIn(page: Page, name: string, next = "/settings/audit-logs") {
  await page.goto(next);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
