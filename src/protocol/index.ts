export * from "./errors.ts";
export * from "./events.ts";
export * from "./handshake.ts";
export * from "./limits.ts";
