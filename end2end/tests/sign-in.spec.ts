import { expect, test, apiKey, postEvents, signIn } from "./helpers";


// Each journey here starts signed out, whatever the project's default session.
test.use({ storageState: { cookies: [], origins: [] } });

function by(actor: string, type: string, name: string) {
  return {
    occurred_at: new Date(Date.now() - 60_000).toISOString(),
    event: name,
    category: "Role Tests",
    action: "checked",
    actor: { id: actor, name: actor, type },
    source: "e2e-roles",
  };
}

test("a Member sees only their own and system events; sign-out ends the session", async ({ page, request }) => {
  await postEvents(request, [
    by("usr_e2e-member", "user", "E2E Role Own"),
    by("usr_someone_else", "user", "E2E Role Other"),
    by("e2e-backup", "system", "E2E Role System"),
  ]);
  await signIn(page, "e2e-member", "/settings/audit-logs?f=source:is:e2e-roles");
  await expect(page).toHaveURL(/\/settings\/audit-logs\?f=source/);
  await expect(page.getByTestId("account-name")).toHaveText("e2e-member");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "E2E Role Own" })).toHaveCount(1);
  await expect(rows.filter({ hasText: "E2E Role System" })).toHaveCount(1);
  await expect(page.getByTestId("events-table")).not.toContainText("usr_someone_else");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  // The old session is gone: the page sends the browser back to sign in.
  await page.goto("/settings/audit-logs");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test("an Owner and an Auditor see every row", async ({ page, request }) => {
  await postEvents(request, [by("usr_someone_else", "user", "E2E Role Everyone")]);
  for (const name of ["e2e-owner", "e2e-auditor"]) {
    await page.context().clearCookies();
    await signIn(page, name, "/settings/audit-logs?f=event:is:E2E%20Role%20Everyone");
    await expect(page.getByTestId("account-name")).toHaveText(name);
    await expect(page.getByTestId("event-row")).toHaveCount(1);
  }
  // Who looked: the Auditor's view is itself in the log, by them, with what they looked for.
  const looked = page.getByTestId("event-row").filter({ hasText: "Audit Logs Viewed" });
  const view = encodeURIComponent("metadata.view:is:f=event:is:E2E Role Everyone");
  await page.goto(`/settings/audit-logs?f=source:is:auditlog&f=user.id:is:usr_e2e-auditor&f=${view}`);
  await expect(looked).toHaveCount(1);
  await looked.hover();
  await looked.getByTestId("view-logs").click();
  await expect(page.getByTestId("event-drawer")).toContainText("f=event:is:E2E Role Everyone");
});

test("a Member's permalink to another's event, and a user without access, show no access", async ({ page, request }) => {
  const [other] = await postEvents(request, [by("usr_someone_else", "user", "E2E Role Hidden")]);
  await signIn(page, "e2e-member", `/settings/audit-logs/events/${other}`);
  await expect(page.getByTestId("drawer-no-access")).toContainText("No access");
  await expect(page.getByText("usr_someone_else")).toHaveCount(0);

  await page.context().clearCookies();
  await signIn(page, "e2e-none");
  await expect(page.getByRole("heading", { name: "No access" })).toBeVisible();
  await expect(page.getByText("E2E Role")).toHaveCount(0);
});

test("a wrong password is refused with a message, and the API still takes its key", async ({ page, request }) => {
  await page.goto("/settings/audit-logs");
  await page.getByLabel("Name").fill("e2e-owner");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That name and password do not match.");
  const resp = await request.get("/api/v1/events?limit=1", { headers: { Authorization: `Bearer ${apiKey}` } });
  expect(resp.status()).toBe(200);
});
