export { RedisServer as TestRedis, waitForPort } from "../../src/cluster/redis/server.ts";
