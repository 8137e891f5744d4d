import { execFileSync } from "node:child_process";

import { expect, test, collectErrors, postEvents } from "./helpers";


/** Runs SQL on the server's SQLite file directly, as someone with access to the file could. */
function sqlite(sql: string) {
  const file = process.env.E2E_DATABASE_URL!.replace(/^sqlite:\/\//, "");
  return execFileSync("sqlite3", [file, sql], { encoding: "utf8" }).trim();
}

test("an Owner verifies the chain from the page, and a change made in the database is found", async ({
  page,
  request,
}) => {
  const errors = collectErrors(page);
  const [id] = await postEvents(request, [
    {
      event: "E2E Integrity",
      category: "Integrity Tests",
      action: "checked",
      actor: { id: "usr_integrity", name: "Ivy", type: "user" },
      description: "the original text",
    },
  ]);
  await page.goto("/settings/integrity");
  await expect(page.getByRole("heading", { name: "Integrity" })).toBeVisible();
  await expect(page.getByTestId("integrity-status")).toContainText("365 days");
  await page.getByTestId("verify-chain").click();
  await expect(page.getByTestId("verify-result")).toContainText(/^Verified through #\d+ at /);
  await expect(page.getByTestId("verify-result")).toContainText("the chain is intact");

  // The database refuses the change; with its guard opened by hand, the change is found.
  expect(() => sqlite(`UPDATE events SET description = 'forged' WHERE id = ${id}`)).toThrow(/append-only/);
  sqlite(
    `INSERT INTO maintenance VALUES ('e2e'); UPDATE events SET description = 'forged' WHERE id = ${id}; ` +
      "DELETE FROM maintenance;",
  );
  try {
    await page.getByTestId("verify-chain").click();
    await expect(page.getByTestId("verify-result")).toHaveText(new RegExp(`^Broken at event #${id}: `));
  } finally {
    sqlite(
      `INSERT INTO maintenance VALUES ('e2e'); UPDATE events SET description = 'the original text' WHERE id = ${id}; ` +
        "DELETE FROM maintenance;",
    );
  }
  await page.getByTestId("verify-chain").click();
  await expect(page.getByTestId("verify-result")).toContainText("the chain is intact");

  // Each check is in the log, by the Owner, with its outcome.
  await page.goto("/settings/audit-logs?f=event:is:Audit%20Log%20Verified");
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText("broken at event");
  expect(errors).toEqual([]);
});
