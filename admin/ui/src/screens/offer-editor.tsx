import { useEffect, useMemo, useRef, useState } from 'react';
import { Badge, Banner, BlockStack, Button, Card, Checkbox, DataTable, FormLayout, InlineStack, Layout, Select, Text, TextField } from '@shopify/polaris';
import { postbackEvents, type ApiClient, type ApiIssue, type Offer, type PostbackEvent, type Presets, type Preview } from '../api-client.ts';
import { applyPreset, errorsByField, formFields, offerJsonOf, type OfferForm } from './offer-form.ts';

const eventLabels: Record<PostbackEvent, string> = {
  sale: 'Sale postback URL',
  lead: 'Lead postback URL',
  first_order: 'First-order postback URL',
  refund: 'Refund (reversal) postback URL',
  cancel: 'Cancellation (reversal) postback URL',
};

/** The live preview: the rendered URL per event against the sample order, every value raw and encoded. */
function PreviewCard({ preview, sample }: { preview: Preview | null; sample: Readonly<Record<string, string>> }) {
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Live preview
          </Text>
          {preview === null ? null : preview.valid ? <Badge tone="success">Valid</Badge> : <Badge tone="critical">Has problems</Badge>}
        </InlineStack>
        <Text as="p" tone="subdued">
          Sample order {sample['order_number'] ?? ''}: transaction ID “{sample['transaction_id'] ?? ''}”, amount {sample['amount'] ?? ''} {sample['currency'] ?? ''}. Each value is
          encoded on its own; the template itself is never encoded.
        </Text>
        {preview === null ? (
          <Text as="p" tone="subdued">
            Rendering…
          </Text>
        ) : preview.previews.length === 0 ? (
          <Text as="p" tone="subdued">
            Enter a postback URL to see what will be sent.
          </Text>
        ) : (
          preview.previews.map((p) => (
            <BlockStack gap="200" key={p.event}>
              <Text as="h3" variant="headingSm">
                {eventLabels[p.event]}
              </Text>
              {p.ok ? (
                <>
                  <pre className="ct-code" data-preview-event={p.event}>
                    {p.url}
                  </pre>
                  {p.substitutions.length > 0 ? (
                    <DataTable
                      columnContentTypes={['text', 'text', 'text']}
                      headings={['Macro', 'Value', 'Sent as']}
                      rows={p.substitutions.map((s) => [`{${s.macro}}`, s.raw === '' ? '(empty)' : s.raw, <code key={s.macro}>{s.encoded}</code>])}
                    />
                  ) : null}
                </>
              ) : (
                <Banner tone="warning">
                  <ul style={{ margin: 0, paddingLeft: 20 }}>
                    {p.problems.map((problem) => (
                      <li key={problem}>{problem}</li>
                    ))}
                  </ul>
                </Banner>
              )}
            </BlockStack>
          ))
        )}
      </BlockStack>
    </Card>
  );
}

interface AuditEntry {
  readonly id: string;
  readonly action: string;
  readonly actor: string;
  readonly at: string;
  readonly before: Readonly<Record<string, unknown>> | null;
  readonly after: Readonly<Record<string, unknown>> | null;
}

/** The fields an audit entry changed (top level; postbacks per event). */
function changedFields(entry: AuditEntry): string {
  if (entry.before === null || entry.after === null) return '';
  const before = entry.before;
  const after = entry.after;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const key of keys) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    if (key === 'postbacks' && typeof before[key] === 'object' && typeof after[key] === 'object') {
      const b = (before[key] ?? {}) as Record<string, unknown>;
      const a = (after[key] ?? {}) as Record<string, unknown>;
      for (const event of new Set([...Object.keys(b), ...Object.keys(a)])) if (JSON.stringify(b[event]) !== JSON.stringify(a[event])) changed.push(`postbacks.${event}`);
    } else changed.push(key);
  }
  return changed.join(', ');
}

/** Who changed the offer, when, and what (from the audit log). */
function HistoryCard({ api, merchantId, offerId }: { api: ApiClient; merchantId: string; offerId: string }) {
  const [entries, setEntries] = useState<readonly AuditEntry[] | null>(null);
  useEffect(() => {
    void api
      .get<{ entries: AuditEntry[] }>(`/merchants/${encodeURIComponent(merchantId)}/offers/${encodeURIComponent(offerId)}/audit`, { limit: '20' })
      .then((r) => setEntries(r.ok ? r.value.entries : []));
  }, [api, merchantId, offerId]);
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          History
        </Text>
        {entries === null || entries.length === 0 ? (
          <Text as="p" tone="subdued">
            No changes recorded.
          </Text>
        ) : (
          <DataTable
            columnContentTypes={['text', 'text', 'text', 'text']}
            headings={['When', 'Who', 'Change', 'Fields']}
            rows={entries.map((e) => [e.at.replace('T', ' ').slice(0, 16), e.actor, e.action, changedFields(e)])}
          />
        )}
      </BlockStack>
    </Card>
  );
}

export function OfferEditor(props: {
  api: ApiClient;
  merchantId: string;
  presets: Presets;
  initial: OfferForm;
  onSaved: (offer: Offer) => void;
  onCancel: () => void;
}) {
  const { api, merchantId, presets } = props;
  const [form, setForm] = useState<OfferForm>(props.initial);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [saveIssues, setSaveIssues] = useState<readonly ApiIssue[]>([]);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [touched, setTouched] = useState(false);
  const [picked, setPicked] = useState(props.initial.original !== null);
  const isNew = form.original === null;
  const json = useMemo(() => offerJsonOf(form), [form]);
  const sequence = useRef(0);

  useEffect(() => {
    const mine = ++sequence.current;
    const timer = setTimeout(() => {
      void api.send<Preview>('POST', '/preview', { offer: json }).then((r) => {
        // answers can arrive out of order; only the latest request's preview is shown
        if (mine === sequence.current && r.ok) setPreview(r.value);
      });
    }, 250);
    return () => clearTimeout(timer);
  }, [api, json]);

  const set = <K extends keyof OfferForm>(key: K) => (value: OfferForm[K]) => {
    setTouched(true);
    setForm((f) => ({ ...f, [key]: value }));
  };
  const setUrl = (event: PostbackEvent) => (value: string) => {
    setTouched(true);
    setForm((f) => ({ ...f, urls: { ...f.urls, [event]: value } }));
  };

  // after a save attempt the API's issues are shown; while typing, the preview's
  const issues = saveIssues.length > 0 ? saveIssues : touched ? (preview?.issues ?? []) : [];
  const errors = errorsByField(issues);
  const otherIssues = issues.filter((i) => !formFields.has(errorsKey(i.path)));
  // Polaris takes false for "no error"
  const error = (field: string): string | false => errors.get(field) ?? false;

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    const path = `/merchants/${encodeURIComponent(merchantId)}/offers`;
    const result = isNew
      ? await api.send<{ offer: Offer }>('POST', path, json)
      : await api.send<{ offer: Offer }>('PUT', `${path}/${encodeURIComponent(form.original?.id ?? '')}`, json);
    setSaving(false);
    if (result.ok) {
      props.onSaved(result.value.offer);
      return;
    }
    setSaveIssues(result.issues);
    setSaveError(result.message);
  };

  const presetOptions = [{ label: 'Choose a network preset…', value: '' }, ...presets.presets.map((p) => ({ label: p.label, value: p.id }))];
  const usedEvents = postbackEvents.filter((e) => e === 'sale' || e === 'refund' || e === 'cancel' || form.urls[e] !== '');

  return (
    <Layout>
      <Layout.Section>
        <BlockStack gap="400">
          {saveError !== null ? (
            <Banner tone="critical" title={saveError} onDismiss={() => setSaveError(null)}>
              {otherIssues.length > 0 ? (
                <ul style={{ margin: 0, paddingLeft: 20 }}>
                  {otherIssues.map((i) => (
                    <li key={`${i.path}:${i.message}`}>
                      {i.path}: {i.message}
                    </li>
                  ))}
                </ul>
              ) : (
                <p>Fix the fields marked below.</p>
              )}
            </Banner>
          ) : null}
          <Card>
            <FormLayout>
              <Text as="h2" variant="headingMd">
                {isNew ? 'New offer' : `Edit ${form.original?.name ?? ''}`}
              </Text>
              <Select
                label="Network preset"
                options={presetOptions}
                // a new offer shows the prompt until a preset is picked; an existing one shows its network
                value={picked ? form.network : ''}
                onChange={(id) => {
                  const preset = presets.presets.find((p) => p.id === id);
                  if (preset) {
                    setTouched(true);
                    setPicked(true);
                    setForm((f) => applyPreset(f, preset));
                  }
                }}
                helpText="Picking a preset fills in the network's postback templates; replace the <placeholders> with your values."
              />
              <FormLayout.Group>
                <TextField label="Offer ID" value={form.id} onChange={set('id')} autoComplete="off" disabled={!isNew} error={error('id')} helpText="a-z, 0-9, _ and -" />
                <TextField label="Name" value={form.name} onChange={set('name')} autoComplete="off" error={error('name')} />
              </FormLayout.Group>
              {usedEvents.map((event) => (
                <TextField
                  key={event}
                  label={eventLabels[event]}
                  value={form.urls[event]}
                  onChange={setUrl(event)}
                  autoComplete="off"
                  multiline={2}
                  monospaced
                  error={error(`url.${event}`)}
                  {...(event === 'sale' ? { helpText: 'Macros: {transaction_id} {amount} {order_id} {order_number} {currency} {event} {timestamp} {coupon} {store} {offer_id} {test} {sub1}…{sub5}' } : {})}
                />
              ))}
              <FormLayout.Group>
                <TextField
                  label="Click ID parameters"
                  value={form.captureParams}
                  onChange={set('captureParams')}
                  autoComplete="off"
                  placeholder={presets.presets.find((p) => p.id === form.network)?.captureParams.join(', ') ?? ''}
                  helpText="Empty: the preset's"
                  error={error('captureParams')}
                />
                <TextField label="Extra click parameters" value={form.extraParams} onChange={set('extraParams')} autoComplete="off" helpText="Kept with the ID, usable as {name} macros" error={error('extraParams')} />
              </FormLayout.Group>
              <FormLayout.Group>
                <TextField label="Attribution window (days)" value={form.windowDays} onChange={set('windowDays')} autoComplete="off" error={error('windowDays')} />
                <Select
                  label="Attribution model"
                  options={[
                    { label: 'Last click wins', value: 'last_click' },
                    { label: 'First click wins', value: 'first_click' },
                  ]}
                  value={form.model}
                  onChange={(v) => set('model')(v === 'first_click' ? 'first_click' : 'last_click')}
                />
              </FormLayout.Group>
              <FormLayout.Group>
                <Select
                  label="Amount"
                  options={[
                    { label: 'Subtotal after discounts', value: 'subtotal' },
                    { label: 'Total', value: 'total' },
                    { label: 'Total less tax', value: 'total_less_tax' },
                    { label: 'Total less shipping', value: 'total_less_shipping' },
                  ]}
                  value={form.basis}
                  onChange={set('basis')}
                  error={error('basis')}
                />
                <Select
                  label="Currency"
                  options={[
                    { label: "Shop's currency", value: 'shop' },
                    { label: 'Currency the buyer saw', value: 'presentment' },
                  ]}
                  value={form.currency}
                  onChange={set('currency')}
                />
                <Select
                  label="Test orders"
                  options={[
                    { label: 'Skip', value: 'skip' },
                    { label: 'Send', value: 'send' },
                    { label: 'Send, flagged test=1', value: 'send_flagged' },
                  ]}
                  value={form.testOrders}
                  onChange={set('testOrders')}
                />
              </FormLayout.Group>
              <Checkbox label="Enabled" checked={form.enabled} onChange={set('enabled')} />
              <Checkbox
                label="Allow plain http:// postback URLs"
                helpText="Only for trackers without HTTPS. Off by default."
                checked={form.allowHttp}
                onChange={set('allowHttp')}
                error={error('allowHttp')}
              />
              <InlineStack gap="200">
                <Button variant="primary" onClick={() => void save()} loading={saving}>
                  {isNew ? 'Create offer' : 'Save offer'}
                </Button>
                <Button onClick={props.onCancel}>Cancel</Button>
              </InlineStack>
            </FormLayout>
          </Card>
        </BlockStack>
      </Layout.Section>
      <Layout.Section variant="oneThird">
        <BlockStack gap="400">
          <PreviewCard preview={preview} sample={presets.sample} />
          {form.original !== null ? <HistoryCard api={api} merchantId={merchantId} offerId={form.original.id} /> : null}
        </BlockStack>
      </Layout.Section>
    </Layout>
  );
}

function errorsKey(path: string): string {
  return [...errorsByField([{ path, message: '' }]).keys()][0] ?? path;
}
