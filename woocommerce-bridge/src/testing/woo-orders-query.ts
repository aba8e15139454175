/**
 * `GET /wc/v3/orders` as WooCommerce answers it, over an in-memory list: the fake store's listing
 * and the reference model of the bridge's paging tests. From woocommerce/woocommerce
 * `class-wc-rest-crud-controller.php` (collection params and `prepare_objects_query`):
 * - `orderby` is one of date, id, include, title, slug, modified (default date), `order` asc|desc
 *   (default desc); `date` and `modified` get `ID` appended as a tie-break, in the same direction;
 * - `modified_after`/`modified_before`/`after`/`before` are strict (`WP_Date_Query`, not inclusive),
 *   on the `_gmt` columns when `dates_are_gmt` is true; dates are kept to the second;
 * - `exclude`/`include` are id lists; `offset`, when given, replaces `page`;
 * - `customer` is a user id (0: guests); `status` a list of statuses without their `wc-` prefix,
 *   `any` (the default) for all;
 * - `per_page` is 1..100, `page` ≥ 1; a bad parameter is a 400 `rest_invalid_param`;
 * - `X-WP-Total` counts every match, `X-WP-TotalPages` is that over `per_page`.
 * title and slug orderings are valid in Woo but not modelled here: the fake refuses them loudly.
 */

export interface ListableOrder {
  readonly id: number;
  readonly customer_id?: number;
  readonly status?: string;
  readonly date_created: string;
  readonly date_created_gmt: string;
  readonly date_modified: string;
  readonly date_modified_gmt: string;
}

export interface InvalidParam {
  readonly ok: false;
  readonly status: 400;
  readonly code: 'rest_invalid_param';
  readonly message: string;
}

export type OrdersQueryAnswer<T> = { readonly ok: true; readonly items: T[]; readonly total: number; readonly totalPages: number } | InvalidParam;

const invalid = (param: string): InvalidParam => ({ ok: false, status: 400, code: 'rest_invalid_param', message: `Invalid parameter(s): ${param}` });

const orderbyValues = new Set(['date', 'id', 'include', 'title', 'slug', 'modified']);
// rest_parse_date: RFC 3339, the zone optional
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})?$/;

/** A request date as the second it stands for (dates without a zone are the site's, UTC here). */
function requestSecond(value: string): string | null {
  const m = rfc3339.exec(value);
  if (!m) return null;
  const zone = m[8] === undefined || m[8] === 'z' ? 'Z' : m[8];
  const time = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`);
  return Number.isNaN(time) ? null : new Date(time).toISOString().slice(0, 19);
}

/** wp_parse_id_list: comma or space separated, absint, unique. */
function idList(value: string | null): number[] {
  if (value === null || value.trim() === '') return [];
  return [...new Set(value.split(/[\s,]+/).filter((s) => s !== '').map((s) => Math.abs(Math.trunc(Number(s))) || 0))];
}

function intParam(value: string | null): number | null | undefined {
  if (value === null) return undefined;
  return /^-?\d+$/.test(value.trim()) ? Number(value) : null;
}

export function queryOrdersLikeWoo<T extends ListableOrder>(orders: Iterable<T>, query: URLSearchParams): OrdersQueryAnswer<T> {
  const orderby = query.get('orderby') ?? 'date';
  if (!orderbyValues.has(orderby)) return invalid('orderby');
  if (orderby === 'title' || orderby === 'slug') throw new Error(`fake woo: orderby=${orderby} is valid in WooCommerce but not modelled by the fake`);
  const direction = query.get('order') ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') return invalid('order');
  const perPage = intParam(query.get('per_page')) ?? 10;
  if (perPage === null || perPage < 1 || perPage > 100) return invalid('per_page');
  const page = intParam(query.get('page')) ?? 1;
  if (page === null || page < 1) return invalid('page');
  const offset = intParam(query.get('offset'));
  if (offset === null) return invalid('offset');
  const gmt = ['true', '1'].includes(query.get('dates_are_gmt') ?? 'false');

  const bounds: Array<{ param: string; field: 'created' | 'modified'; op: 'after' | 'before' }> = [
    { param: 'after', field: 'created', op: 'after' },
    { param: 'before', field: 'created', op: 'before' },
    { param: 'modified_after', field: 'modified', op: 'after' },
    { param: 'modified_before', field: 'modified', op: 'before' },
  ];
  const filters: Array<(o: T) => boolean> = [];
  for (const bound of bounds) {
    const raw = query.get(bound.param);
    if (raw === null) continue;
    const second = requestSecond(raw);
    if (second === null) return invalid(bound.param);
    const column = (o: T): string =>
      (bound.field === 'created' ? (gmt ? o.date_created_gmt : o.date_created) : gmt ? o.date_modified_gmt : o.date_modified).slice(0, 19);
    filters.push(bound.op === 'after' ? (o) => column(o) > second : (o) => column(o) < second);
  }
  const exclude = new Set(idList(query.get('exclude')));
  const include = idList(query.get('include'));
  if (exclude.size > 0) filters.push((o) => !exclude.has(o.id));
  const customer = intParam(query.get('customer'));
  if (customer === null || (customer !== undefined && customer < 0)) return invalid('customer');
  if (customer !== undefined) filters.push((o) => o.customer_id === customer);
  const statuses = (query.get('status') ?? 'any').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!statuses.includes('any')) filters.push((o) => o.status !== undefined && statuses.includes(o.status));
  if (include.length > 0) filters.push((o) => include.includes(o.id));

  const sign = direction === 'asc' ? 1 : -1;
  const key = (o: T): string | number =>
    orderby === 'modified' ? (gmt ? o.date_modified_gmt : o.date_modified) : orderby === 'date' ? (gmt ? o.date_created_gmt : o.date_created) : orderby === 'include' ? include.indexOf(o.id) : o.id;
  const matches = [...orders]
    .filter((o) => filters.every((f) => f(o)))
    .toSorted((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) return (ka < kb ? -1 : 1) * (orderby === 'include' ? 1 : sign);
      return (a.id - b.id) * sign;
    });
  const start = offset ?? (page - 1) * perPage;
  return { ok: true, items: matches.slice(start, start + perPage), total: matches.length, totalPages: Math.ceil(matches.length / perPage) };
}
