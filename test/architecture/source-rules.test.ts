import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Rules of the codebase that the linter cannot express: no `export *`, no default exports of our
 * own, kebab-case file names, and a pure domain (no clock, no randomness, no I/O) in core.
 */

const root = resolve(import.meta.dirname, '../..');
const packages = ['core', 'shopify-app', 'woocommerce-bridge', 'admin', 'test', 'bench', 'scripts'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const files = packages.flatMap((p) => sourceFiles(join(root, p)));
const rel = (f: string) => relative(root, f);

describe('source rules', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('never re-exports with export *', () => {
    const offenders = files.filter((f) => /^\s*export\s+\*/m.test(readFileSync(f, 'utf8'))).map(rel);
    expect(offenders).toEqual([]);
  });

  it('names files in kebab-case', () => {
    const offenders = files.map(rel).filter((f) => !/^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+)*\.tsx?$/.test(f.split('/').at(-1) ?? ''));
    expect(offenders).toEqual([]);
  });

  it('keeps the core domain pure: no clock, randomness or I/O', () => {
    const domainDirs = ['capture', 'conversion', 'offers', 'orders', 'templates', 'shared'].map((d) => join(root, 'core/src', d));
    const forbidden = /\bDate\.now\(|\bnew Date\(\)|Math\.random\(|from 'node:(fs|net|http|https|dns|child_process)'|\bfetch\(/;
    const offenders = domainDirs
      .flatMap((d) => sourceFiles(d))
      .filter((f) => !f.endsWith('.test.ts'))
      .filter((f) => forbidden.test(readFileSync(f, 'utf8')))
      .map(rel);
    expect(offenders).toEqual([]);
  });
});
