import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from './logger.ts';

describe('redactSecrets', () => {
  it.each([
    ['a top-level secret', { secret: 's1', ok: 1 }, { secret: '[redacted]', ok: 1 }],
    ['a nested token', { connection: { token: 't1', id: 'c' } }, { connection: { token: '[redacted]', id: 'c' } }],
    ['request headers', { req: { headers: { authorization: 'Basic x', cookie: 'a=b', host: 'h' } } }, { req: { headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'h' } } }],
    ['any letter case', { Authorization: 'Bearer y', ConsumerSecret: 'cs' }, { Authorization: '[redacted]', ConsumerSecret: '[redacted]' }],
    ['items of an array', { items: [{ password: 'p' }, { name: 'n' }] }, { items: [{ password: '[redacted]' }, { name: 'n' }] }],
    ['Shopify and Woo signatures and tokens', { headers: { 'x-shopify-access-token': 'shpat', 'x-wc-webhook-signature': 'sig' } }, { headers: { 'x-shopify-access-token': '[redacted]', 'x-wc-webhook-signature': '[redacted]' } }],
  ])('censors %s', (_name, input, expected) => {
    const before = structuredClone(input);
    expect(redactSecrets(input)).toEqual(expected);
    // the logged object itself is never changed
    expect(input).toEqual(before);
  });

  it('hands back an object without secrets as it came (no copy)', () => {
    const entry = { orderNumber: '#1001', events: ['offer-1:sale'], nested: { a: { b: 1 } } };
    expect(redactSecrets(entry)).toBe(entry);
  });

  it('leaves errors to the error serializer', () => {
    const error = Object.assign(new Error('boom'), { code: 'E1' });
    expect(redactSecrets({ err: error }).err).toBe(error);
  });

  it('stops three levels down', () => {
    const deep = { a: { b: { c: { secret: 'kept-out-of-reach' } } } };
    expect(redactSecrets(deep)).toBe(deep);
  });
});

describe('createLogger', () => {
  it('writes lines with secrets censored, bindings included, and errors with their cause', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const child = logger.child({ component: 'test', token: 'binding-token' });
    child.info({ connection: { consumerSecret: 'cs_live_secret' }, orderId: '42' }, 'hello');
    child.error({ err: new Error('outer', { cause: new Error('inner') }) }, 'failed');
    const text = lines.join('');
    expect(text).not.toContain('cs_live_secret');
    expect(text).not.toContain('binding-token');
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ component: 'test', token: '[redacted]', connection: { consumerSecret: '[redacted]' }, orderId: '42', msg: 'hello' });
    expect(second).toMatchObject({ msg: 'failed', err: { message: expect.stringContaining('outer') } });
    expect(JSON.stringify(second)).toContain('inner');
  });
});
