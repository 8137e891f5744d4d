import { expect, test, collectErrors, postEvents } from "./helpers";


function event(name: string, i: number, minutesAgo = 0) {
  return {
    occurred_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    event: name,
    category: "Live Tests",
    action: "updated",
    actor: { id: `usr_live_${i}`, name: `Live Tester ${i}`, type: "user" },
    target: { type: "project", id: `prj_${i}`, name: `Live Project ${i}` },
    source: "e2e-live",
    description: `${name} number ${i}`,
  };
}

test("live tail: new events of the view arrive at the top; hovering, scrolling and pausing hold them behind a bar", async ({
  page,
  request,
}) => {
  const errors = collectErrors(page);
  const name = "E2E Live";
  // Enough earlier rows for the page to scroll past the table's first row.
  await postEvents(
    request,
    Array.from({ length: 40 }, (_, i) => event(name, i, 60 + i)),
  );
  await page.goto(`/settings/audit-logs?event=${encodeURIComponent(name)}`);
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(40);
  await expect(page.getByTestId("live-status")).toHaveCount(0);

  await page.getByTestId("live-switch").check();
  await expect(page).toHaveURL(/live=1/);
  await expect(page.getByTestId("live-status")).toHaveText(/^Live · /);

  // An event of the view appears at the top within 2 s, highlighted, with a ticking relative time;
  // an event outside the view does not appear.
  await postEvents(request, [event("E2E Live Other", 1)]);
  const [first] = await postEvents(request, [event(name, 2)]);
  await expect(rows.first()).toHaveAttribute("data-seq", String(first), { timeout: 2_000 });
  await expect(rows).toHaveCount(41);
  await expect(rows.first()).toHaveClass(/arrived/);
  await expect(rows.first().getByTestId("ago")).toHaveText(/just now|\d+ s ago/);
  await expect(page.getByTestId("row-count")).toHaveText("Showing 41 events");
  await expect(page.getByTestId("live-status")).toHaveText(/^Live · \d/);

  // Hovering a row: arrivals wait behind the bar; the row under the pointer stays put.
  await rows.nth(3).hover();
  const underPointer = await rows.nth(3).getAttribute("data-seq");
  const held = await postEvents(request, [event(name, 3), event(name, 4)]);
  const bar = page.getByTestId("new-events");
  await expect(bar).toHaveText("↑ 2 new events");
  await expect(rows.nth(3)).toHaveAttribute("data-seq", underPointer!);
  await expect(rows.first()).toHaveAttribute("data-seq", String(first));
  // Leaving the rows shows them, newest first.
  await page.mouse.move(5, 5);
  await expect(bar).toHaveCount(0);
  await expect(rows.first()).toHaveAttribute("data-seq", String(held[1]));
  await expect(rows.nth(1)).toHaveAttribute("data-seq", String(held[0]));

  // Scrolled down: arrivals wait too; the bar brings the reader back to the top and shows them.
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
  const [whileScrolled] = await postEvents(request, [event(name, 5)]);
  await expect(bar).toHaveText("↑ 1 new event");
  await expect(rows.first()).toHaveAttribute("data-seq", String(held[1]));
  await bar.click();
  await expect(bar).toHaveCount(0);
  await expect(rows.first()).toHaveAttribute("data-seq", String(whileScrolled));
  await expect(rows.first()).toBeInViewport();

  // Paused: nothing moves until Resume.
  await page.mouse.move(5, 5);
  await page.getByTestId("live-pause").click();
  await expect(page.getByTestId("live-status")).toHaveText("Paused");
  const [whilePaused] = await postEvents(request, [event(name, 6)]);
  await expect(bar).toHaveText("↑ 1 new event — paused, click to resume");
  await expect(rows.first()).toHaveAttribute("data-seq", String(whileScrolled));
  await page.getByTestId("live-pause").click();
  await expect(bar).toHaveCount(0);
  await expect(rows.first()).toHaveAttribute("data-seq", String(whilePaused));
  await expect(page.getByTestId("row-count")).toHaveText("Showing 45 events");

  // A live row opens in the drawer like any other.
  await rows.first().hover();
  await rows.first().getByTestId("view-logs").click();
  await expect(page.getByTestId("event-drawer")).toContainText(`${name} number 6`);
  await page.keyboard.press("Escape");

  // Turning Live off stops the tail.
  await page.getByTestId("live-switch").uncheck();
  await expect(page.getByTestId("live-status")).toHaveCount(0);
  await postEvents(request, [event(name, 7)]);
  await page.waitForTimeout(1_000);
  await expect(rows.first()).toHaveAttribute("data-seq", String(whilePaused));
  expect(errors).toEqual([]);
});

test("live tail: when the stream cannot be opened the page polls every 2 s, and says so", async ({ page, request }) => {
  await page.route("**/api/v1/events/stream**", (route) =>
    route.fulfill({ status: 502, contentType: "text/plain", body: "bad gateway" }),
  );
  const name = "E2E Live Polling";
  await postEvents(request, [event(name, 1, 5)]);
  // The view's URL keeps Live on.
  await page.goto(`/settings/audit-logs?event=${encodeURIComponent(name)}&live=1`);
  await expect(page.getByTestId("live-switch")).toBeChecked();
  await expect(page.getByTestId("live-status")).toContainText("checking every 2 s");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(1);
  const [id] = await postEvents(request, [event(name, 2)]);
  await expect(rows.first()).toHaveAttribute("data-seq", String(id), { timeout: 4_000 });
  await expect(rows).toHaveCount(2);
});

test("live tail: a range that has ended cannot be followed", async ({ page }) => {
  await page.goto("/settings/audit-logs?range=last_year");
  const live = page.getByTestId("live-switch");
  await expect(live).toBeDisabled();
  await expect(live.locator("xpath=..")).toHaveAttribute("title", /time range has ended/);
});
