// The public surface of @clickthread/core's domain. Storage, delivery and the storefront script have
// their own entry points (@clickthread/core/storage, /delivery, /storefront) so that an app loads
// only what it uses.
export { ok, err, type Ok, type Err, type Result } from './shared/result.ts';
export { ClickthreadError, ConfigError, ConflictError, StorageError, InvariantError } from './shared/errors.ts';
export { parseDecimal, addDecimals, subtractDecimals, negateDecimal, compareDecimals, toMoney, scaleDecimal, minDecimal } from './shared/decimal.ts';
export { systemClock, ManualClock, type Clock } from './ports/clock.ts';
export { createLogger, createMemoryLogger, redactedLogKeys, redactSecrets, type Logger } from './ports/logger.ts';
export {
  postbackEvents,
  isConversionEvent,
  type Order,
  type OrderAmounts,
  type OrderRefund,
  type MoneyPair,
  type IdCandidate,
  type IdSource,
  type Platform,
  type PostbackEvent,
} from './orders/order.ts';
export {
  offerSchema,
  postbackSpecSchema,
  answerRulesSchema,
  parseOffer,
  formatOfferIssues,
  issuesFromZod,
  captureParamsOf,
  answerRulesOf,
  offerAppliesTo,
  type Offer,
  type OfferInput,
  type OfferIssue,
  type PostbackSpec,
} from './offers/offer-schema.ts';
export { networkIds, networkPresets, type NetworkId, type NetworkPreset, type AnswerRules } from './offers/network-presets.ts';
export {
  standardMacros,
  checkTemplate,
  renderTemplate,
  encodeMacroValue,
  previewTemplate,
  sampleMacroValues,
  maxRenderedUrlLength,
  type StandardMacro,
  type TemplatePreview,
  type MacroSubstitution,
  type MacroValues,
  type CompiledTemplate,
  type TemplateCheckOptions,
} from './templates/postback-template.ts';
export { checkTransactionId, maxTransactionIdLength, type IdCheck } from './capture/transaction-id.ts';
export { insertedConversion, rememberCustomerClick, type RememberOutcome } from './capture/remember-customer.ts';
export { findTransactionId, isWithinWindow, decideCapture, type FoundId, type FindIdFailure, type StoredClick } from './capture/capture-rules.ts';
export { datedReportedClick, maxClickReportDelayMs } from './capture/reported-click-time.ts';
export { planPostbacks, attributeOrder, conversionsOf, historyOf, type PostbackPlan, type PlanSkip, type PlanInput } from './conversion/plan-postbacks.ts';
export { enqueueAgainstHistory } from './conversion/enqueue-against-history.ts';
export { idempotencyKeyOf, type PostbackJobDraft, type PriorPostback } from './conversion/postback-job.ts';
