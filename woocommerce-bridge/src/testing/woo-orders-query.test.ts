import { describe, expect, it } from 'vitest';
import { queryOrdersLikeWoo, type ListableOrder } from './woo-orders-query.ts';

/** The fake's `GET /orders` keeps to WooCommerce's collection parameters (class-wc-rest-crud-controller.php). */

const order = (id: number, created: string, modified: string): ListableOrder => ({
  id,
  date_created: created,
  date_created_gmt: created,
  date_modified: modified,
  date_modified_gmt: modified,
});

const orders = [
  order(1, '2026-01-01T10:00:00', '2026-01-01T12:00:00'),
  order(2, '2026-01-01T11:00:00', '2026-01-01T12:00:00'),
  order(3, '2026-01-01T09:00:00', '2026-01-01T11:00:00'),
  order(4, '2026-01-01T12:00:00', '2026-01-01T13:00:00'),
];
const ids = (query: string): number[] | string => {
  const answer = queryOrdersLikeWoo(orders, new URLSearchParams(query));
  return answer.ok ? answer.items.map((o) => o.id) : answer.message;
};

describe('GET /orders in the fake store', () => {
  it.each([
    ['by creation date, newest first by default', '', [4, 2, 1, 3]],
    ['by modification, ties by id in the same direction', 'orderby=modified&order=asc', [3, 1, 2, 4]],
    ['by modification descending', 'orderby=modified&order=desc', [4, 2, 1, 3]],
    ['modified_after is strict', 'orderby=modified&order=asc&modified_after=2026-01-01T12:00:00&dates_are_gmt=true', [4]],
    ['modified_before is strict', 'orderby=id&order=asc&modified_before=2026-01-01T12:00:00', [3]],
    ['one second alone', 'orderby=id&order=asc&modified_after=2026-01-01T11:59:59&modified_before=2026-01-01T12:00:01', [1, 2]],
    ['exclude', 'orderby=id&order=asc&exclude=1,3', [2, 4]],
    ['offset replaces page', 'orderby=id&order=asc&per_page=2&page=2&offset=1', [2, 3]],
    ['pages', 'orderby=id&order=asc&per_page=3&page=2', [4]],
  ])('%s', (_what, query, expected) => {
    expect(ids(query)).toEqual(expected);
  });

  it('filters by customer and by a list of statuses (any by default)', () => {
    const placed = [
      { ...order(1, '2026-01-01T10:00:00', '2026-01-01T10:00:00'), customer_id: 7, status: 'cancelled' },
      { ...order(2, '2026-01-01T11:00:00', '2026-01-01T11:00:00'), customer_id: 7, status: 'completed' },
      { ...order(3, '2026-01-01T12:00:00', '2026-01-01T12:00:00'), customer_id: 8, status: 'processing' },
      { ...order(4, '2026-01-01T13:00:00', '2026-01-01T13:00:00'), customer_id: 0, status: 'processing' },
    ];
    const of = (query: string): number[] | string => {
      const answer = queryOrdersLikeWoo(placed, new URLSearchParams(query));
      return answer.ok ? answer.items.map((o) => o.id) : answer.message;
    };
    expect(of('customer=7&orderby=date&order=asc')).toEqual([1, 2]);
    expect(of('customer=7&status=processing,completed&orderby=date&order=asc')).toEqual([2]);
    expect(of('customer=0&orderby=id&order=asc')).toEqual([4]);
    expect(of('status=any&orderby=id&order=asc')).toEqual([1, 2, 3, 4]);
    expect(of('customer=-1')).toBe('Invalid parameter(s): customer');
    expect(of('customer=x')).toBe('Invalid parameter(s): customer');
  });

  it('counts every match in X-WP-Total, whatever the page', () => {
    expect(queryOrdersLikeWoo(orders, new URLSearchParams('per_page=3&page=2'))).toMatchObject({ ok: true, total: 4, totalPages: 2 });
    expect(queryOrdersLikeWoo(orders, new URLSearchParams('modified_after=2030-01-01T00:00:00'))).toMatchObject({ ok: true, total: 0, totalPages: 0 });
  });

  it.each([
    ['orderby=date_modified', 'orderby'],
    ['order=up', 'order'],
    ['per_page=101', 'per_page'],
    ['per_page=0', 'per_page'],
    ['page=0', 'page'],
    ['modified_after=yesterday', 'modified_after'],
  ])('refuses %s with 400 rest_invalid_param', (query, param) => {
    expect(queryOrdersLikeWoo(orders, new URLSearchParams(query))).toEqual({ ok: false, status: 400, code: 'rest_invalid_param', message: `Invalid parameter(s): ${param}` });
  });
});
