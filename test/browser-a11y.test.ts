import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { app, registerInPage, VIEWPORTS } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { PASSWORD, registeredUser, uniqueName } from "./helpers/users.ts";

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
  why: string[];
}

/**
 * axe-core's verdict on the page as it is now: the serious and critical
 * violations. Injected through the debugging protocol, which the pages'
 * Content Security Policy (no inline script) does not govern.
 */
async function axe(
  page: Page,
): Promise<{ serious: Violation[]; all: Violation[]; passes: number }> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axeGlobal = (
      globalThis as unknown as { axe: { run: (context: Document) => Promise<unknown> } }
    ).axe;
    return (await axeGlobal.run(document)) as {
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: unknown[]; failureSummary?: string }>;
      }>;
      passes: unknown[];
    };
  });
  const violations = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.map(String).join(" ")),
    // axe's own words per element (for contrast: both colours and the ratio), for the failure message.
    why: v.nodes.map((n) => n.failureSummary ?? ""),
  }));
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  return { serious, all: violations, passes: result.passes.length };
}

/** The summary printed for the report: page, violations by impact. */
const summary: string[] = [];

/** What has the keyboard focus, and whether a person can see that it has. */
async function focused(page: Page): Promise<{ description: string; visible: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (element === null || element === document.body)
      return { description: "body", visible: false };
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0;
    const box = element.getBoundingClientRect();
    const onScreen = box.width > 0 && box.height > 0 && style.visibility !== "hidden";
    const label =
      element.getAttribute("aria-label") ?? element.id ?? element.textContent?.trim().slice(0, 30);
    return {
      description: `${element.tagName.toLowerCase()} ${label ?? ""}`,
      visible: element.matches(":focus-visible") && outline && onScreen,
    };
  });
}

describe("accessibility (axe-core and the keyboard, Chromium)", () => {
  const servers = browserCluster({ supervisor: true, instances: 1 });
  const url = () => servers.url;

  after(() => {
    if (summary.length > 0) process.stdout.write(`# axe summary\n${summary.join("\n")}\n`);
  });

  async function check(page: Page, name: string): Promise<void> {
    const result = await axe(page);
    summary.push(
      `#   ${name}: ${result.serious.length} serious or critical; ${result.all.length} in all${
        result.all.length === 0
          ? ""
          : ` (${result.all.map((v) => `${v.id}: ${v.impact}`).join(", ")})`
      }; ${result.passes} rules passed`,
    );
    assert.deepEqual(result.serious, [], `${name}: serious or critical axe violations`);
  }

  test("axe finds no serious or critical violation on the login page, the chat and the dashboard", async () => {
    const page = await servers.newPage();
    await page.goto(url());
    await app(page).loginButton.waitFor();
    await check(page, "login page");

    const bob = await servers.nodeUser();
    bob.client.send("lobby", "hello, see https://example.com for more");
    await registerInPage(page, url(), uniqueName("web"), PASSWORD);
    await app(page).message("hello, see").waitFor();
    await app(page).composer.fill("a message being typed");
    await check(page, "chat, desktop");

    const phone = await servers.newPage({ viewport: VIEWPORTS.phone });
    await phone.goto(url());
    await app(phone).loginButton.waitFor();
    await check(phone, "login page, phone");

    const dashboard = await servers.newPage();
    await dashboard.goto(`${url()}/_cluster`);
    await dashboard.locator("#instances tr.running").first().waitFor();
    await check(dashboard, "dashboard");
  });

  test("keyboard only: log in, join and switch rooms, send, log out, the focus always visible", async () => {
    const name = uniqueName("keys");
    await registeredUser(url(), name);
    const page = await servers.newPage();
    const ui = app(page);
    await page.goto(url());
    await ui.loginButton.waitFor();
    const seen: string[] = [];

    /** Presses Tab (or Shift+Tab) until `selector` has the focus; each stop must show it. */
    async function tabTo(selector: string, backwards = false): Promise<void> {
      for (let i = 0; i < 40; i++) {
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
          return;
        }
        await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
        const now = await focused(page);
        seen.push(now.description);
        assert.ok(now.visible, `the focus on ${now.description} is not visible`);
      }
      throw new Error(`never reached ${selector} by Tab; went through ${seen.join(", ")}`);
    }

    // The login form has the focus on arrival.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
    await page.keyboard.type(name);
    await tabTo("#password");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await ui.composer.waitFor();
    await ui.status.filter({ hasText: "Connected" }).waitFor();

    // Join a new room from the room list.
    await tabTo("#join-room", true);
    await page.keyboard.type("keyboard-room");
    await page.keyboard.press("Enter");
    await ui.roomTitle.filter({ hasText: "keyboard-room" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "composer");

    await page.keyboard.type("typed, never clicked");
    await page.keyboard.press("Enter");
    await ui.message("typed, never clicked").waitFor();

    // Back to the lobby, by its button in the room list.
    await tabTo(".room-item:first-child .room-button", true);
    await page.keyboard.press("Enter");
    await ui.roomTitle.filter({ hasText: "lobby" }).waitFor();

    await tabTo(".account button", true);
    await page.keyboard.press("Enter");
    await ui.loginButton.waitFor();
    assert.ok(seen.length > 3, "the test went through several stops");
  });

  test("new messages from others in the open room are announced politely", async () => {
    const page = await servers.newPage();
    await registerInPage(page, url(), uniqueName("ears"), PASSWORD);
    await app(page).status.filter({ hasText: "Connected" }).waitFor();
    const bob = await servers.nodeUser();
    bob.client.send("lobby", "is anyone there?");
    const region = page.locator('[aria-live="polite"]', {
      hasText: `${bob.name}: is anyone there?`,
    });
    await region.waitFor({ state: "attached" });
    assert.equal(await region.count(), 1, "said once, in one polite region");
  });
});
