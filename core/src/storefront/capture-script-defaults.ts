/**
 * Defaults shared by the config schema (server) and the capture script (browser), so a field left
 * out of a hand-written config means the same thing on both sides. Dependency-free on purpose: the
 * browser bundle imports it.
 */

export const defaultAttribute = '_clickthread';
export const defaultShopifyEndpoint = '/apps/clickthread/capture';
export const defaultWindowDays = 30;

/** The cookie and localStorage key holding the click (same JSON as the cart attribute). */
export const storageKey = '_clickthread';

/** The query parameter that carries a click to a sibling domain. */
export const handoffParam = '_ctv';

/** How long a handoff token may be adopted after the link was followed. */
export const handoffMaxAgeMs = 10 * 60_000;
