/** The load balancer kit is shared with the benchmark (`--router haproxy`). */
export {
  fillIn,
  type LoadBalancer,
  startHaproxy,
  startNginx,
  type Upstream,
} from "../../bench/harness/load-balancer.ts";
