export {
  type ClusterInstance,
  type ClusterOptions,
  ClusterProcess as TestCluster,
  portOpen,
} from "../../bench/harness/cluster-process.ts";
