import type { Request } from 'express';
import type { Clock, Logger } from '@clickthread/core';
import { hashToken, tokenMatchesHash, verifyApiToken, type AccessStore } from '@clickthread/core/access';
import type { Store } from '@clickthread/core/storage';
import type { Principal } from './principal.ts';

/**
 * Turns a request into a principal, or undefined when it carries no credential this authenticator
 * accepts. The Shopify app passes its own (session tokens of the embedded admin); API tokens
 * (`Authorization: Bearer ct_…`) and the operator token are always accepted.
 */
export type Authenticate = (req: Request) => Promise<Principal | undefined>;

export function bearerTokenOf(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export interface TokenAuthenticatorDeps {
  readonly store: Store;
  readonly access: AccessStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The operator's token from configuration (sees every merchant); only its hash is kept. */
  readonly operatorToken?: string | undefined;
}

export function createTokenAuthenticator(deps: TokenAuthenticatorDeps): Authenticate {
  const operatorHash = deps.operatorToken === undefined ? undefined : hashToken(deps.operatorToken);
  return async (req) => {
    const token = bearerTokenOf(req);
    if (token === undefined) return undefined;
    if (operatorHash !== undefined && tokenMatchesHash(token, operatorHash)) {
      return { scope: { kind: 'operator' }, actor: 'operator', rateKey: 'operator' };
    }
    const record = await verifyApiToken(deps.access, token);
    if (!record) return undefined;
    // a token outlives nothing it belongs to: a deleted agency's or merchant's token is refused
    if (record.scope.kind === 'agency' && !(await deps.access.getAgency(record.scope.agencyId))) return undefined;
    if (record.scope.kind === 'merchant' && !(await deps.store.getMerchant(record.scope.merchantId))) return undefined;
    try {
      await deps.access.touchToken(record.prefix, deps.clock.now());
    } catch (err) {
      // the caller is authenticated either way; last-use bookkeeping must not fail the request
      deps.logger.warn({ err, tokenPrefix: record.prefix }, 'could not record API token use');
    }
    return { scope: record.scope, actor: `token:${record.prefix}`, rateKey: `token:${record.prefix}` };
  };
}
