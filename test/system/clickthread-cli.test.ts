import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'ct-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function clickthread(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'scripts/clickthread.ts'), ...args], {
      env: { PATH: process.env['PATH'] ?? '', CLICKTHREAD_DATA_DIR: dataDir },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the clickthread CLI (one entry for core and the bridge)', () => {
  it('runs core commands', async () => {
    const listed = await clickthread('offers', 'list');
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout + listed.stderr).toContain('no offers');
  });

  it('runs the bridge connections commands under the same name', async () => {
    const listed = await clickthread('connections', 'list');
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).toContain('no WooCommerce connections');
  });

  it('refuses a connection with a bad store URL with a clear message and exit code', async () => {
    const added = await clickthread('connections', 'add', '--merchant', 'm1', '--url', 'not a url', '--key', 'ck_x', '--secret', 'cs_y');
    expect(added.code).not.toBe(0);
    expect(added.stderr).toMatch(/url/i);
  });

  it('lists both families of commands in its help', async () => {
    const help = await clickthread('--help');
    expect(help.stdout).toContain('clickthread connections add');
    expect(help.stdout).toContain('test-fire');
  });
});
