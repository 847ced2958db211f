import { startHaproxy } from "./helpers/load-balancer.ts";
import { loadBalancerSuite } from "./helpers/load-balancer-suite.ts";

/** deploy/haproxy.cfg as shipped (its servers and bind address filled in), with a real HAProxy. */
loadBalancerSuite("HAProxy from deploy/haproxy.cfg", startHaproxy);
