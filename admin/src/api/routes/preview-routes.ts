import { z } from 'zod';
import {
  networkPresets,
  parseOffer,
  postbackEvents,
  previewTemplate,
  sampleMacroValues,
  standardMacros,
  type MacroValues,
} from '@clickthread/core';
import { defineRoute, type ApiRoute } from '../api-route.ts';
import { ok } from '../api-reply.ts';
import { macroValuesSchema } from '../api-schemas.ts';

/**
 * What the offer editor needs: the network presets, and a live preview of a draft offer — every
 * problem the one offer schema finds, and for each event the rendered postback against a sample
 * order with each value before and after encoding. A draft with problems still previews every
 * template that renders, so the merchant sees the URL while fixing the rest.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function previewRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/presets',
      summary: 'Network presets, macros, events and the sample order values used by previews',
      tag: 'offers',
      responses: { 200: 'Presets' },
      async handle() {
        return ok({
          presets: Object.values(networkPresets).map((p) => ({ id: p.id, label: p.label, captureParams: p.captureParams, postbacks: p.postbacks, answer: p.answer })),
          macros: standardMacros,
          events: postbackEvents,
          sample: sampleMacroValues,
        });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/preview',
      summary: 'Validate a draft offer and render its postbacks against a sample order',
      tag: 'offers',
      body: z.strictObject({
        offer: z.unknown().refine((v) => isRecord(v), 'must be an offer object'),
        sample: macroValuesSchema.optional(),
      }),
      responses: { 200: 'Validation issues and a preview per event' },
      async handle({ body }) {
        const draft = isRecord(body.offer) ? body.offer : {};
        const parsed = parseOffer(draft);
        const extraParams = Array.isArray(draft['extraParams']) ? draft['extraParams'].filter((p): p is string => typeof p === 'string') : [];
        const allowHttp = draft['allowHttp'] === true;
        const postbacks = isRecord(draft['postbacks']) ? draft['postbacks'] : {};
        const previews = [];
        for (const event of postbackEvents) {
          const spec = postbacks[event];
          if (!isRecord(spec) || typeof spec['url'] !== 'string') continue;
          const values: MacroValues = {
            ...sampleMacroValues,
            event,
            ...(typeof draft['id'] === 'string' && draft['id'] !== '' ? { offer_id: draft['id'] } : {}),
            ...body.sample,
          };
          const preview = previewTemplate(spec['url'], values, { extraMacros: extraParams, allowHttp });
          previews.push(
            preview.ok
              ? { event, ok: true, url: preview.value.url, substitutions: preview.value.substitutions }
              : { event, ok: false, problems: preview.reason },
          );
        }
        return ok({ valid: parsed.ok, issues: parsed.ok ? [] : parsed.reason, previews, ...(parsed.ok ? { offer: parsed.value } : {}) });
      },
    }),
  ];
}
