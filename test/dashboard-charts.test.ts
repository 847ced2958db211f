import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import type { SwitchboardClient } from "../src/client/core/index.ts";
import { SCREENSHOTS, VIEWPORTS, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";

/** What a person sees of one instance's charts. */
interface InstanceCharts {
  instance: string;
  /** Each chart's accessible name (its SVG title) and how many points its line has. */
  charts: Array<{ name: string; points: number; description: string }>;
  /** Whether the messages/s line has a point above its zero line. */
  messagesAboveZero: boolean;
}

async function instanceCharts(page: Page): Promise<InstanceCharts[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("#instance-charts [data-instance]")].map((card) => {
      const charts = [...card.querySelectorAll("svg.chart")].map((chart) => {
        const line = chart.querySelector("polyline");
        return {
          name: chart.querySelector("title")?.textContent ?? "",
          description: chart.querySelector("desc")?.textContent ?? "",
          points: line === null ? 0 : line.points.numberOfItems,
        };
      });
      const messages = [...card.querySelectorAll("svg.chart")].find((chart) =>
        chart.querySelector("title")?.textContent?.startsWith("Messages/s"),
      );
      // The zero line is the lowest grid line; a point above it has a smaller y.
      const zero = Math.max(
        ...[...(messages?.querySelectorAll(".chart-axes line") ?? [])].map((l) =>
          Number(l.getAttribute("y1")),
        ),
      );
      const ys = [...(messages?.querySelector("polyline")?.points ?? [])].map((p) => p.y);
      return {
        instance: card.dataset.instance ?? "",
        charts,
        messagesAboveZero: ys.some((y) => y < zero - 0.5),
      };
    }),
  );
}

/** The page is no wider than its window, and no chart sticks out of it. */
async function assertFitsAcross(page: Page, what: string): Promise<void> {
  const g = await page.evaluate(() => ({
    width: window.innerWidth,
    pageWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    rights: [...document.querySelectorAll("svg.chart, .card")].map(
      (e) => e.getBoundingClientRect().right,
    ),
    lefts: [...document.querySelectorAll("svg.chart, .card")].map(
      (e) => e.getBoundingClientRect().left,
    ),
    // What sticks out, named, for the message when the page is too wide.
    wide: [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id === "" ? "" : `#${e.id}`}.${e.className}`),
  }));
  assert.ok(
    g.pageWidth <= g.width,
    `${what}: page ${g.pageWidth} px wide in ${g.width} px (${g.wide.join(", ")})`,
  );
  assert.ok(g.rights.length > 0, `${what}: no charts`);
  for (const right of g.rights) assert.ok(right <= g.width + 0.5, `${what}: right edge ${right}`);
  for (const left of g.lefts) assert.ok(left >= -0.5, `${what}: left edge ${left}`);
}

describe("the cluster dashboard draws charts (Chromium)", () => {
  const fixture = browserCluster({ supervisor: true, instances: 2 });
  const clients: SwitchboardClient[] = [];
  let chatting: NodeJS.Timeout | undefined;

  before(() => mkdirSync(SCREENSHOTS, { recursive: true }));
  after(() => clearInterval(chatting));

  test("a chart per instance with a growing line, messages/s above 0 while chatting, the router's figures", async () => {
    const cluster = fixture.cluster;
    const url = cluster.url;
    // Two people, spread by the router over the two instances, chatting through it.
    for (let i = 0; i < 2; i++) {
      const { client } = await fixture.nodeUser();
      await client.join("lobby");
      clients.push(client);
    }
    let sent = 0;
    chatting = setInterval(() => {
      for (const client of clients) client.send("lobby", `chart message ${++sent}`);
      // A page load's worth of HTTP through the router, for its requests/s.
      void fetch(`${url}/healthz`).then(
        (res) => res.arrayBuffer(),
        () => undefined,
      );
    }, 300);

    const page = await fixture.newPage({ viewport: VIEWPORTS.desktop });
    const { problems } = watchPage(page);
    await page.goto(`${url}/_cluster`);

    const running = await cluster.running();
    assert.equal(running.length, 2);
    // One card per running instance, its lines several points long (one point per second).
    await page.waitForFunction(
      (count) => {
        const cards = document.querySelectorAll("#instance-charts [data-instance]");
        if (cards.length !== count) return false;
        return [...cards].every((card) =>
          [...card.querySelectorAll("svg.chart polyline")].some(
            (line) => (line as SVGPolylineElement).points.numberOfItems >= 5,
          ),
        );
      },
      running.length,
      { timeout: 30_000 },
    );
    // The messages/s line leaves zero while people chat.
    await waitForCharts(page, (cards) => cards.some((c) => c.messagesAboveZero));
    const cards = await instanceCharts(page);
    assert.deepEqual(cards.map((c) => c.instance).sort(), running.map((r) => r.id).sort());
    for (const card of cards) {
      assert.deepEqual(
        card.charts.map((c) => c.name),
        [
          `Sockets of ${card.instance}`,
          `Messages/s of ${card.instance}`,
          `Event-loop lag p99 of ${card.instance}`,
          `Memory (RSS) of ${card.instance}`,
        ],
      );
      for (const chart of card.charts) {
        assert.ok(chart.points >= 5, `${chart.name}: ${chart.points} points`);
        assert.match(chart.description, /^Latest \d/, chart.name);
      }
    }
    // The same through the accessibility tree: each chart is an image with a name.
    const first = running[0]?.id ?? "";
    await page.getByRole("img", { name: new RegExp(`^Messages/s of ${first}`) }).waitFor();
    await page.getByRole("img", { name: new RegExp(`^Memory \\(RSS\\) of ${first}`) }).waitFor();

    // The router's figures: its connections carry the two chat sockets, requests flow, no errors.
    const router = page.getByRole("region", { name: "Router" });
    await page.waitForFunction(
      () =>
        Number(document.getElementById("router-connections")?.textContent) >= 2 &&
        Number(document.getElementById("router-rate")?.textContent) > 0,
      undefined,
      { timeout: 15_000 },
    );
    assert.equal(await router.locator("#router-errors").textContent(), "0");
    await router.getByRole("img", { name: /^Requests per second through the router/ }).waitFor();
    // The Redis panel says what the instances use, and lists its nodes or says why it cannot.
    const redis = page.getByRole("region", { name: "Redis" });
    assert.match((await redis.locator("#redis-describe").textContent()) ?? "", /redis:\/\//);
    const nodes = await redis.locator("#redis-nodes li").count();
    assert.ok(nodes > 0 || (await redis.locator("#redis-empty").isVisible()));

    await page.screenshot({ path: `${SCREENSHOTS}dashboard-charts-desktop.png`, fullPage: true });
    await assertFitsAcross(page, "desktop");
    await page.setViewportSize(VIEWPORTS.phone);
    await page.waitForTimeout(1100);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-charts-phone.png`, fullPage: true });
    await assertFitsAcross(page, "phone");
    assert.deepEqual(problems, []);
  });
});

async function waitForCharts(
  page: Page,
  check: (cards: InstanceCharts[]) => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cards = await instanceCharts(page);
    if (check(cards)) return;
    if (Date.now() > deadline) {
      throw new Error(`the charts never showed it: ${JSON.stringify(cards)}`);
    }
    await page.waitForTimeout(250);
  }
}
