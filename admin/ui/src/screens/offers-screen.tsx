import { useCallback, useEffect, useRef, useState } from 'react';
import { Badge, Banner, BlockStack, Button, ButtonGroup, Card, DataTable, InlineStack, Spinner, Text } from '@shopify/polaris';
import type { ApiClient, ApiIssue, Offer, Presets } from '../api-client.ts';
import { OfferEditor } from './offer-editor.tsx';
import { emptyForm, formOf, type OfferForm } from './offer-form.ts';

interface ImportSummary {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
}

export function OffersScreen({ api, merchantId, onTestFire }: { api: ApiClient; merchantId: string; onTestFire: (offerId: string) => void }) {
  const [offers, setOffers] = useState<readonly Offer[] | null>(null);
  const [presets, setPresets] = useState<Presets | null>(null);
  const [editing, setEditing] = useState<OfferForm | null>(null);
  const [notice, setNotice] = useState<{ tone: 'success' | 'critical'; title: string; issues?: readonly ApiIssue[] } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const base = `/merchants/${encodeURIComponent(merchantId)}`;

  const load = useCallback(async () => {
    const r = await api.get<{ offers: Offer[] }>(`${base}/offers`);
    if (r.ok) setOffers(r.value.offers);
    else setNotice({ tone: 'critical', title: r.message });
  }, [api, base]);

  useEffect(() => {
    void load();
    void api.get<Presets>('/presets').then((r) => (r.ok ? setPresets(r.value) : undefined));
  }, [api, load]);

  const toggle = async (offer: Offer) => {
    const r = await api.send<{ offer: Offer }>('POST', `${base}/offers/${encodeURIComponent(offer.id)}/${offer.enabled ? 'disable' : 'enable'}`);
    if (r.ok) setNotice({ tone: 'success', title: `${offer.name} is ${r.value.offer.enabled ? 'enabled' : 'disabled'}.` });
    else setNotice({ tone: 'critical', title: r.message });
    await load();
  };

  const exportJson = async () => {
    const r = await api.get<{ offers: Offer[] }>(`${base}/export/offers`);
    if (!r.ok) {
      setNotice({ tone: 'critical', title: r.message });
      return;
    }
    const blob = new Blob([`${JSON.stringify(r.value, null, 2)}\n`], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `clickthread-offers-${merchantId}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const importFile = async (file: File) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      setNotice({ tone: 'critical', title: `${file.name} is not valid JSON.` });
      return;
    }
    const r = await api.send<ImportSummary>('POST', `${base}/import/offers`, parsed);
    if (r.ok) {
      const s = r.value;
      setNotice({ tone: 'success', title: `Imported ${file.name}: ${s.created.length} created, ${s.updated.length} updated, ${s.unchanged.length} unchanged.` });
      await load();
    } else {
      setNotice({ tone: 'critical', title: `${file.name}: ${r.message}`, issues: r.issues });
    }
  };

  if (editing !== null && presets !== null) {
    return (
      <OfferEditor
        api={api}
        merchantId={merchantId}
        presets={presets}
        initial={editing}
        onCancel={() => setEditing(null)}
        onSaved={(offer) => {
          setEditing(null);
          setNotice({ tone: 'success', title: `Saved ${offer.name}.` });
          void load();
        }}
      />
    );
  }

  return (
    <BlockStack gap="400">
      {notice !== null ? (
        <Banner tone={notice.tone} title={notice.title} onDismiss={() => setNotice(null)}>
          {notice.issues && notice.issues.length > 0 ? (
            <ul style={{ margin: 0, paddingLeft: 20 }}>
              {notice.issues.map((i) => (
                <li key={`${i.path}:${i.message}`}>
                  {i.path}: {i.message}
                </li>
              ))}
            </ul>
          ) : null}
        </Banner>
      ) : null}
      <Card>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Offers
            </Text>
            <ButtonGroup>
              <Button onClick={() => void exportJson()}>Export JSON</Button>
              <Button onClick={() => fileInput.current?.click()}>Import JSON</Button>
              <Button variant="primary" onClick={() => setEditing(emptyForm())} disabled={presets === null}>
                Create offer
              </Button>
            </ButtonGroup>
          </InlineStack>
          <input
            ref={fileInput}
            type="file"
            accept="application/json,.json"
            aria-label="Offers JSON file"
            style={{ display: 'none' }}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (file) void importFile(file);
            }}
          />
          {offers === null ? (
            <Spinner accessibilityLabel="Loading offers" />
          ) : offers.length === 0 ? (
            <Text as="p" tone="subdued">
              No offers yet. Create one from a network preset, or import a JSON file.
            </Text>
          ) : (
            <DataTable
              columnContentTypes={['text', 'text', 'text', 'text', 'text']}
              headings={['Offer', 'Network', 'Postbacks', 'Status', '']}
              rows={offers.map((o) => [
                <BlockStack gap="050" key="name">
                  <Text as="span" fontWeight="semibold">
                    {o.name}
                  </Text>
                  <Text as="span" tone="subdued" variant="bodySm">
                    {o.id}
                  </Text>
                </BlockStack>,
                presets?.presets.find((p) => p.id === o.network)?.label ?? o.network,
                Object.keys(o.postbacks).join(', '),
                o.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled</Badge>,
                <ButtonGroup key="actions">
                  <Button size="slim" onClick={() => setEditing(formOf(o))} accessibilityLabel={`Edit ${o.name}`}>
                    Edit
                  </Button>
                  <Button size="slim" onClick={() => void toggle(o)} accessibilityLabel={`${o.enabled ? 'Disable' : 'Enable'} ${o.name}`}>
                    {o.enabled ? 'Disable' : 'Enable'}
                  </Button>
                  <Button size="slim" onClick={() => onTestFire(o.id)} accessibilityLabel={`Test-fire ${o.name}`}>
                    Test-fire
                  </Button>
                </ButtonGroup>,
              ])}
            />
          )}
        </BlockStack>
      </Card>
    </BlockStack>
  );
}
