import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import type { SwitchboardClient } from "../src/client/core/index.ts";
import {
  app,
  registerInPage,
  SCREENSHOTS,
  sendAll,
  VIEWPORTS,
  watchPage,
} from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { PASSWORD, uniqueName } from "./helpers/users.ts";

interface Box {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

interface Geometry {
  width: number;
  height: number;
  pageWidth: number;
  pageHeight: number;
  boxes: Record<string, Box | null>;
}

/** Where things are on the screen, as a person would see them. */
async function geometry(page: Page, selectors: Record<string, string>): Promise<Geometry> {
  return page.evaluate((named) => {
    const boxes: Record<string, Box | null> = {};
    for (const [name, selector] of Object.entries(named)) {
      const all = document.querySelectorAll(selector);
      const element = all[all.length - 1];
      if (element === undefined) {
        boxes[name] = null;
        continue;
      }
      const r = element.getBoundingClientRect();
      boxes[name] = { top: r.top, left: r.left, bottom: r.bottom, right: r.right };
    }
    const root = document.documentElement;
    return {
      width: window.innerWidth,
      height: window.innerHeight,
      pageWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
      pageHeight: Math.max(root.scrollHeight, document.body.scrollHeight),
      boxes,
    };
  }, selectors);
}

/** The page fits its window, and each named thing is on screen (not scrolled or pushed off). */
function assertFits(g: Geometry, visible: string[], what: string): void {
  assert.ok(
    g.pageWidth <= g.width,
    `${what}: page ${g.pageWidth} px wide in a ${g.width} px window`,
  );
  assert.ok(
    g.pageHeight <= g.height,
    `${what}: page ${g.pageHeight} px tall in a ${g.height} px window`,
  );
  for (const name of visible) {
    const box = g.boxes[name];
    assert.ok(box !== null && box !== undefined, `${what}: no ${name}`);
    const inside =
      box.top >= -0.5 &&
      box.left >= -0.5 &&
      box.bottom <= g.height + 0.5 &&
      box.right <= g.width + 0.5;
    assert.ok(inside, `${what}: ${name} at ${JSON.stringify(box)} is not in the window`);
  }
}

/** The end of a thing (a message may be taller than the window) is on screen, and it fits across. */
function assertEndInView(g: Geometry, name: string, what: string): void {
  const box = g.boxes[name];
  assert.ok(box !== null && box !== undefined, `${what}: no ${name}`);
  const inside =
    box.bottom > 0 &&
    box.bottom <= g.height + 0.5 &&
    box.left >= -0.5 &&
    box.right <= g.width + 0.5;
  assert.ok(inside, `${what}: the end of ${name} at ${JSON.stringify(box)} is not in the window`);
}

const CHAT_PARTS = {
  topbar: ".topbar",
  composer: "#composer",
  send: ".composer button[type=submit]",
  newest: ".messages:not(.outbox) .message",
  scroller: ".scroller",
};

describe("the chat fits the window (Chromium, desktop and phone)", () => {
  const servers = browserCluster({
    env: { MESSAGE_RATE_PER_SECOND: "1000", MESSAGE_BURST: "1000" },
  });
  let bob: SwitchboardClient | undefined;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    bob = (await servers.nodeUser()).client;
    // A busy room: more than one screen, and more than a room opens with.
    await sendAll(
      bob,
      "lobby",
      Array.from({ length: 80 }, (_, i) => `busy message ${i + 1}`),
    );
  });

  for (const [device, viewport] of Object.entries(VIEWPORTS)) {
    test(`${device}: logged out, logged in in a busy room, and a 3,000-character word`, async () => {
      if (bob === undefined) throw new Error("not started");
      const page = await servers.newPage({ viewport });
      const watch = watchPage(page);
      const ui = app(page);

      await page.goto(servers.url);
      await ui.loginButton.waitFor();
      const login = await geometry(page, { button: ".auth-form button[type=submit]" });
      assertFits(login, ["button"], `${device} login`);
      await page.screenshot({ path: join(SCREENSHOTS, `${device}-logged-out.png`) });

      await registerInPage(page, servers.url, uniqueName("web"), PASSWORD);
      await ui.message("busy message 80").waitFor();
      const busy = await geometry(page, CHAT_PARTS);
      assertFits(busy, ["topbar", "composer", "send"], `${device} busy room`);
      assertEndInView(busy, "newest", `${device} busy room`);
      assert.ok((busy.boxes.topbar?.top ?? -1) >= 0, "the header stays at the top");
      await page.screenshot({ path: join(SCREENSHOTS, `${device}-busy-room.png`) });

      // A room of one's own, still empty.
      await page.getByLabel("Join or create a room").fill(`quiet-${device}`);
      await page.getByRole("button", { name: "Join", exact: true }).click();
      await page.getByText("No messages yet. Say hello!").waitFor();
      const quiet = await geometry(page, { ...CHAT_PARTS, empty: ".empty" });
      assertFits(quiet, ["topbar", "composer", "send", "empty"], `${device} empty room`);
      await page.screenshot({ path: join(SCREENSHOTS, `${device}-logged-in-empty-room.png`) });
      await page.getByRole("button", { name: /#\s*lobby/ }).click();
      await ui.message("busy message 80").waitFor();

      // One unbroken 3,000-character token in the composer: it wraps inside the field.
      const token = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(70).slice(0, 3000);
      await ui.composer.fill(token);
      await page.getByText("1000 characters over the limit").waitFor();
      const typed = await geometry(page, CHAT_PARTS);
      assertFits(typed, ["topbar", "composer", "send"], `${device} long word in the composer`);
      await page.screenshot({ path: join(SCREENSHOTS, `${device}-long-word-composer.png`) });

      // The same kind of word in a message bubble wraps inside the conversation.
      const word = `${device}${"x".repeat(1500)}`;
      await ui.composer.fill("");
      await sendAll(bob, "lobby", [word]);
      await ui.message(word.slice(0, 50)).waitFor();
      const shown = await geometry(page, { ...CHAT_PARTS, bubble: ".messages .message .text" });
      assertFits(shown, ["composer", "send"], `${device} long word in a bubble`);
      assertEndInView(shown, "newest", `${device} long word in a bubble`);
      assert.ok(
        (shown.boxes.bubble?.right ?? Number.POSITIVE_INFINITY) <=
          (shown.boxes.scroller?.right ?? 0),
        "the bubble stays inside the message list",
      );
      await page.screenshot({ path: join(SCREENSHOTS, `${device}-long-word-bubble.png`) });
      assert.deepEqual(watch.problems, []);
    });
  }

  test("a room opens at its newest message, stays there, and offers a jump down when scrolled up", async () => {
    if (bob === undefined) throw new Error("not started");
    const page = await servers.newPage({ viewport: VIEWPORTS.desktop });
    const ui = app(page);
    await registerInPage(page, servers.url, uniqueName("web"), PASSWORD);
    await ui.message("busy message 80").waitFor();
    const scroller = page.locator(".scroller");
    const atBottom = () =>
      scroller.evaluate((s) => s.scrollHeight - s.scrollTop - s.clientHeight < 2);
    assert.ok(await atBottom(), "opened at the newest message");

    // New messages keep it pinned to the bottom.
    await sendAll(bob, "lobby", ["pinned one"]);
    await ui.message("pinned one").waitFor();
    await page.waitForFunction(() => {
      const s = document.querySelector(".scroller");
      return s !== null && s.scrollHeight - s.scrollTop - s.clientHeight < 2;
    });
    await ui.message("pinned one").evaluate((m) => {
      const r = m.getBoundingClientRect();
      if (r.bottom > window.innerHeight) throw new Error("the newest message is below the fold");
    });

    // Scrolled up to read: a new message does not move the view, a button says it came.
    await page.locator(".messages .message").filter({ hasText: "busy message 60" }).hover();
    await page.mouse.wheel(0, -600);
    await page.waitForFunction(() => {
      const s = document.querySelector(".scroller");
      return s !== null && s.scrollHeight - s.scrollTop - s.clientHeight > 300;
    });
    const before = await scroller.evaluate((s) => s.scrollTop);
    await sendAll(bob, "lobby", ["while you were reading"]);
    const jump = page.getByRole("button", { name: /1 new message/ });
    await jump.waitFor();
    assert.equal(await scroller.evaluate((s) => s.scrollTop), before, "the view stayed put");
    assert.ok(!(await atBottom()));
    await jump.click();
    await page.waitForFunction(() => {
      const s = document.querySelector(".scroller");
      return s !== null && s.scrollHeight - s.scrollTop - s.clientHeight < 2;
    });
    await jump.waitFor({ state: "hidden" });
    assert.ok(await ui.message("while you were reading").isVisible());
  });

  test("scrolling up loads older messages without the view jumping", async () => {
    const page = await servers.newPage({ viewport: VIEWPORTS.desktop });
    const ui = app(page);
    await registerInPage(page, servers.url, uniqueName("web"), PASSWORD);
    await ui.message("busy message 80").waitFor();
    const shown = page.locator(".messages:not(.outbox) .message");
    const count = await shown.count();
    const firstText = (await shown.first().locator(".text").textContent()) ?? "";
    assert.doesNotMatch(firstText, /^busy message 1$/, "the room opened with its newest page only");
    const anchor = ui.message(firstText).first();

    // Scrolled to the top (as by dragging the scroll bar): where the top message is then.
    const before = await page.evaluate((text) => {
      const scroller = document.querySelector(".scroller");
      if (scroller === null) throw new Error("no message list");
      scroller.scrollTop = 0;
      const first = [...document.querySelectorAll(".messages .message")].find(
        (m) => m.querySelector(".text")?.textContent === text,
      );
      return first?.getBoundingClientRect().bottom ?? Number.NaN;
    }, firstText);
    await page.waitForFunction(
      (n) => document.querySelectorAll(".messages .message").length > n,
      count,
    );
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    // Older messages came in above it, out of view: it is still where it was.
    // (Its bottom: its own header may fold into the group of the messages above it.)
    const after = await anchor.evaluate((m) => m.getBoundingClientRect().bottom);
    assert.ok(Math.abs(after - before) < 2, `the top message moved from ${before} to ${after} px`);
    const scrollTop = await page.locator(".scroller").evaluate((s) => s.scrollTop);
    assert.ok(scrollTop > 200, `older messages are above, out of view (scrollTop ${scrollTop})`);
  });
});
