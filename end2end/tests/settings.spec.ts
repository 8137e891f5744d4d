import { expect, test, collectErrors } from "./helpers";


test("an Owner creates an API key in the page, a service uses it, and revoking it locks the service out", async ({
  page,
  request,
}) => {
  const errors = collectErrors(page);
  await page.goto("/settings/api-keys");
  await expect(page.getByRole("heading", { name: "API Keys" })).toBeVisible();
  await page.getByTestId("key-name").fill("e2e-billing-service");
  // Least privilege by default: a new key may send events, nothing more.
  await expect(page.getByTestId("key-scope-ingest")).toBeChecked();
  await expect(page.getByTestId("key-scope-read")).not.toBeChecked();
  await page.getByTestId("key-expires").selectOption("90");
  await page.getByTestId("create-key").click();
  const secret = (await page.getByTestId("new-key-secret").textContent())!.trim();
  expect(secret).toMatch(/^alk_/);
  const row = page.getByTestId("key-row").filter({ hasText: "e2e-billing-service" });
  await expect(row).toContainText("Active");
  await expect(row.getByTestId("key-scopes")).toHaveText("ingest");
  await expect(row.getByTestId("key-last-used")).toHaveText("Never");

  const event = {
    event: "E2E Key From The Page",
    category: "Settings Tests",
    action: "created",
    actor: { id: "svc_billing", name: "Billing", type: "app" },
  };
  const sent = await request.post("/api/v1/events", { headers: { Authorization: `Bearer ${secret}` }, data: event });
  expect(sent.status()).toBe(201);
  // It cannot read what it sent: that takes the read scope.
  const read = await request.get("/api/v1/events?event=E2E%20Key%20From%20The%20Page", {
    headers: { Authorization: `Bearer ${secret}` },
  });
  expect(read.status()).toBe(403);
  expect((await read.json()).error).toContain("`read` scope");
  // The page shows when it was last used (in another tab: this one stays as it is, hydrated).
  const other = await page.context().newPage();
  await expect(async () => {
    await other.goto("/settings/api-keys");
    const listed = other.getByTestId("key-row").filter({ hasText: "e2e-billing-service" });
    await expect(listed.getByTestId("key-last-used")).toContainText("UTC", { timeout: 1000 });
  }).toPass();
  await other.close();

  await row.getByTestId("revoke-key").click();
  await expect(row).toContainText("Revoked");
  const refused = await request.post("/api/v1/events", { headers: { Authorization: `Bearer ${secret}` }, data: event });
  expect(refused.status()).toBe(401);

  // Both changes are in the audit log, by the Owner.
  await page.goto("/settings/audit-logs?f=source:is:auditlog&f=target.name:is:e2e-billing-service");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("API Key Revoked");
  await expect(rows.last()).toContainText("API Key Created");
  await expect(rows.first()).toContainText("e2e-owner");
  expect(errors).toEqual([]);
});

test("an Owner adds a user, who can sign in with the password shown once", async ({ page, browser }) => {
  await page.goto("/settings/users");
  await page.getByTestId("user-name").fill("e2e-added");
  await page.getByTestId("user-actor").fill("usr_e2e_added");
  await page.getByTestId("user-role").selectOption("auditor");
  await page.getByTestId("add-user").click();
  const password = (await page.getByTestId("new-user-password").textContent())!.trim();
  expect(password).toHaveLength(20);
  await expect(page.getByTestId("user-row").filter({ hasText: "e2e-added" })).toContainText("usr_e2e_added");

  const fresh = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const other = await fresh.newPage();
  await other.goto("/settings/audit-logs");
  await other.getByLabel("Name").fill("e2e-added");
  await other.getByLabel("Password").fill(password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other.getByTestId("account-name")).toHaveText("e2e-added");
  await expect(other.locator(".account-role")).toHaveText("Auditor");
  // Not an Owner: the settings say so, from the server.
  await other.goto("/settings/api-keys");
  await expect(other.getByRole("alert")).toContainText("only Owners");
  await fresh.close();
});
