import { ConfigError, createLogger } from '@clickthread/core';
import { loadBridgeConfig, type BridgeConfig } from './config/bridge-config.ts';
import { startBridge } from './start-bridge.ts';

// Runs the WooCommerce bridge standalone: `node woocommerce-bridge/src/main.ts` (configuration in the README).

let config: BridgeConfig;
try {
  config = loadBridgeConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger({ level: config.logLevel, name: 'woocommerce-bridge' });

try {
  const running = await startBridge({ config, logger });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  logger.error({ err: error }, 'woocommerce bridge failed to start');
  process.exit(1);
}
