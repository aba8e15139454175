import { useEffect, useState } from 'react';
import { Banner, BlockStack, Card, DataTable, InlineGrid, InlineStack, Select, Spinner, Text } from '@shopify/polaris';
import type { ApiClient, Overview, WriteBack } from '../api-client.ts';
import { SeriesChart } from '../components/series-chart.tsx';

function Stat({ label, value, tone }: { label: string; value: string; tone?: 'critical' | 'success' }) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="heading2xl" {...(tone === undefined ? {} : { tone })}>
          {value}
        </Text>
      </BlockStack>
    </Card>
  );
}

const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

/** Order notes and tags a store did not take: the merchant would otherwise not know why an order shows nothing. */
function WriteBacksCard({ writeBacks }: { writeBacks: readonly WriteBack[] | null }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Order notes and tags not written yet
        </Text>
        {writeBacks === null ? (
          <Spinner accessibilityLabel="Loading write-backs" size="small" />
        ) : writeBacks.length === 0 ? (
          <Text as="p" tone="subdued">
            Every settled postback is shown on its order.
          </Text>
        ) : (
          <DataTable
            columnContentTypes={['text', 'text', 'text', 'numeric', 'text']}
            headings={['Postback', 'Store', 'State', 'Tries', 'Why']}
            rows={writeBacks.map((w) => [
              `#${w.postbackId}`,
              w.storeId,
              w.status === 'dead' ? 'given up' : `next try ${when(w.nextTryAt ?? w.updatedAt)} UTC`,
              w.attempts,
              w.lastError ?? '',
            ])}
          />
        )}
      </BlockStack>
    </Card>
  );
}

export function OverviewScreen({ api, merchantId }: { api: ApiClient; merchantId: string }) {
  const [days, setDays] = useState('14');
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [writeBacks, setWriteBacks] = useState<readonly WriteBack[] | null>(null);

  useEffect(() => {
    let live = true;
    setData(null);
    void api.get<Overview>(`/merchants/${encodeURIComponent(merchantId)}/overview`, { days }).then((r) => {
      if (!live) return;
      if (r.ok) setData(r.value);
      else setError(r.message);
    });
    return () => {
      live = false;
    };
  }, [api, merchantId, days]);

  useEffect(() => {
    let live = true;
    void api.get<{ writeBacks: WriteBack[] }>(`/merchants/${encodeURIComponent(merchantId)}/write-backs`, { limit: '20' }).then((r) => {
      // the overview stands without this list: a failure leaves it empty
      if (live) setWriteBacks(r.ok ? r.value.writeBacks : []);
    });
    return () => {
      live = false;
    };
  }, [api, merchantId]);

  if (error !== null) return <Banner tone="critical" title="Could not load the overview"><p>{error}</p></Banner>;
  if (data === null) return <Spinner accessibilityLabel="Loading the overview" />;

  const rate = data.successRate === null ? '—' : `${(data.successRate * 100).toFixed(1)} %`;
  return (
    <BlockStack gap="400">
      <InlineStack align="space-between" blockAlign="center">
        <Text as="h2" variant="headingLg">
          Last {data.days} days
        </Text>
        <div style={{ minWidth: 160 }}>
          <Select label="Period" labelInline options={['7', '14', '30', '90'].map((d) => ({ label: `${d} days`, value: d }))} value={days} onChange={setDays} />
        </div>
      </InlineStack>
      <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="400">
        <Stat label="Conversions reported" value={String(data.conversionsReported)} tone="success" />
        <Stat label="Success rate" value={rate} />
        <Stat label="Dead letters" value={String(data.deadLetters)} {...(data.deadLetters > 0 ? { tone: 'critical' as const } : {})} />
        <Stat label="Unattributed orders" value={String(data.unattributed.count)} />
      </InlineGrid>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Postbacks per day
          </Text>
          <SeriesChart series={data.series} />
        </BlockStack>
      </Card>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Unattributed orders and why
          </Text>
          {data.unattributed.count === 0 ? (
            <Text as="p" tone="subdued">
              Every paid order in this period found its transaction ID.
            </Text>
          ) : (
            <DataTable columnContentTypes={['text', 'numeric']} headings={['Reason', 'Orders']} rows={data.unattributed.byReason.map((r) => [r.reason, r.count])} />
          )}
        </BlockStack>
      </Card>
      <WriteBacksCard writeBacks={writeBacks} />
    </BlockStack>
  );
}
