import { defineConfig } from 'vitest/config';
import { ClosingLineReporter } from './test/support/closing-line-reporter.ts';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'shopify-app/**/*.test.ts', 'woocommerce-bridge/**/*.test.ts', 'admin/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '.tools/**'],
    // unhandled errors and rejections fail the run (vitest's default, kept explicit)
    dangerouslyIgnoreUnhandledErrors: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', new ClosingLineReporter()],
    globalSetup: ['test/support/build-admin-ui.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
