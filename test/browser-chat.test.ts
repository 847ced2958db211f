import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page, WebSocketRoute } from "playwright-core";
import { app, registerInPage, sendAll, sendInPage, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { PASSWORD, uniqueName } from "./helpers/users.ts";

const LIMIT = 300;

describe("everyday chat features (Chromium)", () => {
  const servers = browserCluster({ env: { MAX_MESSAGE_LENGTH: String(LIMIT) } });
  const url = () => servers.url;
  const nodeUser = (rooms: string[]) => servers.nodeUser({ client: { rooms } });

  async function joinRoom(page: Page, room: string): Promise<void> {
    await page.getByLabel("Join or create a room").fill(room);
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await app(page).roomTitle.filter({ hasText: room }).waitFor();
  }

  test("unread counts, the tab title, the 'New' divider and the day line", async () => {
    const room = `side-${Date.now()}`;
    const bob = await nodeUser(["lobby", room]);
    await sendAll(bob.client, room, ["read before"]);
    const page = await servers.newPage();
    const watch = watchPage(page);
    await registerInPage(page, url(), uniqueName("web"), PASSWORD);
    await joinRoom(page, room);
    await app(page).message("read before").waitFor();
    await page.getByRole("button", { name: /#\s*lobby/ }).click();
    await app(page).roomTitle.filter({ hasText: "lobby" }).waitFor();

    await sendAll(bob.client, room, ["unread 1", "unread 2", "unread 3"]);
    const sideButton = page.getByRole("button", { name: new RegExp(`#\\s*${room}`) });
    await sideButton.locator(".badge", { hasText: "3" }).waitFor();
    await page.waitForFunction(() => document.title === "(3) Switchboard");

    await sideButton.click();
    await app(page).message("unread 3").waitFor();
    const divider = page.locator(".unread-divider");
    await divider.waitFor();
    // The divider stands right before the first unread message, after the one read before.
    const next = divider.locator("xpath=following-sibling::li[1]");
    assert.match((await next.textContent()) ?? "", /unread 1/);
    const previous = divider.locator("xpath=preceding-sibling::li[1]");
    assert.match((await previous.textContent()) ?? "", /read before/);
    assert.equal(await sideButton.locator(".badge").count(), 0, "the count goes once it is read");
    await page.waitForFunction(() => document.title === "Switchboard");
    // Today's messages come under a line that says so.
    assert.equal(await page.locator(".day-divider").first().textContent(), "Today");
    assert.deepEqual(watch.problems, []);
  });

  test("links are clickable, http and https only, and the rest stays text", async () => {
    const bob = await nodeUser(["lobby"]);
    const page = await servers.newPage();
    await registerInPage(page, url(), uniqueName("web"), PASSWORD);
    const text =
      "docs at https://example.com/a?b=1&c=<2>. not javascript:alert(1) nor <a href=/x>this</a>";
    await sendAll(bob.client, "lobby", [text]);
    const shown = app(page).message("docs at");
    await shown.waitFor();
    const links = shown.locator(".text a");
    assert.equal(await links.count(), 1);
    const link = links.first();
    // The address ends where the sentence does, and the text is shown as it was sent.
    assert.equal(await link.getAttribute("href"), "https://example.com/a?b=1&c=");
    assert.equal(await link.textContent(), "https://example.com/a?b=1&c=");
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.match((await link.getAttribute("rel")) ?? "", /\bnoopener\b/);
    assert.equal(await shown.locator(".text").textContent(), text);
  });

  test("a refused message is marked, and can be edited or discarded", async () => {
    const context = await servers.newContext();
    // The page's connection can be held back, as on a network that is slow to come up.
    let cut = true;
    const held: WebSocketRoute[] = [];
    await context.routeWebSocket(/\/socket\.io\//, (socket) => {
      if (cut) {
        held.push(socket);
        return;
      }
      socket.connectToServer();
    });
    await context.route(/\/socket\.io\//, (route) => (cut ? route.abort() : route.continue()));
    const page = await context.newPage();
    const ui = app(page);
    await registerInPage(page, url(), uniqueName("web"), PASSWORD);

    // Before the server said its limit, the page cannot know that these are too long.
    const long = `too long ${"z".repeat(LIMIT)}`;
    const other = `also too long ${"y".repeat(LIMIT)}`;
    await sendInPage(page, long);
    await sendInPage(page, other);
    const item = (text: string) => page.locator(".outbox .message", { hasText: text.slice(0, 20) });
    await item(long).getByText("sending…").waitFor();
    await item(other).getByText("sending…").waitFor();
    cut = false;
    for (const socket of held.splice(0)) await socket.close();

    for (const text of [long, other]) {
      const failed = item(text);
      await failed.locator(".state", { hasText: "not sent" }).waitFor();
      assert.match((await failed.getByRole("alert").textContent()) ?? "", /^Not sent: /);
      assert.equal(
        await failed.getByRole("button", { name: "Retry" }).isVisible(),
        false,
        "sending it again as it is would be refused again",
      );
    }

    await item(long).getByRole("button", { name: "Edit" }).click();
    await item(long).waitFor({ state: "detached" });
    assert.equal(await ui.composer.inputValue(), long);
    await page.getByText(`${long.length - LIMIT} characters over the limit`).waitFor();

    await item(other).getByRole("button", { name: "Discard" }).click();
    await item(other).waitFor({ state: "detached" });
    assert.equal(await page.locator(".outbox .message").count(), 0);
    assert.equal(await ui.message("too long").count(), 0, "nothing was shown as sent");
  });
});
