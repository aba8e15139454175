// @clickthread/core/storefront: the capture script that runs on Shopify and WooCommerce storefronts.
export {
  buildCaptureScript,
  captureScriptFor,
  jsonForScript,
  captureScriptByteLimit,
  type CaptureScriptBuild,
} from './build-capture-script.ts';
export {
  captureScriptConfigSchema,
  captureConsentSchema,
  parseCaptureScriptConfig,
  captureScriptConfigFor,
  appProxyPrefixes,
  type CaptureScriptConfig,
  type CaptureScriptConfigInput,
  type CaptureConsent,
  type CaptureConsentFallback,
  type CapturedClick,
} from './capture-script-config.ts';
export { defaultAttribute, defaultShopifyEndpoint, storageKey, handoffParam, handoffMaxAgeMs } from './capture-script-defaults.ts';
