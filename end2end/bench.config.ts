import { defineConfig } from "@playwright/test";

// The browser benchmark (scripts/bench-browser.sh): the release build, on its own port, against
// the SQLite file of demo events the script wrote.
const port = Number(process.env.BENCH_PORT ?? 3108);
const databaseUrl = process.env.BENCH_DATABASE_URL;
if (!databaseUrl || !process.env.BENCH_ROWS) {
  throw new Error("run the browser benchmark through scripts/bench-browser.sh (it writes the events)");
}

export default defineConfig({
  testDir: "./bench",
  testMatch: "*.bench.ts",
  timeout: 900_000,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    timezoneId: "UTC",
    acceptDownloads: true,
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        },
      },
    },
  ],
  webServer: {
    command: `../target/release/auditlog serve --addr 127.0.0.1:${port}`,
    env: { AUDITLOG_DATABASE_URL: databaseUrl, LEPTOS_SITE_ROOT: "../target/site", RUST_LOG: "warn" },
    url: `http://127.0.0.1:${port}/settings/audit-logs`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
