import { defineConfig } from "@playwright/test";

// The server under test: the debug build, on its own port, against the fresh SQLite file that
// scripts/e2e.sh created (with an API key and a user per role) before starting Playwright.
const port = Number(process.env.E2E_PORT ?? 3107);
const databaseUrl = process.env.E2E_DATABASE_URL;
if (!databaseUrl || !process.env.E2E_API_KEY || !process.env.E2E_PASSWORD) {
  throw new Error("run the browser tests through scripts/e2e.sh (it prepares the database and API key)");
}

/** The test database's folder (scripts/e2e.sh made it), with a trailing slash. */
const workDir = databaseUrl.replace(/^sqlite:\/\//, "").replace(/[^/]*$/, "");

/** Where the Owner's signed-in session is kept between the set-up and the journeys. */
export const ownerState = "test-results/.auth/owner.json";

const chromiumLaunch = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    timezoneId: "Europe/Berlin",
    trace: "retain-on-failure",
  },
  projects: [
    // Signs in once as the Owner; the journeys start from that session (sign-in.spec.ts signs in
    // and out as each role by itself).
    { name: "sign-in", testMatch: /auth\.setup\.ts/, use: { launchOptions: chromiumLaunch } },
    {
      name: "chromium",
      dependencies: ["sign-in"],
      use: {
        storageState: ownerState,
        browserName: "chromium",
        launchOptions: chromiumLaunch,
      },
    },
  ],
  webServer: {
    command: `../target/debug/auditlog serve --addr 127.0.0.1:${port}`,
    env: {
      AUDITLOG_DATABASE_URL: databaseUrl,
      // The checkpoint signing key and export files beside the test database, not in the tree.
      AUDITLOG_SIGNING_KEY: `${workDir}signing.key`,
      AUDITLOG_EXPORTS_DIR: `${workDir}exports`,
      LEPTOS_SITE_ROOT: "../target/site",
      RUST_LOG: "warn",
    },
    url: `http://127.0.0.1:${port}/settings/audit-logs`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
