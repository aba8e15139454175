/**
 * Networks print postback URLs with whole query values such as `REPLACE`, `OPTIONAL` or
 * `TRANSACTION_ID` that the advertiser is expected to overwrite. Rather than make every merchant
 * rewrite them, the checker resolves them to macros: named ones by their name, `REPLACE` and
 * `OPTIONAL` by the parameter they stand in.
 */

/** Placeholders that name what they stand for. Upper case only, exactly as networks print them. */
export const namedPlaceholders: Readonly<Record<string, string>> = {
  TRANSACTION_ID: 'transaction_id',
  CLICK_ID: 'transaction_id',
  CLICKID: 'transaction_id',
  AMOUNT: 'amount',
  PAYOUT: 'amount',
  ORDER_ID: 'order_id',
  ORDER_NUMBER: 'order_number',
  CURRENCY: 'currency',
};

/** Fails the check when it cannot be resolved: the network expects a value there. */
export const replacePlaceholder = 'REPLACE';
/** Dropped from the URL, parameter and all, when it cannot be resolved or resolves to nothing. */
export const optionalPlaceholder = 'OPTIONAL';

/**
 * Parameter names (lowercase) networks use for each value, from reference/NETWORKS.md. Used only
 * for `REPLACE`/`OPTIONAL`, after the parameter name itself has been tried as a macro name.
 */
export const parameterMacros: Readonly<Record<string, string>> = {
  // click ID
  transaction_id: 'transaction_id',
  _ef_transaction_id: 'transaction_id',
  click_id: 'transaction_id',
  clickid: 'transaction_id',
  aff_click_id: 'transaction_id',
  cid: 'transaction_id',
  subid: 'transaction_id',
  cnv_id: 'transaction_id',
  reqid: 'transaction_id',
  r: 'transaction_id', // CAKE
  // amount
  amount: 'amount',
  payout: 'amount',
  sum: 'amount',
  revenue: 'amount',
  p: 'amount', // CAKE
  // order ID
  order_id: 'order_id',
  orderid: 'order_id',
  adv_sub: 'order_id', // TUNE
  adv_order_id: 'order_id', // Scaleo
  txid: 'order_id', // Voluum, ClickFlare, BeMob
  tid: 'order_id', // Keitaro
  t: 'order_id', // CAKE
  action_id: 'order_id', // Affise
  txn_id: 'order_id',
  rdtk_event_id: 'order_id', // RedTrack
  // currency
  currency: 'currency',
  cnv_currency: 'currency', // Binom
  cur: 'currency',
  // the rest
  order_number: 'order_number',
  coupon: 'coupon',
  coupon_code: 'coupon',
  promo_code: 'coupon',
  timestamp: 'timestamp',
  ts: 'timestamp',
  aff_sub: 'sub1',
  aff_sub2: 'sub2',
  aff_sub3: 'sub3',
  aff_sub4: 'sub4',
  aff_sub5: 'sub5',
};

/**
 * Parameter names that look like one of our macros but mean the network's own value: TUNE's
 * `offer_id=REPLACE` wants the network's offer ID, not Clickthread's.
 */
export const networkOwnedParameters: ReadonlySet<string> = new Set(['offer_id']);
