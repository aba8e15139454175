import { z } from 'zod';
import { postbackEvents } from '@clickthread/core';
import { jobStatuses } from '@clickthread/core/storage';

/** Schemas shared by several routes. */

export const merchantIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be 1-128 characters of letters, digits, _ . : -, starting with a letter or digit');
export const agencyIdSchema = merchantIdSchema;
export const offerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be an offer id: 1-64 characters of a-z, 0-9, _ and -');
export const storeIdSchema = z.string().min(1, 'is required').max(128, 'is longer than 128 characters');
export const jobIdSchema = z.string().regex(/^\d{1,15}$/, 'must be a postback id (digits)');
export const tokenPrefixSchema = z.string().regex(/^[0-9a-f]{10}$/, 'must be a token prefix (10 hex characters)');
export const eventSchema = z.enum(postbackEvents);
export const jobStatusSchema = z.enum(jobStatuses);

export const merchantParams = z.strictObject({ merchantId: merchantIdSchema });
export const offerParams = z.strictObject({ merchantId: merchantIdSchema, offerId: offerIdSchema });
export const storeParams = z.strictObject({ merchantId: merchantIdSchema, storeId: storeIdSchema });
export const jobParams = z.strictObject({ merchantId: merchantIdSchema, jobId: jobIdSchema });

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const dateText = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (2026-03-01) or an ISO 8601 date-time' });

/** A lower bound: a bare date means the start of that day (UTC). */
export const fromDateSchema = dateText.transform((text) => new Date(text));
/** An upper bound: a bare date means the whole of that day (UTC). */
export const toDateSchema = dateText.transform((text) => (dateOnly.test(text) ? new Date(`${text}T23:59:59.999Z`) : new Date(text)));

export const limitSchema = (max: number, fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

export const booleanQuery = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

/** Macro values for previews and test-fires: lower-case macro names, short values. */
export const macroValuesSchema = z.record(
  z.string().regex(/^[a-z0-9_]{1,64}$/, 'must be a macro name (a-z, 0-9, _)'),
  z.string().max(500, 'is longer than 500 characters'),
);
