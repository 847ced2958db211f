export { freePort } from "../../bench/harness/ports.ts";
