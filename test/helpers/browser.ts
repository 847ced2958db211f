import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import type { SwitchboardClient } from "../../src/client/core/index.ts";

/** Screenshots for a person to look at (gitignored); made when a test first writes there. */
export const SCREENSHOTS = fileURLToPath(
  new URL("../../test-results/screenshots/", import.meta.url),
);

/** The two window sizes the layout is checked at. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/** Launches headless Chromium. The caller closes it in `after`, whatever happened. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no browser at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * What would mean a broken page, collected while a test runs: uncaught
 * errors, and Content Security Policy violations (an inline script or style
 * that the policy blocked). HTTP errors are left out: a test that cares
 * (the login page's own session check answers 200, not 401) looks at them itself.
 */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  return { problems };
}

/** The app as a person sees it, by roles and visible text. */
export function app(page: Page) {
  return {
    status: page.getByRole("status"),
    messages: page.locator(".messages"),
    members: page.getByRole("complementary", { name: "Who is online" }),
    composer: page.getByRole("textbox", { name: "Message" }),
    roomTitle: page.locator(".room-title"),
    logout: page.getByRole("button", { name: "Log out" }),
    loginButton: page.getByRole("button", { name: "Log in", exact: true }),
    /** A shown message (not one still in the outbox) whose text contains `text`. */
    message: (text: string): Locator =>
      page.locator(".messages:not(.outbox) .message").filter({ hasText: text }),
  };
}

/** Opens the app at `baseUrl` and creates an account through the form; resolves in the chat. */
export async function registerInPage(
  page: Page,
  baseUrl: string,
  name: string,
  password: string,
): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await app(page).composer.waitFor();
}

/** Types a message and presses Enter, as a person would. */
export async function sendInPage(page: Page, text: string): Promise<void> {
  const composer = app(page).composer;
  await composer.fill(text);
  await composer.press("Enter");
}

/** Runs every teardown step, also after one failed, and then reports all that failed. */
export async function allSteps(steps: Array<() => Promise<unknown> | undefined>): Promise<void> {
  const failures = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, "teardown failed");
}

/** Sends each text in turn and resolves once the server acknowledged them all. */
export async function sendAll(
  client: SwitchboardClient,
  room: string,
  texts: string[],
): Promise<void> {
  for (const text of texts) client.send(room, text);
  const deadline = Date.now() + 20_000;
  while (client.outbox.all().length > 0) {
    if (Date.now() > deadline) throw new Error("messages were not acknowledged in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
