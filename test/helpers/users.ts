import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import {
  type ClientOptions,
  CookieJar,
  HttpApi,
  SwitchboardClient,
} from "../../src/client/core/index.ts";
import type {
  ClientToServerEvents,
  Message,
  ServerToClientEvents,
} from "../../src/protocol/index.ts";

export const PASSWORD = "correct horse battery";

export function uniqueName(prefix = "u"): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

/** A registered (and so logged-in) user with its own cookie jar. */
export async function registeredUser(baseUrl: string, name = uniqueName()) {
  const jar = new CookieJar();
  const http = new HttpApi(baseUrl, jar);
  await http.register(name, PASSWORD);
  return { name, jar, http };
}

/** The same login seen through another instance (the cookie travels, as after a refresh). */
export function sameCookieAt(baseUrl: string, jar: CookieJar): HttpApi {
  return new HttpApi(baseUrl, jar);
}

/** A started SwitchboardClient; resolves when it is connected and has loaded its rooms. */
export async function connectedClient(
  baseUrl: string,
  http: HttpApi,
  options: Partial<ClientOptions> = {},
): Promise<SwitchboardClient> {
  const client = new SwitchboardClient({ url: baseUrl, http, ...options });
  await client.open();
  return client;
}

export type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A bare Socket.IO connection with the jar's cookies, for protocol-level tests. */
export function rawSocket(
  baseUrl: string,
  jar: CookieJar | undefined,
  transports: ("polling" | "websocket")[] = ["polling", "websocket"],
  headers: Record<string, string> = {},
  auth?: Record<string, unknown>,
): RawSocket {
  const cookie = jar?.header();
  return io(baseUrl, {
    reconnection: false,
    forceNew: true,
    transports,
    ...(auth === undefined ? {} : { auth }),
    extraHeaders: { ...headers, ...(cookie === undefined ? {} : { cookie }) },
  });
}

/**
 * Calls `listener` for every live message the socket receives, one at a
 * time, whether it came alone (`message`) or with others of its room
 * (`messages`). Returns the function that stops listening.
 */
export function onMessages(socket: RawSocket, listener: (message: Message) => void): () => void {
  const batch = ({ messages }: { messages: Message[] }) => {
    for (const message of messages) listener(message);
  };
  socket.on("message", listener);
  socket.on("messages", batch);
  return () => {
    socket.off("message", listener);
    socket.off("messages", batch);
  };
}

/** Resolves when the socket is connected (and `ready` arrived), rejects with the connect_error. */
export function socketReady(
  socket: RawSocket,
): Promise<{ user: { name: string }; instance: string }> {
  return new Promise((resolve, reject) => {
    socket.once("ready", resolve);
    socket.once("connect_error", reject);
  });
}

/** Resolves with the first event that passes the filter, or rejects after a timeout. */
export function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  filter: (value: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching event in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = subscribe((value) => {
      if (!filter(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}
