export { RedisServer as TestRedis, waitForPort } from "../../bench/harness/redis-server.ts";
