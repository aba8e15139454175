import { describe, expect, it } from 'vitest';
import { parseTrustProxy } from './trust-proxy.ts';

describe('parseTrustProxy', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['0', false],
    ['off', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['10.0.0.0/8, 192.168.1.7', '10.0.0.0/8,192.168.1.7'],
    ['loopback,fd00::/8,::1', 'loopback,fd00::/8,::1'],
  ])('reads %j as %j', (raw, expected) => {
    expect(parseTrustProxy(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([['lb.internal'], ['10.0.0.0/33'], ['::1/129'], ['1.2.3.4/8/9'], ['loopback, nonsense'], ['1000']])('refuses %j, naming it', (raw) => {
    expect(parseTrustProxy(raw)).toEqual({ ok: false, reason: expect.stringMatching(/^must be false, true, a hop count.*not understood/) });
  });
});
