import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** `pnpm demo` as a user runs it: a child process that must finish by itself, exit 0 and say what happened. */

const demo = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo], { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not finish in 45 s:\n${output}`));
    }, 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('pnpm demo', () => {
  it('plays both flows end to end, prints what the tracker received and where to look, and exits 0', { timeout: 60_000 }, async () => {
    const { code, output } = await runDemo();
    // the whole output is in the message when this fails
    expect({ code, output }).toMatchObject({ code: 0, output: expect.not.stringContaining('The demo failed') });
    // the two postbacks, with the transaction IDs from the two clicks and the two order ids
    expect(output).toMatch(/GET \/aff_lsr\?offer_id=7&transaction_id=102ab7c9e1d4&.*adv_sub=5900000000001/);
    expect(output).toMatch(/GET \/aff_lsr\?offer_id=7&transaction_id=102fe3b8a5c0&.*adv_sub=1042/);
    expect(output).toContain('CLICKTHREAD_ALLOW_PRIVATE_TARGETS is on for this demo only');
    expect(output).toMatch(/note "Affiliate postback sent to/);
    expect(output).toContain('Where to look');
    expect(output).toMatch(/admin \(agencies and merchants\)\s+http:\/\/127\.0\.0\.1:\d+\/admin/);
  });
});
