import { addDecimals, err, negateDecimal, ok, parseDecimal, type MoneyPair, type Result } from '@clickthread/core';
import type { MoneySet } from './shopify-payload.ts';

export const zeroPair: MoneyPair = { shop: '0.00', presentment: '0.00' };

export function pairFromSet(set: MoneySet, what: string): Result<MoneyPair> {
  const shop = parseDecimal(set.shop_money.amount);
  if (!shop.ok) return err(`${what}.shop_money: ${shop.reason}`);
  const presentment = parseDecimal(set.presentment_money.amount);
  if (!presentment.ok) return err(`${what}.presentment_money: ${presentment.reason}`);
  return ok({ shop: shop.value, presentment: presentment.value });
}

export function addPairs(...pairs: readonly MoneyPair[]): MoneyPair {
  return {
    shop: addDecimals('0.00', ...pairs.map((p) => p.shop)),
    presentment: addDecimals('0.00', ...pairs.map((p) => p.presentment)),
  };
}

export function negatePair(p: MoneyPair): MoneyPair {
  return { shop: negateDecimal(p.shop), presentment: negateDecimal(p.presentment) };
}
