import { after, before } from "node:test";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import type { ClientOptions, HttpApi, SwitchboardClient } from "../../src/client/core/index.ts";
import { allSteps, launchBrowser } from "./browser.ts";
import { TestCluster } from "./cluster.ts";
import { TEST_SESSION_SECRET } from "./fixtures.ts";
import { startInstances, TestInstance } from "./instance.ts";
import { TestRedis } from "./redis-server.ts";
import { connectedClient, registeredUser, uniqueName } from "./users.ts";

export interface BrowserClusterOptions {
  /** How many instances. @default 1 */
  instances?: number;
  /** Environment for every instance (REDIS_URL and SESSION_SECRET are set here unless given). */
  env?: Record<string, string>;
  /**
   * Run the local cluster (`npm start`: supervisor, router, a Redis of its
   * own) instead of bare instances on a Redis of the file's own; `url` is
   * then the router's, and `env` goes to the supervisor.
   */
  supervisor?: boolean;
}

export interface ContextOptions extends BrowserContextOptions {
  /** Playwright's default timeout for the context's actions and waits. @default 10000 */
  timeoutMs?: number;
}

/** A person using the app from Node (for the other side of a conversation). */
export interface NodeUser {
  name: string;
  http: HttpApi;
  client: SwitchboardClient;
}

/** What every browser test file gets: somewhere to open the app, and pages to open it in. */
export interface BrowserFixture {
  /** Where a page opens the app: the first instance, or the router. */
  readonly url: string;
  /** A browser context of its own (cookies, storage, routes), closed at the end. */
  newContext(options?: ContextOptions): Promise<BrowserContext>;
  /** A page in a new context. */
  newPage(options?: ContextOptions): Promise<Page>;
  /** A user registered at `url` (or `at`) with a connected client, closed at the end. */
  nodeUser(options?: {
    at?: string;
    name?: string;
    client?: Partial<ClientOptions>;
  }): Promise<NodeUser>;
}

export interface InstancesFixture extends BrowserFixture {
  readonly redis: TestRedis;
  /** The instances in the order started; `startInstance()` adds to them. */
  readonly instances: readonly TestInstance[];
  /** The first instance, and the second (as `twoInstances` names them). */
  readonly a: TestInstance;
  readonly b: TestInstance;
  /** The environment every instance got. */
  readonly env: Record<string, string>;
  /** One more instance on the same Redis, with the same environment; stopped at the end. */
  startInstance(): Promise<TestInstance>;
}

export interface SupervisorFixture extends BrowserFixture {
  readonly cluster: TestCluster;
}

const VIEWPORT = { width: 1280, height: 800 };

/**
 * Chromium and the servers it talks to, for one test file (or `describe`):
 * started in its `before`, together, and stopped in its `after` whatever
 * happened, also when one of them failed to start. The Node clients and
 * browser contexts made through it go first: clients, contexts, the browser,
 * then the servers.
 */
export function browserCluster(
  options: BrowserClusterOptions & { supervisor: true },
): SupervisorFixture;
export function browserCluster(
  options?: BrowserClusterOptions & { supervisor?: false },
): InstancesFixture;
export function browserCluster(
  options: BrowserClusterOptions = {},
): InstancesFixture | SupervisorFixture {
  let browser: Browser | undefined;
  let redis: TestRedis | undefined;
  let cluster: TestCluster | undefined;
  const instances: TestInstance[] = [];
  let env: Record<string, string> = {};
  const contexts: BrowserContext[] = [];
  const clients: SwitchboardClient[] = [];
  const count = options.instances ?? 1;

  before(async () => {
    if (!options.supervisor) {
      redis = await TestRedis.start({ persistence: false });
      env = { REDIS_URL: redis.url, SESSION_SECRET: TEST_SESSION_SECRET, ...options.env };
    }
    const servers = options.supervisor
      ? TestCluster.start({ instances: count, env: options.env ?? {} }).then((one) => {
          cluster = one;
        })
      : startInstances(Array.from({ length: count }, () => env)).then((all) => {
          instances.push(...all);
        });
    // Settled, not all: when one fails, the other is still kept for after() to stop.
    const results = await Promise.allSettled([
      servers,
      launchBrowser().then((launched) => {
        browser = launched;
      }),
    ]);
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  });

  after(() =>
    allSteps([
      ...clients.map((client) => async () => client.close()),
      ...contexts.map((context) => () => context.close()),
      () => browser?.close(),
      ...instances.map((instance) => () => instance.stop("SIGKILL")),
      () => redis?.close(),
      () => cluster?.stop(),
    ]),
  );

  function started<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`browserCluster: no ${what} (not started)`);
    return value;
  }

  const url = (): string => cluster?.url ?? started(instances[0], "instance").url;

  const newContext = async ({ timeoutMs = 10_000, ...contextOptions }: ContextOptions = {}) => {
    const context = await started(browser, "browser").newContext({
      viewport: VIEWPORT,
      ...contextOptions,
    });
    context.setDefaultTimeout(timeoutMs);
    contexts.push(context);
    return context;
  };

  const newPage = async (contextOptions?: ContextOptions) =>
    (await newContext(contextOptions)).newPage();

  const nodeUser: BrowserFixture["nodeUser"] = async ({
    at = url(),
    name = uniqueName("bob"),
    client: clientOptions,
  } = {}) => {
    const user = await registeredUser(at, name);
    const client = await connectedClient(at, user.http, clientOptions);
    clients.push(client);
    return { name, http: user.http, client };
  };

  const pages = { newContext, newPage, nodeUser };
  if (options.supervisor) {
    return {
      ...pages,
      get url() {
        return url();
      },
      get cluster() {
        return started(cluster, "cluster");
      },
    };
  }
  return {
    ...pages,
    get url() {
      return url();
    },
    get redis() {
      return started(redis, "Redis");
    },
    instances,
    get a() {
      return started(instances[0], "first instance");
    },
    get b() {
      return started(instances[1], "second instance");
    },
    get env() {
      return env;
    },
    async startInstance() {
      const instance = await TestInstance.start(env);
      instances.push(instance);
      return instance;
    },
  };
}
