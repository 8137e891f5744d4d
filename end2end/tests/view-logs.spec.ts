import { expect, test, collectErrors, postEvents } from "./helpers";


function event(name: string, minutesAgo: number, i: number, extra: object = {}) {
  return {
    occurred_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    event: name,
    category: "Drawer Tests",
    action: "updated",
    actor: { id: `usr_${i}`, name: `Drawer Tester ${i}`, type: "user", email: `drawer${i}@example.com` },
    target: { type: "role", id: `role_${i}`, name: `Drawer Role ${i}` },
    ip: "198.51.100.42",
    user_agent: "Playwright/E2E",
    source: "e2e-drawer",
    description: `${name} number ${i}`,
    ...extra,
  };
}

test("view logs: open an event from its row, read it, walk the rows, close with Esc, open its permalink elsewhere", async ({
  page,
  request,
  context,
  baseURL,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const errors = collectErrors(page);
  const ids = await postEvents(request, [
    event("E2E Drawer", 2, 501, {
      metadata: { plan: "pro-drawer", region: "eu-west", limits: { seats: 12, tags: ["alpha", "beta"] } },
      changes: { name: { old: "Billing", new: "Billing Admin" }, seats: { new: 12 } },
    }),
    event("E2E Drawer", 3, 502, { metadata: { plan: "team-drawer" } }),
    event("E2E Drawer", 4, 503, { metadata: { plan: "free-drawer" } }),
  ]);
  await page.goto("/settings/audit-logs?event=E2E%20Drawer");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toHaveAttribute("data-seq", String(ids[0]));

  // The action appears when the row is hovered.
  const viewLogs = rows.first().getByTestId("view-logs");
  await expect(viewLogs).toHaveCSS("opacity", "0");
  await rows.first().hover();
  await expect(viewLogs).toHaveCSS("opacity", "1");
  await viewLogs.click();

  const drawer = page.getByTestId("event-drawer");
  await expect(drawer).toBeVisible();
  await expect(drawer).toBeFocused();
  await expect(drawer).toHaveAttribute("role", "dialog");
  await expect(page).toHaveURL(new RegExp(`/settings/audit-logs/events/${ids[0]}\\?event=E2E%20Drawer$`));
  await expect(drawer.getByRole("heading", { level: 2 })).toHaveText(`Event #${ids[0]}`);
  await expect(drawer.getByTestId("drawer-seq")).toHaveText(String(ids[0]));
  await expect(drawer.getByTestId("occurred-local")).toContainText("(Europe/Berlin)");
  await expect(drawer.getByTestId("occurred-utc")).toContainText("UTC");
  await expect(drawer).toContainText("Playwright/E2E");
  await expect(drawer).toContainText("drawer501@example.com");
  const plan = drawer.locator('[data-testid="metadata-value"][data-key="plan"]');
  await expect(plan).toHaveText("pro-drawer");
  // Nested metadata reads as a nested list.
  const limits = drawer.locator('[data-testid="metadata-value"][data-key="limits"]');
  await expect(limits).toContainText("seats");
  await expect(limits).toContainText("12");
  await expect(limits.locator("li")).toHaveText(["alpha", "beta"]);
  // Raw JSON on demand.
  await drawer.getByTestId("raw-toggle").click();
  await expect(drawer.getByTestId("metadata-raw")).toContainText('"region": "eu-west"');
  await expect(drawer.getByTestId("metadata")).toBeHidden();
  await drawer.getByTestId("raw-toggle").click();
  await expect(plan).toBeVisible();
  // Changes read old → new.
  const changes = drawer.getByTestId("change");
  await expect(changes).toHaveCount(2);
  await expect(changes.filter({ hasText: "name" })).toContainText("Billing→Billing Admin");
  await expect(changes.filter({ hasText: "seats" })).toContainText("(none)→12");

  // Tab and Shift-Tab stay inside the dialog.
  const inDrawer = () =>
    page.evaluate(() => !!document.activeElement?.closest('[data-testid="event-drawer"]'));
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    expect(await inDrawer()).toBe(true);
  }
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Shift+Tab");
    expect(await inDrawer()).toBe(true);
  }

  // Previous and next walk the table's rows; the ends are disabled.
  await expect(drawer.getByTestId("drawer-prev")).toBeDisabled();
  await drawer.getByTestId("drawer-next").click();
  await expect(drawer.getByTestId("drawer-seq")).toHaveText(String(ids[1]));
  await expect(plan).toHaveText("team-drawer");
  await expect(page).toHaveURL(new RegExp(`/events/${ids[1]}\\?`));
  await drawer.getByTestId("drawer-next").click();
  await expect(drawer.getByTestId("drawer-seq")).toHaveText(String(ids[2]));
  await expect(drawer.getByTestId("drawer-next")).toBeDisabled();
  await drawer.getByTestId("drawer-prev").click();
  await expect(drawer.getByTestId("drawer-seq")).toHaveText(String(ids[1]));
  await expect(rows.nth(1)).toHaveClass(/selected/);

  // Esc closes it and gives focus back to the row; Enter on a focused row opens it again.
  await page.keyboard.press("Escape");
  await expect(drawer).toHaveCount(0);
  await expect(page).toHaveURL(/\/settings\/audit-logs\?event=E2E%20Drawer$/);
  await expect(rows.nth(1)).toBeFocused();
  await rows.first().focus();
  await page.keyboard.press("Enter");
  await expect(drawer.getByTestId("drawer-seq")).toHaveText(String(ids[0]));

  // Copy as JSON and copy the permalink.
  await drawer.getByTestId("copy-json").click();
  await expect(drawer.getByTestId("copy-json")).toHaveText("Copied");
  const json = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
  expect(json.id).toBe(ids[0]);
  expect(json.metadata.plan).toBe("pro-drawer");
  await drawer.getByTestId("copy-link").click();
  await expect(drawer.getByTestId("copy-link")).toHaveText("Copied");
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(`${baseURL}/settings/audit-logs/events/${ids[0]}`);
  await expect(drawer.getByTestId("permalink")).toHaveAttribute("href", `/settings/audit-logs/events/${ids[0]}`);

  // The permalink opens the same drawer in a new page.
  const other = await context.newPage();
  const otherErrors = collectErrors(other);
  await other.goto(link);
  const again = other.getByTestId("event-drawer");
  await expect(again).toBeVisible();
  await expect(again.getByRole("heading", { level: 2 })).toHaveText(`Event #${ids[0]}`);
  await expect(other.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  await expect(again.locator('[data-testid="metadata-value"][data-key="plan"]')).toHaveText("pro-drawer");

  // A value in the drawer filters the view by it; the drawer stays open.
  await again.locator('[data-testid="metadata-value"][data-key="plan"]').getByRole("button").click();
  await expect(other.getByTestId("chips")).toContainText("Metadata: plan is pro-drawer");
  await expect(other).toHaveURL(new RegExp(`/settings/audit-logs/events/${ids[0]}\\?.*f=`));
  await expect(other.getByTestId("event-row")).toHaveCount(1);
  await expect(again).toBeVisible();
  await again.getByTestId("drawer-event").getByRole("button").click();
  await expect(other.getByTestId("chips")).toContainText("Event is E2E Drawer");
  await again.getByTestId("drawer-close").click();
  await expect(again).toHaveCount(0);
  await expect(other.getByTestId("event-row")).toHaveCount(1);
  await other.close();
  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

test("an event's text is shown literally in the drawer, never as markup", async ({ page, request }) => {
  let dialogs = 0;
  page.on("dialog", (d) => {
    dialogs += 1;
    void d.dismiss();
  });
  const [id] = await postEvents(request, [
    event("E2E Hostile", 1, 601, {
      description: "<img src=x onerror=alert(1)>",
      metadata: { note: "<b>bold</b>", nested: { html: "<script>alert(2)</script>" } },
    }),
  ]);
  // The list under the drawer shows this event's name only: the viewer's own records (sign-ins,
  // reads) would push an event 10 hours old off an unfiltered first page.
  await page.goto(`/settings/audit-logs/events/${id}?event=E2E%20Hostile`);
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const drawer = page.getByTestId("event-drawer");
  await expect(drawer.getByTestId("drawer-description")).toHaveText("<img src=x onerror=alert(1)>");
  await expect(drawer.locator('[data-testid="metadata-value"][data-key="note"]')).toHaveText("<b>bold</b>");
  await expect(drawer.locator('[data-testid="metadata-value"][data-key="nested"]')).toContainText(
    "<script>alert(2)</script>",
  );
  await expect(drawer.locator("img, b, script")).toHaveCount(0);
  // The same text in the table row.
  await expect(page.locator(`tr[data-seq="${id}"] .description`)).toHaveText("<img src=x onerror=alert(1)>");
  expect(dialogs).toBe(0);
});

test("a permalink to an unknown event says so in the drawer", async ({ page }) => {
  const errors = collectErrors(page);
  const resp = await page.goto("/settings/audit-logs/events/987654321");
  expect(resp?.status()).toBe(404);
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const drawer = page.getByTestId("event-drawer");
  await expect(drawer.getByTestId("drawer-not-found")).toContainText("Event #987654321 not found");
  await expect(drawer.getByTestId("drawer-prev")).toBeDisabled();
  await page.keyboard.press("Escape");
  await expect(drawer).toHaveCount(0);
  await expect(page).toHaveURL(/\/settings\/audit-logs$/);
  // The page itself answered 404; nothing else failed.
  expect(errors.filter((e) => !e.includes("status of 404"))).toEqual([]);
});
