import type { PostbackEvent } from '../orders/order.ts';

/**
 * Ready-made settings per affiliate network, from shared/reference/NETWORKS.md (the vendors' help
 * pages). Only parameters the reference confirms are in the templates: an unconfirmed parameter
 * that a network rejects costs the merchant a conversion. Placeholders in angle brackets
 * (<domain>, <security_token>) are the merchant's to fill in; checkTemplate refuses a template
 * until they are.
 */

export const networkIds = [
  'tune', 'everflow', 'cake', 'voluum', 'binom', 'redtrack', 'keitaro', 'affise', 'scaleo',
  'clickflare', 'bemob', 'custom',
] as const;
export type NetworkId = (typeof networkIds)[number];

/** How a network's answer is read; bodies are matched as case-insensitive regular expressions. */
export interface AnswerRules {
  /** When set, a 2xx answer is a success only if its body matches. */
  readonly successBody?: string;
  /** Body pattern meaning "already counted": final, not retried, logged as duplicate. */
  readonly duplicateBody?: string;
  /** Body pattern meaning "rejected" (invalid ID, bad token…): final, not retried. */
  readonly rejectBody?: string;
}

export interface NetworkPreset {
  readonly id: NetworkId;
  readonly label: string;
  /** URL parameters the network's click IDs arrive in. */
  readonly captureParams: readonly string[];
  /** Ready templates; the merchant fills the placeholders in angle brackets (<domain>, <offer_id>). */
  readonly postbacks: Partial<Record<PostbackEvent, string>>;
  readonly answer: AnswerRules;
}

/** Refunds and cancellations reverse the conversion the same way on every network that can. */
function reversal(url: string): Partial<Record<PostbackEvent, string>> {
  return { refund: url, cancel: url };
}

// Reversal templates identify the conversion by the click ID alone: the planner's order_id for a
// refund is "<order>:refund:<id>", which would not match the sale's order ID on the network side.
const tune: NetworkPreset = {
  id: 'tune',
  label: 'TUNE (HasOffers)',
  captureParams: ['transaction_id', 'aff_click_id'],
  postbacks: {
    sale: 'https://<network_id>.go2cloud.org/aff_lsr?offer_id=<offer_id>&transaction_id={transaction_id}&amount={amount}&adv_sub={order_id}&security_token=<security_token>',
    ...reversal('https://<network_id>.go2cloud.org/aff_lsr?offer_id=<offer_id>&transaction_id={transaction_id}&status=rejected&security_token=<security_token>'),
  },
  // TUNE answers 200 either way: "success=true;" or "success=false; err_msg=…;". A duplicate is
  // reported as "success=false; err_msg=Duplicate conversion;", so the duplicate rule is read first.
  answer: { successBody: 'success=true', duplicateBody: 'Duplicate', rejectBody: 'success=false' },
};

const everflow: NetworkPreset = {
  id: 'everflow',
  label: 'Everflow',
  captureParams: ['transaction_id', '_ef_transaction_id'],
  postbacks: {
    sale: 'https://<domain>/?nid=<nid>&transaction_id={transaction_id}&amount={amount}&order_id={order_id}&verification_token=<verification_token>',
    // event_id=0 reverses only the base conversion of that click, not its other events
    ...reversal('https://<domain>/reversal?transaction_id={transaction_id}&event_id=0&verification_token=<verification_token>'),
  },
  answer: {},
};

const cake: NetworkPreset = {
  id: 'cake',
  label: 'CAKE',
  captureParams: ['reqid', 'r'],
  postbacks: {
    sale: 'https://<domain>/p.ashx?o=<offer_id>&e=<event_id>&f=pb&r={transaction_id}&t={order_id}&p={amount}',
  },
  answer: {},
};

const voluum: NetworkPreset = {
  id: 'voluum',
  label: 'Voluum',
  captureParams: ['cid', 'clickid'],
  postbacks: {
    sale: 'https://<domain>/postback?cid={transaction_id}&payout={amount}&txid={order_id}&currency={currency}',
  },
  answer: {},
};

const binom: NetworkPreset = {
  id: 'binom',
  label: 'Binom',
  captureParams: ['clickid', 'cnv_id'],
  postbacks: {
    sale: 'https://<domain>/click.php?cnv_id={transaction_id}&payout={amount}&cnv_currency={currency}',
  },
  answer: {},
};

const redtrack: NetworkPreset = {
  id: 'redtrack',
  label: 'RedTrack',
  captureParams: ['rtkcid', 'clickid'],
  postbacks: {
    sale: 'https://<domain>/postback?clickid={transaction_id}&sum={amount}&rdtk_event_id={order_id}',
  },
  answer: {},
};

const keitaro: NetworkPreset = {
  id: 'keitaro',
  label: 'Keitaro',
  captureParams: ['subid'],
  postbacks: {
    sale: 'https://<domain>/<postback_key>/postback?subid={transaction_id}&status=sale&payout={amount}&tid={order_id}&currency={currency}',
    ...reversal('https://<domain>/<postback_key>/postback?subid={transaction_id}&status=rejected'),
  },
  answer: {},
};

const affise: NetworkPreset = {
  id: 'affise',
  label: 'Affise',
  captureParams: ['clickid', 'click_id'],
  postbacks: {
    // no status on the sale: the offer's default applies, and Affise declines (status=3) only a
    // conversion that is still pending
    sale: 'https://<domain>/postback?clickid={transaction_id}&action_id={order_id}&sum={amount}&secure=<secure>',
    ...reversal('https://<domain>/postback?clickid={transaction_id}&status=3&secure=<secure>'),
  },
  answer: {},
};

const scaleo: NetworkPreset = {
  id: 'scaleo',
  label: 'Scaleo',
  captureParams: ['click_id'],
  postbacks: {
    sale: 'https://<workspace>.scaletrk.com/track/conv?click_id={transaction_id}&token=<token>&adv_order_id={order_id}&amount={amount}',
    // conv-change without goal_id changes the click's last conversion of the default goal
    ...reversal('https://<workspace>.scaletrk.com/track/conv-change?click_id={transaction_id}&token=<token>&conv_status=rejected'),
  },
  answer: {},
};

const clickflare: NetworkPreset = {
  id: 'clickflare',
  label: 'ClickFlare',
  captureParams: ['click_id'],
  postbacks: {
    sale: 'https://<domain>/cf/cv?click_id={transaction_id}&payout={amount}&txid={order_id}',
  },
  answer: {},
};

const bemob: NetworkPreset = {
  id: 'bemob',
  label: 'BeMob',
  captureParams: ['cid'],
  postbacks: {
    sale: 'https://<domain>/postback?cid={transaction_id}&payout={amount}&txid={order_id}',
  },
  answer: {},
};

const custom: NetworkPreset = {
  id: 'custom',
  label: 'Custom network',
  captureParams: ['transaction_id', 'click_id', 'clickid'],
  postbacks: {},
  answer: {},
};

export const networkPresets: Readonly<Record<NetworkId, NetworkPreset>> = {
  tune,
  everflow,
  cake,
  voluum,
  binom,
  redtrack,
  keitaro,
  affise,
  scaleo,
  clickflare,
  bemob,
  custom,
};
