import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { appProxyPrefixes, defaultShopifyEndpoint, parseCaptureScriptConfig } from '@clickthread/core/storefront';

/**
 * The Shopify app embed's Liquid, read as text: the parts that decide where the script sends its
 * captures. (Shopify's theme check runs over the extension in shopify-app/scripts/theme-extension.test.ts;
 * no Liquid renderer is installed, so the Liquid's sub path rule is checked through a model of the
 * filters it uses, against the config schema the rendered JSON must pass.)
 */

const extension = new URL('../../shopify-app/extensions/clickthread-capture/', import.meta.url);
const liquid = readFileSync(new URL('blocks/app-embed.liquid', extension), 'utf8');
const locales = JSON.parse(readFileSync(new URL('locales/en.default.schema.json', extension), 'utf8')) as Record<string, unknown>;

interface Setting {
  readonly type: string;
  readonly id: string;
  readonly default?: unknown;
  readonly options?: readonly { value: string; label: string }[];
}
const schema = JSON.parse(/\{%\s*schema\s*%\}([\s\S]*?)\{%\s*endschema\s*%\}/.exec(liquid)?.[1] ?? 'null') as { settings: Setting[] };
const setting = (id: string) => schema.settings.find((s) => s.id === id);
const configElement = /<script type="application\/json" id="clickthread-config">([\s\S]*?)<\/script>/.exec(liquid)?.[1] ?? '';

/**
 * Shopify's `url_encode` is Ruby's CGI.escape: everything but letters, digits, `_ . - ~` is
 * percent-encoded, a space becomes `+`. The embed accepts a sub path that it leaves unchanged.
 */
function cgiEscape(value: string): string {
  return value.replace(/[^ a-zA-Z0-9_.\-~]+/g, (run) => [...Buffer.from(run, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')).replaceAll(' ', '+');
}

/** The embed's rule for the sub path setting, as its Liquid writes it (after `strip`). */
function embedAcceptsSubpath(raw: string): boolean {
  const subpath = raw.trim();
  return subpath !== '' && cgiEscape(subpath) === subpath && subpath.replaceAll('.', '') !== '' && subpath.length <= 255;
}

describe('app embed: the app proxy path', () => {
  it('renders the endpoint from the settings, not a fixed path', () => {
    expect(configElement).toContain('"endpoint": {{ endpoint | json }},');
    expect(configElement).not.toContain('/apps/clickthread');
    expect(liquid).toMatch(/assign endpoint = '\/' \| append: proxy_prefix \| append: '\/' \| append: proxy_subpath \| append: '\/capture'/);
  });

  it("offers exactly Shopify's app proxy prefixes, and checks against the same list", () => {
    expect(setting('app_proxy_prefix')).toMatchObject({ type: 'select', default: 'apps' });
    expect(setting('app_proxy_prefix')?.options?.map((o) => o.value)).toEqual([...appProxyPrefixes]);
    expect(liquid).toContain(`assign proxy_prefixes = '${appProxyPrefixes.join(',')}' | split: ','`);
  });

  it("defaults to the app's own proxy path, which is core's default endpoint", () => {
    expect(setting('app_proxy_subpath')).toMatchObject({ type: 'text', default: 'clickthread' });
    expect(liquid).toContain("assign proxy_subpath = block.settings.app_proxy_subpath | strip | default: 'clickthread'");
    expect(`/${String(setting('app_proxy_prefix')?.default)}/${String(setting('app_proxy_subpath')?.default)}/capture`).toBe(defaultShopifyEndpoint);
  });

  it('accepts a sub path exactly when the config schema accepts the endpoint it makes', () => {
    const units = fc.constantFrom('a', 'Z', '0', '_', '-', '.', '~', ' ', '/', '?', '#', '%', '"', '<', 'é', '😀', '\u200b');
    fc.assert(
      fc.property(fc.constantFrom(...appProxyPrefixes), fc.array(units, { minLength: 1, maxLength: 10 }), (prefix, chars) => {
        const subpath = chars.join('');
        if (subpath.trim() !== subpath) return; // the Liquid strips; the schema sees what it renders
        const endpoint = `/${prefix}/${subpath}/capture`;
        expect(embedAcceptsSubpath(subpath)).toBe(parseCaptureScriptConfig({ platform: 'shopify', params: ['a'], endpoint }).ok);
      }),
      { numRuns: 3000 },
    );
    expect(embedAcceptsSubpath('a'.repeat(255))).toBe(true);
    expect(embedAcceptsSubpath('a'.repeat(256))).toBe(false);
    expect(parseCaptureScriptConfig({ platform: 'shopify', params: ['a'], endpoint: `/apps/${'a'.repeat(256)}/capture` }).ok).toBe(false);
  });

  it.each([
    ['clickthread', true],
    ['click-thread_2.v~1', true],
    [' clickthread ', true],
    ['/clickthread', false],
    ['apps/clickthread', false],
    ['..', false],
    ['click thread', false],
    ['clické', false],
    ['', false],
  ])('sub path %j: kept: %s', (subpath, kept) => {
    expect(embedAcceptsSubpath(subpath)).toBe(kept);
  });

  it('falls back to the default and says why in the page source when the sub path is not one', () => {
    expect(liquid).toMatch(/if proxy_subpath_encoded != proxy_subpath or proxy_subpath_dots == blank or proxy_subpath.size > 255\s+assign proxy_subpath_invalid = proxy_subpath\s+assign proxy_subpath = 'clickthread'/);
    expect(liquid).toMatch(/<!-- Clickthread: the app proxy sub path "\{\{ proxy_subpath_invalid \| escape \}\}" is not one/);
  });

  it('has a translation for every label and info it names', () => {
    const keys = [...liquid.matchAll(/"t:([\w.]+)"/g)].map((m) => m[1] ?? '');
    expect(keys).toEqual(expect.arrayContaining(['settings.app_proxy_prefix.label', 'settings.app_proxy_subpath.info', 'settings.app_proxy_prefix.options.tools']));
    const missing = keys.filter((key) => typeof key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], locales) !== 'string');
    expect(missing).toEqual([]);
  });
});
