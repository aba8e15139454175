import { ConfigError, createLogger } from '@clickthread/core';
import { startClickthread } from './compose.ts';

// `pnpm start`: the Shopify app (when configured), the WooCommerce bridge and the delivery worker.
const logger = createLogger({ name: 'clickthread', level: process.env['CLICKTHREAD_LOG_LEVEL'] ?? 'info' });

try {
  const running = await startClickthread({ env: process.env, overrides: { logger } });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  if (error instanceof ConfigError) logger.error({ issues: error.issues }, error.message);
  else logger.error({ err: error }, 'clickthread could not start');
  process.exitCode = 1;
}
