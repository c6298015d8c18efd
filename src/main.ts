import './runtime-defaults';
import { startApp } from './app/app';
import { limitHeapGrowth } from './app/heap-growth';
import { type Config, ConfigError, loadConfig } from './config/config';

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  limitHeapGrowth(config.heapGrowthPercent);
  const app = await startApp(config).catch((err: Error) => {
    process.stderr.write(`vigil: could not start: ${err.message}\n`);
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: config.http.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    timer.unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) void main();
