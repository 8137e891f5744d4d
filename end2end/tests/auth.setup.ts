// Signs in as the Owner through the sign-in page and keeps the session for the journeys.
import { expect, test as setup, signIn } from "./helpers";

import { ownerState } from "../playwright.config";

setup("sign in as the Owner", async ({ page }) => {
  await signIn(page, "e2e-owner");
  await expect(page.getByTestId("account-name")).toHaveText("e2e-owner");
  await page.context().storageState({ path: ownerState });
});
