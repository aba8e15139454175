import { useCallback, useEffect, useState } from 'react';
import { Badge, Banner, BlockStack, Button, Card, FormLayout, InlineStack, Spinner, Text, TextField } from '@shopify/polaris';
import type { ApiClient, ApiIssue, StoreView } from '../api-client.ts';

function lag(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'never ran';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function StoreCard({ store, onRemove }: { store: StoreView; onRemove: () => void }) {
  const h = store.health;
  const [copied, setCopied] = useState(false);
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <InlineStack gap="200" blockAlign="center">
            <Text as="h3" variant="headingMd">
              {store.domain}
            </Text>
            <Badge>{store.platform === 'woocommerce' ? 'WooCommerce' : 'Shopify'}</Badge>
            <Badge tone={store.status === 'active' ? 'success' : 'critical'}>{store.status}</Badge>
          </InlineStack>
          <Button tone="critical" variant="plain" onClick={onRemove}>
            Disconnect
          </Button>
        </InlineStack>
        {h === null ? (
          <Text as="p" tone="subdued">
            Connected {store.createdAt.slice(0, 10)}.
          </Text>
        ) : (
          <BlockStack gap="200">
            <Text as="p">
              Last webhook delivery: {h.lastDeliveryAt ? h.lastDeliveryAt.replace('T', ' ').slice(0, 19) : 'none yet'} · Reconciliation lag: {lag(h.reconcileLagSeconds)}
              {h.pendingOrders ? ` · ${h.pendingOrders} order(s) waiting for their link` : ''}
            </Text>
            {h.webhooks && h.webhooks.length > 0 ? (
              <InlineStack gap="200">
                {h.webhooks.map((w) => (
                  <Badge key={w.topic} tone={w.status === 'active' ? 'success' : 'critical'}>{`${w.topic}: ${w.status}`}</Badge>
                ))}
              </InlineStack>
            ) : null}
            {(h.warnings ?? []).map((w) => (
              <Banner key={w} tone="warning">
                <p>{w}</p>
              </Banner>
            ))}
          </BlockStack>
        )}
        {store.snippet !== null ? (
          <BlockStack gap="200">
            <InlineStack align="space-between" blockAlign="center">
              <Text as="h4" variant="headingSm">
                Paste this into your theme (before &lt;/body&gt;)
              </Text>
              <Button
                size="slim"
                onClick={() => {
                  void navigator.clipboard?.writeText(store.snippet ?? '').then(() => setCopied(true));
                }}
              >
                {copied ? 'Copied' : 'Copy'}
              </Button>
            </InlineStack>
            <pre className="ct-code">{store.snippet}</pre>
          </BlockStack>
        ) : null}
      </BlockStack>
    </Card>
  );
}

/** Stores and connections: webhook health, the snippet to paste, and (bridge) adding a WooCommerce store. */
export function ConnectionsScreen({ api, merchantId }: { api: ApiClient; merchantId: string }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}/stores`;
  const [stores, setStores] = useState<readonly StoreView[] | null>(null);
  const [canConnect, setCanConnect] = useState(false);
  const [form, setForm] = useState({ url: '', consumerKey: '', consumerSecret: '' });
  const [issues, setIssues] = useState<readonly ApiIssue[]>([]);
  const [notice, setNotice] = useState<{ tone: 'success' | 'critical'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const r = await api.get<{ stores: StoreView[]; canConnect: boolean }>(base);
    if (r.ok) {
      setStores(r.value.stores);
      setCanConnect(r.value.canConnect);
    } else setNotice({ tone: 'critical', text: r.message });
  }, [api, base]);
  useEffect(() => {
    void load();
  }, [load]);

  const connect = async () => {
    setBusy(true);
    setIssues([]);
    const r = await api.send<{ created: boolean; store: StoreView }>('POST', base, form);
    setBusy(false);
    if (r.ok) {
      setNotice({ tone: 'success', text: r.value.created ? `Connected ${r.value.store.domain}; its webhooks are in place.` : `${r.value.store.domain} was already connected; webhooks checked.` });
      setForm({ url: '', consumerKey: '', consumerSecret: '' });
      await load();
    } else {
      setIssues(r.issues);
      setNotice({ tone: 'critical', text: r.message });
    }
  };
  const remove = async (store: StoreView) => {
    const r = await api.send('DELETE', `${base}/${encodeURIComponent(store.id)}`);
    setNotice(r.ok ? { tone: 'success', text: `Disconnected ${store.domain}.` } : { tone: 'critical', text: r.message });
    await load();
  };
  const error = (field: string): string | false => issues.filter((i) => i.path === `body.${field}`).map((i) => i.message).join('; ') || false;

  return (
    <BlockStack gap="400">
      {notice !== null ? (
        <Banner tone={notice.tone} onDismiss={() => setNotice(null)}>
          <p>{notice.text}</p>
        </Banner>
      ) : null}
      {stores === null ? (
        <Spinner accessibilityLabel="Loading stores" />
      ) : stores.length === 0 ? (
        <Card>
          <Text as="p" tone="subdued">
            No stores connected yet.
          </Text>
        </Card>
      ) : (
        stores.map((s) => <StoreCard key={s.id} store={s} onRemove={() => void remove(s)} />)
      )}
      {canConnect ? (
        <Card>
          <FormLayout>
            <Text as="h2" variant="headingMd">
              Add a WooCommerce store
            </Text>
            <Text as="p" tone="subdued">
              Create a REST API key with Read/Write access in WooCommerce → Settings → Advanced → REST API. Clickthread checks it and creates its webhooks.
            </Text>
            <TextField label="Store URL" value={form.url} onChange={(url) => setForm((f) => ({ ...f, url }))} autoComplete="off" placeholder="https://shop.example.com" error={error('url')} />
            <FormLayout.Group>
              <TextField label="Consumer key" value={form.consumerKey} onChange={(consumerKey) => setForm((f) => ({ ...f, consumerKey }))} autoComplete="off" monospaced error={error('consumerKey')} />
              <TextField
                label="Consumer secret"
                type="password"
                value={form.consumerSecret}
                onChange={(consumerSecret) => setForm((f) => ({ ...f, consumerSecret }))}
                autoComplete="off"
                monospaced
                error={error('consumerSecret')}
              />
            </FormLayout.Group>
            <Button variant="primary" onClick={() => void connect()} loading={busy}>
              Connect store
            </Button>
          </FormLayout>
        </Card>
      ) : null}
    </BlockStack>
  );
}
