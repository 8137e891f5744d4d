import { expect, test, postEvents } from "./helpers";


function event(name: string, minutesAgo: number, i: number) {
  return {
    occurred_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    event: name,
    category: "Browser Tests",
    action: "created",
    actor: { id: `usr_${i}`, name: `Tester ${i}`, type: "user", email: `tester${i}@example.com` },
    target: { type: "role", id: `role_${i}`, name: `Role ${i}` },
    ip: "198.51.100.23",
    source: "e2e",
    description: `${name} number ${i}`,
  };
}

test("a service posts events and a user reads them newest first, filters by event and loads more", async ({
  page,
  request,
}) => {
  // 55 "Alpha" events one minute apart, then 5 "Beta" events, all within the default 30 days.
  const alpha = Array.from({ length: 55 }, (_, i) => event("E2E Alpha", 100 + i, i));
  const beta = Array.from({ length: 5 }, (_, i) => event("E2E Beta", 10 + i, 100 + i));
  await postEvents(request, alpha);
  const betaIds = await postEvents(request, beta);

  // The events of this journey only: signing in and adding users are events too.
  await page.goto("/settings/audit-logs?f=source:is:e2e");
  // Hydrated: times switch from UTC to the browser's zone.
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");

  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(50);
  // Newest first: the Beta event from 10 minutes ago leads.
  await expect(rows.first()).toHaveAttribute("data-seq", String(betaIds[0]));
  await expect(rows.first().getByTestId("event-name")).toHaveText("E2E Beta");
  await expect(rows.nth(5).getByTestId("event-name")).toHaveText("E2E Alpha");
  await expect(page.locator("thead")).toContainText("Date and Time (Europe/Berlin)");

  // Narrow by event name.
  await page.getByTestId("event-filter").selectOption("E2E Beta");
  await expect(rows).toHaveCount(5);
  for (const name of await rows.getByTestId("event-name").allTextContents()) {
    expect(name).toBe("E2E Beta");
  }

  // Back to all events, then load the next page by cursor.
  await page.getByTestId("event-filter").selectOption("");
  await expect(rows).toHaveCount(50);
  await page.getByTestId("load-more").click();
  await expect(rows).toHaveCount(60);
  await expect(page.getByTestId("row-count")).toHaveText("Showing 60 events");
  await expect(page.getByTestId("load-more")).toHaveCount(0);
  const seqs = (await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq")))));
  expect(new Set(seqs).size).toBe(60);
});

test("a view with no events says so", async ({ page, request }) => {
  await postEvents(request, [event("E2E Three Days Ago", 3 * 24 * 60, 1)]);
  await page.goto("/settings/audit-logs");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  await page.getByTestId("event-filter").selectOption("E2E Three Days Ago");
  await expect(page.getByTestId("event-row")).toHaveCount(1);
  await page.getByTestId("time-range").click();
  await page.getByTestId("preset-today").click();
  await expect(page.getByTestId("empty")).toBeVisible();
  await expect(page.getByTestId("event-row")).toHaveCount(0);
});

test("time presets, a calendar range and the UTC switch live in the URL and survive a reload", async ({
  page,
  request,
}) => {
  // One event 40 days ago: outside Last 30 Days (the default), inside Last 90 Days.
  await postEvents(request, [event("E2E Forty Days Ago", 40 * 24 * 60, 7)]);
  await page.goto("/settings/audit-logs");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  await page.getByTestId("event-filter").selectOption("E2E Forty Days Ago");
  await expect(page.getByTestId("empty")).toBeVisible();

  await page.getByTestId("time-range").click();
  await page.getByTestId("preset-90d").click();
  await expect(page.getByTestId("event-row")).toHaveCount(1);
  await expect(page).toHaveURL(/range=90d/);
  await expect(page.getByTestId("time-range")).toContainText("Last 90 Days");

  // Reload: the same view comes back from the URL, rendered by the server and hydrated.
  await page.reload();
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  await expect(page.getByTestId("event-row")).toHaveCount(1);
  await expect(page.getByTestId("event-filter")).toHaveValue("E2E Forty Days Ago");

  // A calendar range around the event's day: start 41 days ago, end 39 days ago.
  const day = (daysAgo: number) => {
    const d = new Date(Date.now() - daysAgo * 86_400_000);
    return d.toLocaleDateString("sv-SE", { timeZone: "Europe/Berlin" }); // YYYY-MM-DD
  };
  await page.getByTestId("time-range").click();
  for (const [target, daysAgo] of [["start", 41], ["end", 39]] as const) {
    const iso = day(daysAgo);
    const [y, m] = iso.split("-");
    await page.getByTestId("year-select").selectOption(String(Number(y)));
    await page.getByTestId("month-select").selectOption(String(Number(m)));
    await page.locator(`.day[data-day="${iso}"]`).click();
    expect(target).toBeTruthy();
  }
  await expect(page.getByTestId("selection")).toContainText("(Europe/Berlin)");
  await page.getByTestId("apply-range").click();
  await expect(page).toHaveURL(new RegExp(`range=${day(41)}..${day(39)}`));
  await expect(page.getByTestId("event-row")).toHaveCount(1);

  // Back returns to the previous view.
  await page.goBack();
  await expect(page).toHaveURL(/range=90d/);
  await expect(page.getByTestId("event-row")).toHaveCount(1);

  // The UTC switch: times and the zone label in UTC, kept in the URL.
  await page.getByTestId("utc-switch").check();
  await expect(page.getByTestId("zone")).toHaveText("Times in UTC");
  await expect(page).toHaveURL(/tz=utc/);
  await expect(page.locator("thead")).toContainText("Date and Time (UTC)");
});

test("filters: build AND, switch to OR, exclude with is not, click a value, reload from the URL", async ({
  page,
  request,
}) => {
  const mk = (name: string, actor: string, i: number) => ({
    ...event(name, 5 + i, 200 + i),
    actor: { id: `usr_${actor}`, name: actor, type: "user" },
  });
  await postEvents(request, [
    mk("E2E Filter Alpha", "Ada Filter", 1),
    mk("E2E Filter Alpha", "Bob Filter", 2),
    mk("E2E Filter Beta", "Ada Filter", 3),
    mk("E2E Filter Gamma", "Cy Filter", 4),
  ]);
  await page.goto("/settings/audit-logs");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const rows = page.getByTestId("event-row");

  // Event starts with "E2E Filter" AND user is Ada Filter → Alpha and Beta by Ada.
  await page.getByTestId("filter-button").click();
  const first = page.getByTestId("filter-row").nth(0);
  await first.getByTestId("filter-field").selectOption("event");
  await first.getByTestId("filter-op").selectOption("starts_with");
  await first.getByTestId("filter-value").fill("E2E Filter");
  await page.getByTestId("add-filter").click();
  const second = page.getByTestId("filter-row").nth(1);
  await second.getByTestId("filter-field").selectOption("user.name");
  await second.getByTestId("filter-op").selectOption("is");
  await second.getByTestId("filter-value").fill("Ada Filter");
  await page.getByTestId("apply-filter").click();
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId("chip")).toHaveCount(2);
  await expect(page.getByTestId("chips")).toContainText("Event starts with E2E Filter");

  // Switch to OR: everything starting with "E2E Filter" (4) plus other events by Ada (none).
  await page.getByTestId("filter-button").click();
  await page.getByTestId("combine").getByText("OR").click();
  await page.getByTestId("apply-filter").click();
  await expect(page.getByTestId("chips")).toContainText("OR");
  await expect(page).toHaveURL(/join=any/);
  // OR with the second condition keeps the four E2E Filter events (and any other Ada events).
  await expect(rows.filter({ hasText: "E2E Filter" })).toHaveCount(4);

  // Replace with: event starts with "E2E Filter" AND event is not "E2E Filter Alpha".
  await page.getByTestId("clear-filters").click();
  await expect(page.getByTestId("chip")).toHaveCount(0);
  await page.getByTestId("filter-button").click();
  const only = page.getByTestId("filter-row").nth(0);
  await only.getByTestId("filter-op").selectOption("starts_with");
  await only.getByTestId("filter-value").fill("E2E Filter");
  await page.getByTestId("add-filter").click();
  const not = page.getByTestId("filter-row").nth(1);
  await not.getByTestId("filter-op").selectOption("is_not");
  await not.getByTestId("filter-value").fill("E2E Filter Alpha");
  await page.getByTestId("apply-filter").click();
  await expect(rows).toHaveCount(2);
  for (const name of await rows.getByTestId("event-name").allTextContents()) {
    expect(["E2E Filter Beta", "E2E Filter Gamma"]).toContain(name);
  }

  // Click a value in the table: adds "User name is Cy Filter".
  await rows.filter({ hasText: "Cy Filter" }).getByText("Cy Filter").click();
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId("chips")).toContainText("User name is Cy Filter");

  // The whole view comes back from the URL.
  const url = page.url();
  await page.goto("about:blank");
  await page.goto(url);
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId("chip")).toHaveCount(3);

  // Removing a chip widens the view again.
  await page.getByTestId("chip-remove").last().click();
  await expect(rows).toHaveCount(2);
});

test("search, sort a column, click a facet, zoom by the chart", async ({ page, request }) => {
  const mk = (name: string, actor: string, minutesAgo: number, i: number, description: string) => ({
    ...event(name, minutesAgo, 300 + i),
    actor: { id: `usr_${actor}`, name: actor, type: "user" },
    description,
  });
  await postEvents(request, [
    mk("E2E Sort Deployed", "Zed Sorter", 30, 1, "Zed deployed the quokka model"),
    mk("E2E Sort Deployed", "Amy Sorter", 90, 2, "Amy deployed the quokka model"),
    mk("E2E Sort Deleted", "Max Sorter", 60, 3, "Max deleted the quokka dataset"),
    mk("E2E Sort Deployed", "Ben Sorter", 2 * 24 * 60, 4, "Ben deployed the quokka model"),
  ]);
  await page.goto("/settings/audit-logs");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const rows = page.getByTestId("event-row");

  // Free text: every word must match the start of a word.
  await page.getByTestId("search").fill("quokk deploy");
  await page.getByTestId("search").press("Enter");
  await expect(page).toHaveURL(/q=quokk%20deploy/);
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("view-count")).toHaveText("3 events");

  // Sort by user, ascending then descending.
  await page.getByTestId("sort-user").click();
  await expect(page).toHaveURL(/sort=user/);
  await expect(rows.first()).toContainText("Amy Sorter");
  await page.getByTestId("sort-user").click();
  await expect(page).toHaveURL(/sort=-user/);
  await expect(rows.first()).toContainText("Zed Sorter");

  // A facet value filters the view.
  await page.getByTestId("search").fill("quokka");
  await page.getByTestId("search").press("Enter");
  await expect(rows).toHaveCount(4);
  await page.getByTestId("facet-value").filter({ hasText: "E2E Sort Deleted" }).click();
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId("chips")).toContainText("Event is E2E Sort Deleted");
  await page.getByTestId("clear-filters").click();
  await expect(rows).toHaveCount(4);

  // Zoom: click the chart's last non-empty bar (the newest events; the last bar of all lies in the
  // future for the hour when the viewer's day has begun and UTC's has not); the older event drops
  // out.
  const bars = page.getByTestId("chart-bar");
  const nonEmpty = bars.filter({ has: page.locator("rect.fill[height]:not([height='0'])") });
  await expect(bars.first()).toBeVisible();
  const last = nonEmpty.last();
  await last.dispatchEvent("mousedown");
  await last.dispatchEvent("mouseup");
  await expect(page).toHaveURL(/from=\d+&to=\d+/);
  await expect(page.getByTestId("zoom-chip")).toBeVisible();
  const zoomed = await rows.count();
  expect(zoomed).toBeGreaterThan(0);
  expect(zoomed).toBeLessThan(4);
  expect(await nonEmpty.count()).toBeGreaterThan(0);
  await page.getByTestId("zoom-out").click();
  await expect(rows).toHaveCount(4);
});

test("hiding noisy events removes access checks and reads, and the URL keeps the switch", async ({
  page,
  request,
}) => {
  await postEvents(request, [
    { ...event("Access Checked", 3, 400), description: "E2E noise check" },
    { ...event("Resource Read", 4, 401), description: "E2E noise read" },
    { ...event("E2E Signal", 5, 402), description: "E2E noise signal" },
  ]);
  await page.goto("/settings/audit-logs?q=noise");
  await expect(page.getByTestId("zone")).toHaveText("Times in Europe/Berlin");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(3);
  await page.getByTestId("quiet-switch").check();
  await expect(page).toHaveURL(/quiet=1/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("E2E Signal");
  await expect(page.getByTestId("view-count")).toHaveText("1 event");
});

test("every time preset shows exactly the events of its days in the viewer's zone", async ({ page, request }) => {
  // Berlin calendar dates as "YYYY-MM-DD", and day arithmetic on them (UTC-based, no DST).
  const zone = "Europe/Berlin";
  const localDate = (ms: number) => new Date(ms).toLocaleDateString("sv-SE", { timeZone: zone });
  const asDate = (iso: string) => new Date(`${iso}T00:00:00Z`);
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const plusDays = (s: string, n: number) => iso(new Date(asDate(s).getTime() + n * 86_400_000));

  // One probe event a minute ago, then one at midday UTC on days spread over three years.
  const now = Date.now();
  const times = [now - 60_000];
  for (const back of [1, 2, 5, 9, 15, 29, 30, 31, 45, 70, 89, 90, 100, 150, 200, 300, 370, 420, 500, 800]) {
    const d = asDate(plusDays(localDate(now), -back));
    times.push(d.getTime() + 12 * 3_600_000);
  }
  const probes = times.map((t, i) => ({
    ...event("E2E Preset Probe", 0, 900 + i),
    occurred_at: new Date(t).toISOString(),
    description: `probe ${i} on ${localDate(t)}`,
  }));
  await postEvents(request, probes);

  const today = localDate(now);
  const [y, m] = today.split("-").map(Number);
  const weekday = (asDate(today).getUTCDay() + 6) % 7; // Monday = 0: weeks start on Monday
  const monthStart = (year: number, month: number) => iso(new Date(Date.UTC(year, month - 1, 1)));
  const expected: Record<string, [string, string] | null> = {
    all: null,
    today: [today, today],
    yesterday: [plusDays(today, -1), plusDays(today, -1)],
    this_week: [plusDays(today, -weekday), plusDays(today, 6 - weekday)],
    this_month: [monthStart(y, m), plusDays(monthStart(m === 12 ? y + 1 : y, (m % 12) + 1), -1)],
    last_month: [monthStart(m === 1 ? y - 1 : y, m === 1 ? 12 : m - 1), plusDays(monthStart(y, m), -1)],
    "30d": [plusDays(today, -29), today],
    "90d": [plusDays(today, -89), today],
    this_year: [`${y}-01-01`, `${y}-12-31`],
    last_year: [`${y - 1}-01-01`, `${y - 1}-12-31`],
  };

  const labels: Record<string, string> = {
    all: "All Time",
    today: "Today",
    yesterday: "Yesterday",
    this_week: "This Week",
    this_month: "This Month",
    last_month: "Last Month",
    "30d": "Last 30 Days",
    "90d": "Last 90 Days",
    this_year: "This Year",
    last_year: "Last Year",
  };
  await page.goto("/settings/audit-logs?event=E2E%20Preset%20Probe&range=all");
  await expect(page.getByTestId("zone")).toHaveText(`Times in ${zone}`);
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(probes.length);
  for (const [key, days] of Object.entries(expected)) {
    const want = probes
      .filter((p) => days === null || (localDate(Date.parse(p.occurred_at)) >= days[0] && localDate(Date.parse(p.occurred_at)) <= days[1]))
      .map((p) => p.description)
      .sort();
    await page.getByTestId("time-range").click();
    await page.getByTestId(`preset-${key}`).click();
    // The default range (Last 30 Days) is left out of the URL.
    if (key === "30d") {
      await expect(page).not.toHaveURL(/range=/);
    } else {
      await expect(page).toHaveURL(new RegExp(`range=${key}(&|$)`));
    }
    await expect(page.getByTestId("time-range")).toContainText(labels[key]);
    // Poll the rows themselves: the previous preset may have shown as many.
    await expect
      .poll(async () => (await rows.locator("td.description").allTextContents()).sort(), { message: `preset ${key}` })
      .toEqual(want);
    if (want.length === 0) {
      await expect(page.getByTestId("empty")).toBeVisible();
    }
  }
});
