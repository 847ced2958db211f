/**
 * The process kit: how the supervisor, the benchmark, the chaos run and the
 * tests start a child, wait until it is healthy, and stop it (SIGTERM, then
 * SIGKILL after a bound), and how a test's children end with the test.
 */
export {
  answers,
  delay,
  describeExit,
  type ExitInfo,
  exitOf,
  isAlive,
  OutputLog,
  portAccepts,
  startFailure,
  terminate,
  waitUntil,
} from "./child.ts";
export { ephemeralRange, freePort } from "./ports.ts";
export { endPidsWithThisProcess, endWithThisProcess, pidAlive } from "./reaper.ts";
