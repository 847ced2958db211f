export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export {
  type ClientEvents,
  type ClientOptions,
  type ConnectionStatus,
  RoomRefusedError,
  SwitchboardClient,
} from "./client.ts";
export { CookieJar } from "./cookie-jar.ts";
export { ApiError, HttpApi } from "./http-api.ts";
export { MemoryStorage, type OutboxEntry, type OutboxStorage } from "./outbox.ts";
export { type RoomChange, RoomMembers, RoomView } from "./room-view.ts";
