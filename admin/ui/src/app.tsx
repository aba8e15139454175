import { useCallback, useEffect, useMemo, useState } from 'react';
import { AppProvider, Banner, BlockStack, Button, InlineStack, Page, Select, Spinner, Tabs, Text } from '@shopify/polaris';
import { PolarisVizProvider } from '@shopify/polaris-viz';
import { TitleBar } from '@shopify/app-bridge-react';
import en from '@shopify/polaris/locales/en.json';
import { createApiClient, tokenStore, type AdminConfig, type Me } from './api-client.ts';
import { LoginScreen } from './screens/login-screen.tsx';
import { OverviewScreen } from './screens/overview-screen.tsx';
import { OffersScreen } from './screens/offers-screen.tsx';
import { TestFireScreen } from './screens/test-fire-screen.tsx';
import { PostbackLogScreen } from './screens/postback-log-screen.tsx';
import { ConnectionsScreen } from './screens/connections-screen.tsx';

/**
 * The admin: standalone (the bridge; a token typed in and kept in sessionStorage) or embedded in
 * the Shopify admin (App Bridge adds the session token to every fetch). Screens are tabs; the tab
 * is kept in the URL hash so a reload stays put.
 */

const tabs = [
  { id: 'overview', content: 'Overview' },
  { id: 'offers', content: 'Offers' },
  { id: 'test-fire', content: 'Test-fire' },
  { id: 'log', content: 'Postback log' },
  { id: 'connections', content: 'Connections' },
] as const;
type TabId = (typeof tabs)[number]['id'];

function tabFromHash(): TabId {
  const id = window.location.hash.replace(/^#/, '');
  return tabs.find((t) => t.id === id)?.id ?? 'overview';
}

export function App({ config }: { config: AdminConfig }) {
  const [token, setToken] = useState<string | null>(() => (config.mode === 'standalone' ? tokenStore.get() : null));
  const [me, setMe] = useState<Me | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [merchantId, setMerchantId] = useState<string>('');
  const [tab, setTab] = useState<TabId>(tabFromHash);
  const [testFireOffer, setTestFireOffer] = useState<string | undefined>(undefined);

  const signOut = useCallback(() => {
    tokenStore.clear();
    setToken(null);
    setMe(null);
  }, []);
  const api = useMemo(() => createApiClient(config, token, () => (config.mode === 'standalone' ? signOut() : undefined)), [config, token, signOut]);
  const signedIn = config.mode === 'embedded' || token !== null;

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    void api.get<Me>('/me').then((result) => {
      if (!live) return;
      if (!result.ok) {
        setLoadError(result.message);
        return;
      }
      setLoadError(null);
      setMe(result.value);
      setMerchantId((current) => (result.value.merchants.some((m) => m.id === current) ? current : (result.value.merchants[0]?.id ?? '')));
    });
    return () => {
      live = false;
    };
  }, [api, signedIn]);

  useEffect(() => {
    const onHash = () => setTab(tabFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const selectTab = (index: number) => {
    const next = tabs[index]?.id ?? 'overview';
    window.location.hash = next;
    setTab(next);
  };

  let body;
  if (!signedIn) {
    body = (
      <LoginScreen
        config={config}
        onSignedIn={(t) => {
          tokenStore.set(t);
          setToken(t);
        }}
      />
    );
  } else if (loadError !== null) {
    body = (
      <Page title="Clickthread">
        <Banner tone="critical" title="Could not load your account">
          <p>{loadError}</p>
        </Banner>
      </Page>
    );
  } else if (me === null) {
    body = (
      <Page title="Clickthread">
        <Spinner accessibilityLabel="Loading" />
      </Page>
    );
  } else {
    const merchant = me.merchants.find((m) => m.id === merchantId);
    body = (
      <Page
        title="Clickthread"
        subtitle={merchant ? `Affiliate postbacks for ${merchant.name}` : 'Affiliate postbacks'}
        fullWidth
        secondaryActions={config.mode === 'standalone' ? [{ content: 'Sign out', onAction: signOut }] : []}
      >
        <BlockStack gap="400">
          {me.merchants.length > 1 ? (
            <InlineStack gap="200" blockAlign="center">
              <div style={{ minWidth: 280 }}>
                <Select
                  label="Merchant"
                  labelInline
                  options={me.merchants.map((m) => ({ label: `${m.name} (${m.id})`, value: m.id }))}
                  value={merchantId}
                  onChange={setMerchantId}
                />
              </div>
            </InlineStack>
          ) : null}
          {merchant ? (
            <Tabs tabs={tabs.map((t) => ({ id: t.id, content: t.content }))} selected={tabs.findIndex((t) => t.id === tab)} onSelect={selectTab}>
              <div style={{ paddingTop: 16 }}>
                {tab === 'overview' && <OverviewScreen api={api} merchantId={merchant.id} />}
                {tab === 'offers' && (
                  <OffersScreen
                    api={api}
                    merchantId={merchant.id}
                    onTestFire={(offerId) => {
                      setTestFireOffer(offerId);
                      selectTab(2);
                    }}
                  />
                )}
                {tab === 'test-fire' && <TestFireScreen api={api} merchantId={merchant.id} initialOfferId={testFireOffer} />}
                {tab === 'log' && <PostbackLogScreen api={api} merchantId={merchant.id} />}
                {tab === 'connections' && <ConnectionsScreen api={api} merchantId={merchant.id} />}
              </div>
            </Tabs>
          ) : (
            <Banner tone="info" title="No merchants yet">
              <Text as="p">This token sees no merchant. Create one through the API (POST /api/v1/merchants) or the CLI.</Text>
              {config.mode === 'standalone' ? <Button onClick={signOut}>Use another token</Button> : null}
            </Banner>
          )}
        </BlockStack>
      </Page>
    );
  }

  return (
    <AppProvider i18n={en}>
      <PolarisVizProvider>
        {config.mode === 'embedded' ? <TitleBar title="Clickthread" /> : null}
        {body}
      </PolarisVizProvider>
    </AppProvider>
  );
}
