import { systemClock } from '../ports/clock.ts';
import { ConfigError } from '../shared/errors.ts';
import { loadCliConfig } from './cli-config.ts';
import { CliFailure } from './cli-context.ts';
import { processOutput } from './cli-output.ts';
import { buildProgram } from './program.ts';

/**
 * The composition root of the `clickthread` CLI (core/bin/clickthread.js imports this file).
 * Exit codes: 0 done, 1 the operation failed (bad input, send refused…), 2 configuration or usage.
 */

const output = processOutput(process.stdout, process.stderr);
let exitCode = 0;

try {
  const config = loadCliConfig(process.env);
  const program = buildProgram({ config, output, clock: systemClock, env: process.env }, (code) => {
    exitCode = code;
  });
  program.exitOverride();
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliFailure) {
    for (const line of error.lines) output.err(line);
    exitCode = 1;
  } else if (error instanceof ConfigError) {
    output.err(error.message);
    exitCode = 2;
  } else if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && error.code.startsWith('commander.')) {
    // commander already printed the usage problem (or the help/version it was asked for)
    exitCode = 'exitCode' in error && typeof error.exitCode === 'number' ? (error.exitCode === 0 ? 0 : 2) : 2;
  } else {
    output.err(`clickthread failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (error instanceof Error && error.cause !== undefined) output.err(`caused by: ${error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause)}`);
    exitCode = 1;
  }
}
process.exitCode = exitCode;
