import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.ts';
import { loadCliConfig } from './cli-config.ts';

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadCliConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('loadCliConfig', () => {
  it('defaults CLICKTHREAD_SQLITE_SYNC to full and reads normal', () => {
    expect(loadCliConfig({}).sqliteSync).toBe('full');
    expect(loadCliConfig({ CLICKTHREAD_SQLITE_SYNC: '' }).sqliteSync).toBe('full');
    expect(loadCliConfig({ CLICKTHREAD_SQLITE_SYNC: 'normal' }).sqliteSync).toBe('normal');
  });

  it('refuses a bad CLICKTHREAD_SQLITE_SYNC, naming it, with the other problems', () => {
    expect(problems({ CLICKTHREAD_SQLITE_SYNC: 'off', DATABASE_URL: 'mysql://x' })).toEqual([
      expect.stringMatching(/^DATABASE_URL: /),
      'CLICKTHREAD_SQLITE_SYNC: must be one of full, normal (got "off")',
    ]);
  });
});
