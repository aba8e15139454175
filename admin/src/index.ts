// @clickthread/admin: the agency API (mounted at /api/v1 by both apps), the admin UI they serve, and the
// HTTP settings both apps read the same way (trust proxy).
export { createApiRouter, apiRoutes, type ApiRouterOptions, type RateLimitOptions } from './api/create-api-router.ts';
export { createTokenAuthenticator, bearerTokenOf, type Authenticate, type TokenAuthenticatorDeps } from './api/authenticate.ts';
export { visibleMerchant, visibleMerchants, type Principal, type PrincipalScope } from './api/principal.ts';
export type { ConnectionsAdapter, ConnectionHealth, ConnectStoreRequest } from './api/api-deps.ts';
export { errorBody, type ApiErrorBody, type ApiIssue } from './api/api-reply.ts';
export { buildOpenApiDocument } from './api/openapi.ts';
export { collectCustomerData, customerDataCounts, type CustomerData, type CustomerDataRequest } from './api/customer-data.ts';
export { parseTrustProxy, type TrustProxy } from './http/trust-proxy.ts';
export {
  adminUiDir,
  adminUiSourceDir,
  adminUiIsBuilt,
  buildAdminUi,
  ensureAdminUiBuilt,
  createAdminUiRouter,
  renderAdminIndex,
  type AdminUiOptions,
} from './ui/admin-ui.ts';
export { prepareAdminUi, createAdminUiUnavailableRouter, adminUiBuildCommand, type AdminUiState } from './ui/admin-ui-state.ts';
