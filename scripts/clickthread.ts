/**
 * `clickthread`, the one CLI of the whole project: core's commands (worker, offers, test-fire, log,
 * dead-letters, replay) plus the WooCommerce bridge's `connections` and `reconcile`, which core may
 * not import. Run it as `pnpm clickthread <command>` or `node scripts/clickthread.ts <command>`.
 */
const bridgeCommands = new Set(['connections', 'reconcile']);
const command = process.argv[2];

if (command !== undefined && bridgeCommands.has(command)) {
  const { runCli } = await import('@clickthread/woocommerce-bridge/cli');
  process.exitCode = await runCli(process.argv.slice(2), { env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) });
} else {
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log('WooCommerce connections: clickthread connections add|list|remove, clickthread reconcile (see `clickthread connections --help`)\n');
  }
  await import('../core/src/cli/main.ts');
}
