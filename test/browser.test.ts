import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { WebSocketRoute } from "playwright-core";
import type { SwitchboardClient } from "../src/client/core/index.ts";
import type { Message } from "../src/protocol/index.ts";
import { app, registerInPage, sendInPage, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";
import { nextEvent, PASSWORD, uniqueName } from "./helpers/users.ts";

/** The next message with this text that a Node client shows. */
function received(client: SwitchboardClient, text: string): Promise<Message> {
  return nextEvent<Message>(
    (listener) =>
      client.on("room", (_view, change) => {
        for (const message of change.added) listener(message);
      }),
    (message) => message.text === text,
  );
}

describe("browser app (Chromium)", () => {
  const servers = browserCluster({ instances: 2 });

  test("Test 1: chat with a Node client on another instance, then reload", async () => {
    const page = await servers.newPage();
    const watch = watchPage(page);
    const ui = app(page);
    const name = uniqueName("web");

    await registerInPage(page, servers.a.url, name, PASSWORD);
    await ui.status.filter({ hasText: `Connected to instance ${servers.a.id}` }).waitFor();
    await ui.roomTitle.filter({ hasText: "lobby" }).waitFor();
    assert.equal(await page.locator(".account .me").textContent(), name);

    const bob = await servers.nodeUser({ at: servers.b.url });
    await ui.members.getByText(bob.name).waitFor();

    // The browser's message reaches a Node client on the other instance.
    const hello = `hello from chromium ${Date.now()}`;
    const heard = received(bob.client, hello);
    await sendInPage(page, hello);
    const message = await heard;
    assert.equal(message.user, name);
    await ui.message(hello).waitFor();
    assert.match((await ui.message(hello).locator("time").textContent()) ?? "", /^\d\d:\d\d$/);
    assert.equal(await ui.composer.inputValue(), "");

    // Typing from the Node client shows, and goes away when its message arrives.
    const typing = page.getByText(`${bob.name} is typing…`);
    bob.client.typing("lobby");
    await typing.waitFor();
    const reply = `hi from node, <b>not bold</b> ${Date.now()}`;
    bob.client.send("lobby", reply);
    const shown = ui.message(reply);
    await shown.waitFor();
    assert.equal(await shown.locator(".author").textContent(), bob.name);
    assert.equal(await shown.locator("b").count(), 0, "text is not parsed as HTML");
    await typing.waitFor({ state: "hidden" });

    // A reload keeps the login and shows the history and who is online.
    await page.reload();
    await ui.status.filter({ hasText: `Connected to instance ${servers.a.id}` }).waitFor();
    await ui.message(hello).waitFor();
    await ui.message(reply).waitFor();
    await ui.members.getByText(bob.name).waitFor();
    assert.equal(await page.getByRole("tab", { name: "Log in" }).count(), 0);

    await page.screenshot({ path: "/tmp/switchboard-chat.png" });
    assert.deepEqual(watch.problems, []);
  });

  test("logging out in one tab closes the chat in the other tab", async () => {
    const context = await servers.newContext();
    const first = await context.newPage();
    const firstWatch = watchPage(first);
    await registerInPage(first, servers.a.url, uniqueName("tabs"), PASSWORD);

    // Cookies are per host, not per port: the second tab, on instance B, is logged in too.
    const second = await context.newPage();
    const secondWatch = watchPage(second);
    await second.goto(servers.b.url);
    await app(second)
      .status.filter({ hasText: `Connected to instance ${servers.b.id}` })
      .waitFor();

    // A background tab gets few animation frames; the person clicks in the tab in front.
    await first.bringToFront();
    await app(first).logout.click();
    await app(first).loginButton.waitFor();
    await app(second).loginButton.waitFor();
    await second.getByText("You were logged out").waitFor();
    assert.equal(await app(second).composer.count(), 0);

    await second.reload();
    await app(second).loginButton.waitFor();
    assert.deepEqual([...firstWatch.problems, ...secondWatch.problems], []);
  });

  test("keeps chatting on long-polling when WebSockets are blocked", async () => {
    const context = await servers.newContext();
    // A proxy that breaks WebSockets: every upgrade is closed at once.
    await context.routeWebSocket(/.*/, (socket) => socket.close());
    const page = await context.newPage();
    const polls: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("transport=polling")) polls.push(request.url());
    });
    const ui = app(page);
    await registerInPage(page, servers.a.url, uniqueName("poll"), PASSWORD);
    await ui.status.filter({ hasText: `Connected to instance ${servers.a.id}` }).waitFor();

    const carol = await servers.nodeUser({ at: servers.b.url });
    const out = `over long-polling ${Date.now()}`;
    const heard = received(carol.client, out);
    await sendInPage(page, out);
    await heard;
    const pollsBefore = polls.length;
    const back = `answer to a polling browser ${Date.now()}`;
    carol.client.send("lobby", back);
    await ui.message(back).waitFor();
    assert.ok(polls.length > pollsBefore, "the answer came over long-polling");
  });

  test("a message typed while cut off survives a reload and is delivered once", async () => {
    const context = await servers.newContext();
    // The socket's traffic goes through here, so the test can cut it like a failing network.
    let cut = false;
    const sockets: WebSocketRoute[] = [];
    let upgraded: () => void = () => undefined;
    const onWebSocket = new Promise<void>((resolve) => {
      upgraded = resolve;
    });
    await context.routeWebSocket(/\/socket\.io\//, (socket) => {
      if (cut) {
        socket.close();
        return;
      }
      const server = socket.connectToServer();
      socket.onMessage((frame) => {
        if (frame === "5") upgraded(); // Engine.IO "upgrade": polling is over, all goes here now.
        server.send(frame);
      });
      sockets.push(socket);
    });
    await context.route(/\/socket\.io\//, (route) => (cut ? route.abort() : route.continue()));
    const page = await context.newPage();
    const ui = app(page);
    const name = uniqueName("away");
    await registerInPage(page, servers.a.url, name, PASSWORD);
    await ui.status.filter({ hasText: "Connected" }).waitFor();
    await onWebSocket;
    const dave = await servers.nodeUser({ at: servers.b.url });

    cut = true;
    for (const socket of sockets.splice(0)) await socket.close();
    await ui.status.filter({ hasText: "Reconnecting" }).waitFor();
    const text = `typed while cut off ${Date.now()}`;
    await sendInPage(page, text);
    await ui.status.filter({ hasText: "Offline — 1 message waiting" }).waitFor();
    await page.locator(".outbox .message", { hasText: text }).getByText("sending…").waitFor();

    await page.reload();
    await page.locator(".outbox .message", { hasText: text }).getByText("sending…").waitFor();
    const heard = received(dave.client, text);
    cut = false;
    const message = await heard;
    assert.equal(message.user, name);
    await ui.message(text).waitFor();
    await page.locator(".outbox .message").waitFor({ state: "detached" });
    assert.equal(await ui.message(text).count(), 1);
    assert.equal(dave.client.rooms.get("lobby")?.messages.filter((m) => m.text === text).length, 1);
  });

  test("user text is shown literally and never runs", async () => {
    const page = await servers.newPage();
    const watch = watchPage(page);
    const ui = app(page);
    await registerInPage(page, servers.a.url, uniqueName("xss"), PASSWORD);
    await ui.status.filter({ hasText: "Connected" }).waitFor();
    const mallory = await servers.nodeUser({ at: servers.b.url });

    const payloads = [
      `<img src=x onerror="window.__pwned=1">`,
      `<script>window.__pwned=2</script>`,
      `<svg onload="window.__pwned=3"></svg>`,
      `"><iframe src="javascript:window.top.__pwned=4"></iframe>`,
    ];
    for (const payload of payloads) mallory.client.send("lobby", payload);
    await sendInPage(page, `<b onmouseover="window.__pwned=5">mine</b>`);
    for (const payload of payloads) await ui.message(payload).waitFor();
    await ui.message(`<b onmouseover="window.__pwned=5">mine</b>`).waitFor();

    assert.equal(await ui.messages.locator("img, script, svg, iframe, b").count(), 0);
    assert.equal(await page.evaluate(() => "__pwned" in window), false);
    assert.deepEqual(watch.problems, []);
  });
});
