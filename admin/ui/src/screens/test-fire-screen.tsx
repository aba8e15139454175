import { useEffect, useState } from 'react';
import { Badge, Banner, BlockStack, Button, Card, FormLayout, InlineStack, Layout, Select, Text, TextField } from '@shopify/polaris';
import type { ApiClient, Offer, Postback, PostbackEvent, TestFireResult } from '../api-client.ts';

export function outcomeBadge(outcome: string) {
  const tone = outcome.startsWith('success') ? 'success' : outcome.startsWith('duplicate') ? 'info' : outcome.startsWith('retry') ? 'warning' : 'critical';
  return <Badge tone={tone}>{outcome}</Badge>;
}

/** Sends a test postback for an offer and shows exactly what went out and what came back. */
export function TestFireScreen({ api, merchantId, initialOfferId }: { api: ApiClient; merchantId: string; initialOfferId: string | undefined }) {
  const [offers, setOffers] = useState<readonly Offer[]>([]);
  const [offerId, setOfferId] = useState(initialOfferId ?? '');
  const [event, setEvent] = useState<PostbackEvent>('sale');
  const [transactionId, setTransactionId] = useState('');
  const [amount, setAmount] = useState('');
  const [result, setResult] = useState<TestFireResult | null>(null);
  const [queued, setQueued] = useState<Postback | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/merchants/${encodeURIComponent(merchantId)}`;

  useEffect(() => {
    void api.get<{ offers: Offer[] }>(`${base}/offers`).then((r) => {
      if (!r.ok) return;
      setOffers(r.value.offers);
      setOfferId((current) => (current !== '' ? current : (r.value.offers[0]?.id ?? '')));
    });
  }, [api, base]);

  const offer = offers.find((o) => o.id === offerId);
  const events = offer ? (Object.keys(offer.postbacks) as PostbackEvent[]) : [];
  useEffect(() => {
    if (events.length > 0 && !events.includes(event)) setEvent(events[0] ?? 'sale');
  }, [events, event]);

  const fire = async (via: 'direct' | 'outbox') => {
    setBusy(true);
    setError(null);
    setResult(null);
    setQueued(null);
    const values: Record<string, string> = {};
    if (transactionId.trim() !== '') values['transaction_id'] = transactionId.trim();
    if (amount.trim() !== '') values['amount'] = amount.trim();
    const r = await api.send<TestFireResult | { postback: Postback }>('POST', `${base}/offers/${encodeURIComponent(offerId)}/test-fire`, { event, values, via });
    setBusy(false);
    if (!r.ok) {
      setError([r.message, ...r.issues.map((i) => `${i.path}: ${i.message}`)].join(' — '));
      return;
    }
    if ('postback' in r.value) setQueued(r.value.postback);
    else setResult(r.value);
  };

  return (
    <Layout>
      <Layout.Section variant="oneThird">
        <Card>
          <FormLayout>
            <Text as="h2" variant="headingMd">
              Send a test postback
            </Text>
            {offers.length === 0 ? (
              <Text as="p" tone="subdued">
                Create an offer first.
              </Text>
            ) : (
              <>
                <Select label="Offer" options={offers.map((o) => ({ label: o.name, value: o.id }))} value={offerId} onChange={setOfferId} />
                <Select label="Event" options={events.map((e) => ({ label: e, value: e }))} value={event} onChange={(v) => setEvent(v as PostbackEvent)} />
                <TextField label="Transaction ID" value={transactionId} onChange={setTransactionId} autoComplete="off" placeholder="102a+f3 9c (sample)" helpText="From a real test click, so the network can match it." />
                <TextField label="Amount" value={amount} onChange={setAmount} autoComplete="off" placeholder="49.90 (sample)" />
                <InlineStack gap="200">
                  <Button variant="primary" onClick={() => void fire('direct')} loading={busy} disabled={offerId === ''}>
                    Send test postback
                  </Button>
                  <Button onClick={() => void fire('outbox')} disabled={busy || offerId === ''}>
                    Queue through the outbox
                  </Button>
                </InlineStack>
              </>
            )}
          </FormLayout>
        </Card>
      </Layout.Section>
      <Layout.Section>
        <BlockStack gap="400">
          {error !== null ? (
            <Banner tone="critical" title="Test-fire refused">
              <p>{error}</p>
            </Banner>
          ) : null}
          {queued !== null ? (
            <Banner tone="info" title={`Queued as postback #${queued.id}`}>
              <p>The worker sends it like a real conversion; follow it in the postback log.</p>
            </Banner>
          ) : null}
          {result !== null ? (
            <Card>
              <BlockStack gap="300">
                <InlineStack gap="200" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    Answer
                  </Text>
                  {outcomeBadge(result.outcome)}
                  <Text as="span" tone="subdued">
                    {result.latencyMs} ms
                  </Text>
                </InlineStack>
                <Text as="p">{result.reason}</Text>
                <Text as="h3" variant="headingSm">
                  Request
                </Text>
                <pre className="ct-code" data-testfire="request">
                  {result.request.method} {result.request.url}
                </pre>
                <Text as="h3" variant="headingSm">
                  Response
                </Text>
                <pre className="ct-code" data-testfire="response">
                  {result.response === null ? `(no answer${result.errorClass === null ? '' : `: ${result.errorClass}`})` : `HTTP ${result.response.status}\n${result.response.body}`}
                </pre>
              </BlockStack>
            </Card>
          ) : null}
        </BlockStack>
      </Layout.Section>
    </Layout>
  );
}
