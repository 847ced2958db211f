import { startNginx } from "./helpers/load-balancer.ts";
import { loadBalancerSuite } from "./helpers/load-balancer-suite.ts";

/** deploy/nginx.conf as shipped (its servers and listen address filled in), with a real nginx. */
loadBalancerSuite("nginx from deploy/nginx.conf", startNginx);
