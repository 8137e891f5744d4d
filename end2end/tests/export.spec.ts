import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import { expect, test, apiKey, postEvents } from "./helpers";


/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

test("export: CSV (this view) holds exactly the view's events in the table's order, formulas neutralised, and is recorded", async ({
  page,
  request,
}) => {
  const name = "E2E Export";
  const users = ["Carol", "alice", "Bob", "dave", "Eve"];
  await postEvents(
    request,
    users.map((u, i) => ({
      occurred_at: new Date(Date.now() - (i + 1) * 60_000).toISOString(),
      event: name,
      category: "Export Tests",
      action: "exported",
      actor: { id: `usr_${u}`, name: u, type: "user" },
      description: i === 2 ? '=HYPERLINK("http://evil","click"), "quoted"' : `row ${i}`,
      metadata: { i },
    })),
  );
  await postEvents(request, [
    { event: "E2E Export Other", category: "Export Tests", action: "x", actor: { id: "u", type: "user" } },
  ]);
  await page.goto(`/settings/audit-logs?event=${encodeURIComponent(name)}&sort=user`);
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(5);
  const seqs = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-seq")));

  await page.getByTestId("export-button").click();
  await expect(page.getByTestId("export-panel")).toContainText("5 events match");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-csv").click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^Audit_Logs_\d{4}-\d{2}-\d{2}_to_\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = parseCsv(readFileSync((await download.path())!, "utf8"));
  expect(csv[0].slice(0, 3)).toEqual(["Seq", "Date and Time (UTC)", "Event Name"]);
  expect(csv[0]).toHaveLength(16);
  expect(csv.slice(1).map((r) => r[0])).toEqual(seqs);
  expect(new Set(csv.slice(1).map((r) => r[7]))).toEqual(new Set(users));
  const hostile = csv.find((r) => r[7] === "Bob")!;
  expect(hostile[6]).toBe('\'=HYPERLINK("http://evil","click"), "quoted"');
  await expect(page.getByTestId("export-done")).toHaveText("Saved 5 events.");

  // The export is itself an event.
  await expect
    .poll(async () => {
      const resp = await request.get("/api/v1/events?event=Audit%20Logs%20Exported&start=0", {
        headers: { Authorization: `Bearer ${apiKey}` },
      });
      const events = (await resp.json()).events as { metadata: Record<string, unknown> }[];
      return events.filter((e) => e.metadata.written_by === "browser" && e.metadata.rows === 5).length;
    })
    .toBe(1);

  // The server's streamed export of the same view holds the same rows.
  const href = await page.getByTestId("export-server-csv").getAttribute("href");
  expect(href).toContain("format=csv");
  const streamed = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
  const serverCsv = parseCsv(streamed);
  expect(serverCsv.slice(1).map((r) => r[0])).toEqual(seqs);
});

test("export: an all-time view cannot be exported by the server in one piece, and says so", async ({ page }) => {
  await page.goto("/settings/audit-logs?range=all");
  await page.getByTestId("export-button").click();
  await expect(page.getByTestId("export-server-refuses")).toContainText("at most 90 days");
  await expect(page.getByTestId("export-csv")).toBeVisible();
});

test("server export: New export from the menu runs, completes in Export History and downloads with its SHA-256", async ({
  page,
  request,
}) => {
  const name = "E2E Server Export";
  const ids = await postEvents(
    request,
    [0, 1, 2].map((i) => ({
      occurred_at: new Date(Date.now() - (i + 1) * 60_000).toISOString(),
      event: name,
      category: "Export Tests",
      action: "exported",
      actor: { id: `usr_${i}`, name: `Server ${i}`, type: "user" },
      description: i === 1 ? "@SUM(A1:A2)" : `row ${i}`,
    })),
  );
  await page.goto(`/settings/audit-logs?event=${encodeURIComponent(name)}`);
  await expect(page.getByTestId("event-row")).toHaveCount(3);
  await page.getByTestId("export-button").click();
  await page.getByTestId("export-name").fill("Weekly review");
  await page.getByTestId("export-start").click();
  // The panel closes; the history shows the export.
  await expect(page.getByTestId("export-panel")).toHaveCount(0);

  const history = page.getByTestId("export-history");
  await expect(history).toBeVisible();
  const row = history.getByTestId("export-row").first();
  await expect(row).toContainText("Weekly review");
  await expect(row).toContainText(`event is ${name}`);
  await expect(row.getByTestId("export-status")).toHaveText("Completed");
  await expect(row).toContainText("CSV");

  const [download] = await Promise.all([page.waitForEvent("download"), row.getByTestId("export-download").click()]);
  // Compressed by default: a .csv.gz holding the CSV.
  expect(download.suggestedFilename()).toMatch(/^Weekly_review_\d+\.csv\.gz$/);
  const bytes = readFileSync((await download.path())!);
  const csv = parseCsv(gunzipSync(bytes).toString("utf8"));
  expect(csv.slice(1).map((r) => Number(r[0]))).toEqual(ids);
  expect(csv.find((r) => r[7] === "Server 1")![6]).toBe("'@SUM(A1:A2)");
  const sha = createHash("sha256").update(bytes).digest("hex");
  const shaCell = await row.locator("td.mono").getAttribute("title");
  expect(shaCell).toBe(sha);

  // The same view as a PDF report.
  await page.goto(`/settings/audit-logs?event=${encodeURIComponent(name)}`);
  await page.getByTestId("export-button").click();
  await page.getByTestId("export-name").fill("Weekly report");
  await page.getByTestId("export-format").selectOption("pdf");
  await expect(page.getByTestId("export-gzip")).toBeDisabled();
  await page.getByTestId("export-start").click();
  const report = page.getByTestId("export-history").getByTestId("export-row").first();
  await expect(report).toContainText("Weekly report");
  await expect(report.getByTestId("export-status")).toHaveText("Completed");
  await expect(report).toContainText("PDF");
  const [pdfDownload] = await Promise.all([page.waitForEvent("download"), report.getByTestId("export-download").click()]);
  expect(pdfDownload.suggestedFilename()).toMatch(/^Weekly_report_\d+\.pdf$/);
  const pdf = readFileSync((await pdfDownload.path())!).toString("latin1");
  expect(pdf.startsWith("%PDF-1.4")).toBe(true);
  expect(pdf.trimEnd().endsWith("%%EOF")).toBe(true);
  for (const who of ["Server 0", "Server 1", "Server 2"]) expect(pdf).toContain(`(${who})`);
  expect(pdf).toContain("(End of report: 3 events.)");

  // A refused export says why, and adds nothing to the history.
  await page.goto("/settings/audit-logs?range=all");
  await page.getByTestId("export-button").click();
  await expect(page.getByTestId("export-server-refuses")).toBeVisible();
});
