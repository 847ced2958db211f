import { ConfigError, loadConfig } from "./config.ts";
import { configSummary } from "./config-summary.ts";
import { startInstance } from "./instance.ts";
import { createLogger } from "./logger.ts";

/** `npm run instance`: one chat instance configured from the environment. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel, instance: config.instanceId });
  log.info({ config: configSummary(config) }, "configuration");
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled rejection"));

  const instance = await startInstance(config, log).catch((error: unknown) => {
    log.fatal({ err: error }, "could not start");
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "draining");
    instance.close({ drain: true }).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
