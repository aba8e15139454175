import { Fragment, useCallback, useEffect, useState } from 'react';
import { Badge, Banner, BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, Select, Spinner, Text, TextField } from '@shopify/polaris';
import type { ApiClient, Attempt, JobStatus, Offer, Postback } from '../api-client.ts';
import { outcomeBadge } from './test-fire-screen.tsx';

const statusTone: Record<JobStatus, 'success' | 'critical' | 'warning' | 'info'> = {
  succeeded: 'success',
  failed: 'critical',
  dead: 'critical',
  pending: 'warning',
  in_flight: 'info',
};

const idSourceLabels: Record<string, string> = {
  note_attribute: 'Cart attribute',
  landing_site: 'Landing site',
  cart_token: 'Cart token',
  customer: 'Customer',
  order_meta: 'Order meta',
  order_link: 'Order-received link',
  order_attribution: 'Order attribution',
  manual: 'Manual / test-fire',
};

function when(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}

function Details({ api, base, id }: { api: ApiClient; base: string; id: string }) {
  const [data, setData] = useState<{ postback: Postback; attempts: Attempt[] } | null>(null);
  useEffect(() => {
    void api.get<{ postback: Postback; attempts: Attempt[] }>(`${base}/postbacks/${id}`).then((r) => (r.ok ? setData(r.value) : undefined));
  }, [api, base, id]);
  if (data === null) return <Spinner size="small" accessibilityLabel="Loading attempts" />;
  const p = data.postback;
  return (
    <BlockStack gap="200">
      <Text as="p">
        Transaction ID <code>{p.transactionId}</code> from {idSourceLabels[p.idSource] ?? p.idSource}; amount {p.amount} {p.currency}
        {p.test ? ' (test order)' : ''}. Next attempt: {p.status === 'pending' ? when(p.nextAttemptAt) : '—'}.
      </Text>
      <pre className="ct-code">
        {p.method} {p.url}
      </pre>
      {data.attempts.length === 0 ? (
        <Text as="p" tone="subdued">
          Not sent yet.
        </Text>
      ) : (
        <DataTable
          columnContentTypes={['numeric', 'text', 'text', 'numeric', 'text', 'text']}
          headings={['#', 'Sent', 'Outcome', 'HTTP', 'Latency', 'Answer']}
          rows={data.attempts.map((a) => [
            a.attempt,
            when(a.startedAt),
            <BlockStack gap="050" key="o" inlineAlign="start">
              {outcomeBadge(a.outcome)}
              <Text as="span" variant="bodySm" tone="subdued">
                {a.detail ?? a.errorClass ?? ''}
              </Text>
            </BlockStack>,
            a.status ?? '—',
            `${a.latencyMs} ms`,
            <code key="b">{a.responseBody === '' ? '(empty)' : a.responseBody.slice(0, 200)}</code>,
          ])}
        />
      )}
    </BlockStack>
  );
}

/** The postback log: filters, one row per postback, its attempts on demand, replay for dead letters. */
export function PostbackLogScreen({ api, merchantId }: { api: ApiClient; merchantId: string }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  const [offers, setOffers] = useState<readonly Offer[]>([]);
  const [filters, setFilters] = useState({ offer: '', status: '', order: '', from: '', to: '' });
  const [rows, setRows] = useState<readonly Postback[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: 'success' | 'critical'; text: string } | null>(null);

  const load = useCallback(async () => {
    const r = await api.get<{ postbacks: Postback[] }>(`${base}/postbacks`, { ...filters, limit: '100' });
    if (r.ok) setRows(r.value.postbacks);
    else setNotice({ tone: 'critical', text: [r.message, ...r.issues.map((i) => `${i.path}: ${i.message}`)].join(' — ') });
  }, [api, base, filters]);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    void api.get<{ offers: Offer[] }>(`${base}/offers`).then((r) => (r.ok ? setOffers(r.value.offers) : undefined));
  }, [api, base]);

  const replay = async (id: string) => {
    const r = await api.send<{ replayed: number }>('POST', `${base}/postbacks/${id}/replay`);
    setNotice(r.ok ? { tone: 'success', text: `Postback #${id} is queued again.` } : { tone: 'critical', text: r.message });
    await load();
  };
  const replayAll = async () => {
    const r = await api.send<{ replayed: number }>('POST', `${base}/dead-letters/replay`, filters.offer === '' ? {} : { offer: filters.offer });
    setNotice(r.ok ? { tone: 'success', text: `${r.value.replayed} dead letter(s) queued again.` } : { tone: 'critical', text: r.message });
    await load();
  };
  const setFilter = (key: keyof typeof filters) => (value: string) => setFilters((f) => ({ ...f, [key]: value }));

  return (
    <BlockStack gap="400">
      {notice !== null ? (
        <Banner tone={notice.tone} onDismiss={() => setNotice(null)}>
          <p>{notice.text}</p>
        </Banner>
      ) : null}
      <Card>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Postback log
            </Text>
            <InlineStack gap="200">
              <Button onClick={() => void load()}>Refresh</Button>
              <Button tone="critical" onClick={() => void replayAll()}>
                Replay dead letters
              </Button>
            </InlineStack>
          </InlineStack>
          <InlineGrid columns={{ xs: 1, sm: 2, md: 5 }} gap="200">
            <Select label="Offer" options={[{ label: 'All offers', value: '' }, ...offers.map((o) => ({ label: o.name, value: o.id }))]} value={filters.offer} onChange={setFilter('offer')} />
            <Select
              label="Status"
              options={[
                { label: 'Any status', value: '' },
                { label: 'Succeeded', value: 'succeeded' },
                { label: 'Pending', value: 'pending' },
                { label: 'In flight', value: 'in_flight' },
                { label: 'Failed (refused)', value: 'failed' },
                { label: 'Dead letter', value: 'dead' },
              ]}
              value={filters.status}
              onChange={setFilter('status')}
            />
            <TextField label="Order" value={filters.order} onChange={setFilter('order')} autoComplete="off" placeholder="Order ID" />
            <TextField label="From" type="date" value={filters.from} onChange={setFilter('from')} autoComplete="off" />
            <TextField label="To" type="date" value={filters.to} onChange={setFilter('to')} autoComplete="off" />
          </InlineGrid>
        </BlockStack>
      </Card>
      <Card padding="0">
        {rows === null ? (
          <div style={{ padding: 16 }}>
            <Spinner accessibilityLabel="Loading the log" />
          </div>
        ) : rows.length === 0 ? (
          <div style={{ padding: 16 }}>
            <Text as="p" tone="subdued">
              No postbacks match.
            </Text>
          </div>
        ) : (
          <table className="Polaris-DataTable__Table" style={{ width: '100%', borderCollapse: 'collapse' }} aria-label="Postbacks">
            <thead>
              <tr>
                {['Created', 'Order', 'Offer', 'Event', 'Status', 'ID source', 'Attempts', 'Last outcome', ''].map((h) => (
                  <th key={h} style={{ textAlign: 'left', padding: '8px 12px', borderBottom: '1px solid #e3e3e3', fontWeight: 600 }}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <Fragment key={p.id}>
                  <tr data-postback-id={p.id} style={{ borderBottom: '1px solid #f1f1f1' }}>
                    <td style={{ padding: '8px 12px' }}>{when(p.createdAt)}</td>
                    <td style={{ padding: '8px 12px' }}>{p.orderNumber}</td>
                    <td style={{ padding: '8px 12px' }}>{p.offerId}</td>
                    <td style={{ padding: '8px 12px' }}>{p.event}</td>
                    <td style={{ padding: '8px 12px' }}>
                      <Badge tone={statusTone[p.status]}>{p.status === 'dead' ? 'dead letter' : p.status}</Badge>
                    </td>
                    <td style={{ padding: '8px 12px' }}>{idSourceLabels[p.idSource] ?? p.idSource}</td>
                    <td style={{ padding: '8px 12px' }}>{p.attempts}</td>
                    <td style={{ padding: '8px 12px', maxWidth: 260 }}>{p.lastOutcome ?? '—'}</td>
                    <td style={{ padding: '8px 12px', whiteSpace: 'nowrap' }}>
                      <InlineStack gap="100">
                        <Button size="slim" onClick={() => setOpen(open === p.id ? null : p.id)} accessibilityLabel={`Details of postback ${p.id}`}>
                          {open === p.id ? 'Hide' : 'Details'}
                        </Button>
                        {p.status === 'dead' || p.status === 'failed' ? (
                          <Button size="slim" variant="primary" onClick={() => void replay(p.id)} accessibilityLabel={`Replay postback ${p.id}`}>
                            Replay
                          </Button>
                        ) : null}
                      </InlineStack>
                    </td>
                  </tr>
                  {open === p.id ? (
                    <tr>
                      <td colSpan={9} style={{ padding: '8px 12px 16px', background: '#fafafa' }}>
                        <Details api={api} base={base} id={p.id} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </BlockStack>
  );
}
