import assert from "node:assert/strict";
import { test } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { app, registerInPage, sendInPage, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { PASSWORD, uniqueName } from "./helpers/users.ts";

/**
 * The recipe's "Test 2", as a person would run it: two people chat through
 * the router on different instances; the instance of one of them is killed
 * while the other goes on talking and the first types a message. The first
 * page shows that it is reconnecting, comes back on another instance without
 * a login, shows what was said meanwhile once, and delivers what was typed
 * once.
 */
const servers = browserCluster({
  supervisor: true,
  instances: 3,
  env: { RESTART_DELAY_MS: "200" },
});

/** A person's network, which the test can cut: HTTP and WebSockets alike. */
interface Network {
  held: boolean;
}

async function person(
  name: string,
): Promise<{ page: Page; context: BrowserContext; network: Network }> {
  const context = await servers.newContext({ timeoutMs: 15_000 });
  const network: Network = { held: false };
  // Set before the page opens: a WebSocket route applies to sockets opened after it.
  await context.route("**/*", (route) => (network.held ? route.abort() : route.continue()));
  await context.routeWebSocket(/.*/, (socket) => {
    if (network.held) void socket.close();
    else socket.connectToServer();
  });
  const page = await context.newPage();
  await registerInPage(page, servers.url, name, PASSWORD);
  await app(page).status.filter({ hasText: "Connected" }).waitFor();
  return { page, context, network };
}

async function instanceOf(page: Page): Promise<string> {
  const status = app(page).status.filter({ hasText: "Connected to instance" });
  const text = (await status.textContent()) ?? "";
  const id = /instance (\S+)/.exec(text)?.[1];
  assert.ok(id, `no instance in "${text}"`);
  return id;
}

test("Test 2: a killed instance costs the user nothing but a short 'reconnecting'", async () => {
  const ann = await person(uniqueName("ann"));
  const bob = await person(uniqueName("bob"));
  const watch = watchPage(ann.page);
  const annUi = app(ann.page);
  const bobUi = app(bob.page);

  // Two people on two instances (the router spreads new clients; move Bob if it did not).
  let annInstance = await instanceOf(ann.page);
  if ((await instanceOf(bob.page)) === annInstance) {
    await bob.context.clearCookies({ name: "__VCAP_ID__" });
    await bob.page.reload();
    await bobUi.status.filter({ hasText: "Connected" }).waitFor();
  }
  annInstance = await instanceOf(ann.page);
  assert.notEqual(await instanceOf(bob.page), annInstance);

  await sendInPage(bob.page, "before the crash");
  await annUi.message("before the crash").waitFor();

  // The crash. Ann's network is held while it happens, so that the gap is long
  // enough to talk and type in; then it comes back.
  ann.network.held = true;
  await servers.cluster.admin("POST", `/instances/${annInstance}/kill`);
  await annUi.status.filter({ hasText: "Reconnecting" }).waitFor();

  const during = ["said during the gap 1", "said during the gap 2", "said during the gap 3"];
  for (const text of during) await sendInPage(bob.page, text);
  for (const text of during) await bobUi.message(text).waitFor();
  await sendInPage(ann.page, "typed during the gap");
  await ann.page.locator(".outbox .message", { hasText: "typed during the gap" }).waitFor();
  await annUi.status.filter({ hasText: "1 message waiting" }).waitFor();

  ann.network.held = false;
  await annUi.status.filter({ hasText: "Connected to instance" }).waitFor();
  const newInstance = await instanceOf(ann.page);
  assert.notEqual(newInstance, annInstance, "Ann must be on a live instance now");
  assert.equal(await annUi.loginButton.count(), 0, "no login was asked for");

  // What Bob said meanwhile shows once, in order; what Ann typed reaches Bob once.
  for (const text of during) await annUi.message(text).waitFor();
  await bobUi.message("typed during the gap").waitFor();
  await ann.page.locator(".outbox .message").waitFor({ state: "detached" });
  const annTexts = await annUi.messages.locator(".message").allInnerTexts();
  const order = during.map((text) => annTexts.findIndex((t) => t.includes(text)));
  assert.deepEqual(
    [...order].sort((x, y) => x - y),
    order,
  );
  for (const text of [...during, "before the crash", "typed during the gap"]) {
    assert.equal(await annUi.message(text).count(), 1, `Ann sees "${text}" once`);
    assert.equal(await bobUi.message(text).count(), 1, `Bob sees "${text}" once`);
  }
  assert.deepEqual(watch.problems, []);
});
