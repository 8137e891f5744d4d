import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect, test } from "@playwright/test";

/** Records of an RFC 4180 text (line breaks inside quoted cells do not end a record). */
function countRecords(text: string): number {
  let records = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) records++;
  }
  return records;
}

/** Replaces (or appends) this benchmark's section of BENCHMARKS.md, as the Rust benchmarks do. */
function writeSection(name: string, body: string) {
  const file = path.join(__dirname, "..", "..", "BENCHMARKS.md");
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const current = readFileSync(file, "utf8");
  const block = `${begin}\n${body}${end}`;
  const b = current.indexOf(begin);
  const e = current.indexOf(end);
  const next =
    b >= 0 && e > b ? current.slice(0, b) + block + current.slice(e + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

test("browser CSV: every event of the view written by the WASM client", async ({ page, browser }) => {
  const rows = Number(process.env.BENCH_ROWS);
  const runs = 3;
  // Every demo event, and not the "Audit Logs Exported" events the runs themselves add; signed in
  // as the Owner scripts/bench-browser.sh added.
  await page.goto(`/settings/audit-logs?from=0&to=${Date.now()}`);
  await page.getByLabel("Name").fill("bench-owner");
  await page.getByLabel("Password").fill(process.env.BENCH_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("event-row").first()).toBeVisible();
  await page.getByTestId("export-button").click();
  await expect(page.getByTestId("export-panel")).toContainText("events match", { timeout: 60_000 });

  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const heap = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
  };
  const timings: number[] = [];
  let bytes = 0;
  let peakHeap = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const sampler = setInterval(async () => {
      peakHeap = Math.max(peakHeap, await heap().catch(() => 0));
    }, 250);
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 600_000 }),
      page.getByTestId("export-csv").click(),
    ]);
    const file = (await download.path())!;
    timings.push(performance.now() - started);
    clearInterval(sampler);
    const text = readFileSync(file, "utf8");
    bytes = Buffer.byteLength(text);
    expect(countRecords(text)).toBe(rows + 1);
    await expect(page.getByTestId("export-done")).toHaveText(`Saved ${rows} events.`);
  }
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const now = new Date().toISOString().slice(0, 16).replace("T", " ");
  const body = `## Export: CSV of the view in the browser (Chromium)

Measured ${now} UTC with \`scripts/bench-browser.sh\`: the release build over ${rows} demo events
on SQLite; Chromium (headless, Playwright) opens the page on all of them, opens Export and clicks
"CSV (this view)". The WASM client fetches the view in keyset chunks of 2,000 through the
\`export_chunk\` server function, writes the CSV with the csv crate and saves it as a Blob; the
time runs from the click to the download event, ${runs} runs on the same page.

- Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Chromium ${browser.version()}.

| rows | file | median | runs | rows/s (median) | JS heap, peak sampled |
|---|---|---|---|---|---|
| ${rows} | ${(bytes / 2 ** 20).toFixed(1)} MiB | **${(median / 1000).toFixed(2)} s** | ${timings.map((t) => (t / 1000).toFixed(2)).join(" / ")} s | ${Math.round(rows / (median / 1000))} | ${(peakHeap / 2 ** 20).toFixed(1)} MiB |
`;
  writeSection("browser-csv", body);
});
