import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { app, registerInPage, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { PASSWORD, registeredUser, uniqueName } from "./helpers/users.ts";

/** Not the server's default (2000): the page can only know it from the server. */
const LIMIT = 300;

describe("feedback a person can act on (Chromium)", () => {
  const servers = browserCluster({ env: { MAX_MESSAGE_LENGTH: String(LIMIT) } });
  const url = () => servers.url;

  test("the login page checks the session without an error in the console", async () => {
    const page = await servers.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("response", (response) => {
      if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(url());
    await app(page).loginButton.waitFor();
    await page.reload();
    await app(page).loginButton.waitFor();
    assert.deepEqual(errors, []);

    // API clients keep the documented 401; the page's probe is answered 200 {user: null}.
    assert.equal((await fetch(`${url()}/api/session`)).status, 401);
    const probe = await fetch(`${url()}/api/session?probe=1`);
    assert.equal(probe.status, 200);
    assert.deepEqual(await probe.json(), { user: null });
  });

  test("an over-long message says by how much, and Enter does nothing else", async () => {
    const page = await servers.newPage();
    const watch = watchPage(page);
    const ui = app(page);
    await registerInPage(page, url(), uniqueName("long"), PASSWORD);
    await ui.status.filter({ hasText: "Connected" }).waitFor();
    // The limit is the server's, from `ready`.
    await page.getByText(`0 / ${LIMIT}`).waitFor();

    await ui.composer.fill("a".repeat(LIMIT + 1));
    const over = page.getByText("1 character over the limit");
    await over.waitFor();
    assert.ok(await page.getByRole("button", { name: "Send" }).isDisabled());
    await ui.composer.press("Enter");
    assert.equal(await ui.composer.inputValue(), "a".repeat(LIMIT + 1), "nothing was taken away");
    assert.ok(await over.isVisible(), "and the reason is still shown");
    assert.equal(await page.locator(".outbox .message").count(), 0, "nothing was queued");

    await ui.composer.fill("b".repeat(LIMIT + 25));
    await page.getByText("25 characters over the limit").waitFor();

    // At the limit it goes.
    await ui.composer.fill("c".repeat(LIMIT));
    await page.getByText(`${LIMIT} / ${LIMIT}`).waitFor();
    await ui.composer.press("Enter");
    await ui.message("c".repeat(LIMIT)).waitFor();
    assert.equal(await ui.composer.inputValue(), "");
    assert.deepEqual(watch.problems, []);
  });

  test("the logged-out notice goes once the person does something else", async () => {
    const taken = await registeredUser(url(), uniqueName("taken"));
    const context = await servers.newContext();
    const first = await context.newPage();
    await registerInPage(first, url(), uniqueName("notice"), PASSWORD);
    const second = await context.newPage();
    await second.goto(url());
    await app(second).status.filter({ hasText: "Connected" }).waitFor();

    await first.bringToFront();
    await app(first).logout.click();
    const notice = second.getByText("You were logged out");
    await notice.waitFor();

    // The person in the second tab tries to create an account with a taken name.
    await second.bringToFront();
    await second.getByRole("tab", { name: "Create account" }).click();
    await second.getByLabel("Username").fill(taken.name);
    await second.getByLabel("Password").fill(PASSWORD);
    await second.getByRole("button", { name: "Create account", exact: true }).click();
    await second.getByText("That username is taken").waitFor();
    assert.equal(await notice.isVisible(), false, "the old notice does not stand beside the error");
  });

  test("the member count says offline while the page is disconnected", async () => {
    const own = await servers.startInstance();
    const page = await servers.newPage();
    const ui = app(page);
    await registerInPage(page, own.url, uniqueName("off"), PASSWORD);
    const count = page.locator(".online-count");
    await count.filter({ hasText: /^\d+ (person|people) online$/ }).waitFor();

    await own.stop("SIGKILL");
    await ui.status.filter({ hasText: "Reconnecting" }).waitFor();
    assert.equal((await count.textContent())?.trim(), "offline");
  });
});
