export { isLoopbackAddress } from "./admin-gate.ts";
export type { Backend, BackendRegistry, BackendState } from "./backends.ts";
export { BackendTable } from "./backends.ts";
export { AFFINITY_COOKIE } from "./cookies.ts";
export { RouterErrorCode, sendError } from "./errors.ts";
export type { ProxyErrorEvent, RouterCounts } from "./proxy.ts";
export type { AdminHandler, Router, RouterFigures, RouterOptions } from "./router.ts";
export { createRouter } from "./router.ts";
