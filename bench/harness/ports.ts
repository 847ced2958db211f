/** Port helpers shared by the supervisor, the tests, the chaos run and the benchmark. */
export { freePort, portAccepts } from "../../src/cluster/child-process.ts";
