import type { HistogramData } from "./histogram.ts";

/** The systems the benchmark compares. */
export type SystemName = "switchboard" | "plain" | "ceiling";

/** One simulated user connection, as the coordinator hands it to a worker. */
export interface ClientSpec {
  system: SystemName;
  /** Clients are sent from, closed and reported on by group (one system in one scenario). */
  group: string;
  /** Index within its group. */
  index: number;
  /** The router's URL, or an instance's for the connection scenario. */
  url: string;
  /** A logged-in session shared with other clients (name and value of the cookie). */
  cookie: { name: string; value: string };
  rooms: string[];
  /**
   * Other instances to reconnect to when `url` fails (clients that connect
   * straight to the instances, without the router). @default none
   */
  fallbackUrls?: string[];
}

/** What the coordinator asks a worker; every request gets exactly one reply. */
export type WorkerRequest =
  | {
      kind: "connect";
      clients: ClientSpec[];
      /** Connections opened at once by this worker. */
      concurrency: number;
      timeoutMs: number;
    }
  /** Starts a measurement window: receipts count from here, for messages of this tag and step. */
  | { kind: "begin"; tag: string; step: number }
  /** Sends `count` messages spread evenly over `durationMs`, round-robin over the group's clients here. */
  | { kind: "send"; group: string; count: number; durationMs: number }
  | { kind: "progress" }
  | { kind: "collect" }
  /** Starts recording each client's disconnections and reconnections (reconnect storm). */
  | { kind: "watch" }
  | { kind: "storm"; group: string }
  /** Closes the group's clients (every client without a group). */
  | { kind: "close"; group?: string };

export interface ConnectResult {
  connected: number;
  failed: number;
  /** A few of the failures, for the log. */
  errors: string[];
  durationMs: number;
  /** Clients per instance id, as each client learnt it. */
  byInstance: Record<string, number>;
}

export interface SendResult {
  sent: number;
  sentByRoom: Record<string, number>;
  /** Sends made while the client had no connection (plain and ceiling drop them). */
  whileDisconnected: number;
  /** How late the last send was against its schedule (ms): a busy worker shows here. */
  lagMs: number;
}

export interface Progress {
  unique: number;
  late: number;
  connected: number;
}

export interface Receipts {
  /** Deliveries of a message of this window to a client, first time each. */
  unique: number;
  /** The same message shown again to the same client. */
  duplicates: number;
  /** Messages of an earlier window that arrived during this one. */
  late: number;
  /** Sends the server refused (error ack) or, for Switchboard, that failed for good. */
  sendErrors: number;
  /** Room views the Switchboard client had to reload (recovered: false). */
  resets: number;
  latency: HistogramData;
  /**
   * The same deliveries split at the message's `ts` (set by the instance that
   * took the send, in whole ms): sender to instance, and instance to receiver.
   */
  toServer: HistogramData;
  fromServer: HistogramData;
  /** The same deliveries again: to clients on the sender's instance, and to clients on the others. */
  sameInstance: HistogramData;
  otherInstances: HistogramData;
  /** CPU seconds this worker has used since it started. */
  cpuSeconds: number;
  /** Presence frames the clients received in this window (a batch, or one per-user event). */
  presenceFrames: number;
  /** Of those, the frames that carried a room's count alone (rooms above PRESENCE_COUNT_ONLY_ABOVE). */
  presenceCountFrames: number;
  /** Sends made in this window. */
  sent: number;
}

/** One client's story in a reconnect storm, times in ms since the Unix epoch. */
export interface StormClient {
  index: number;
  /** The instance it was on when watching began. */
  instanceBefore: string | undefined;
  instanceNow: string | undefined;
  connected: boolean;
  lostAt: number | undefined;
  backAt: number | undefined;
  /** Connection attempts since watching began (the first one after the loss included). */
  attempts: number;
}

export interface Replies {
  connect: ConnectResult;
  begin: null;
  send: SendResult;
  progress: Progress;
  collect: Receipts;
  watch: null;
  storm: StormClient[];
  close: null;
}

export type ParentMessage = { id: number; request: WorkerRequest };
export type ChildMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };
