import { useState } from 'react';
import { Banner, BlockStack, Button, Card, Form, FormLayout, Page, Text, TextField } from '@shopify/polaris';
import { createApiClient, type AdminConfig, type Me } from '../api-client.ts';

/** Standalone sign-in: an agency, merchant or operator token, checked against /me before it is kept. */
export function LoginScreen({ config, onSignedIn }: { config: AdminConfig; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const value = token.trim();
    if (value === '') {
      setError('Paste your API token.');
      return;
    }
    setBusy(true);
    const result = await createApiClient(config, value, () => {}).get<Me>('/me');
    setBusy(false);
    if (result.ok) onSignedIn(value);
    else setError(result.status === 401 ? 'This token is not valid (wrong, revoked, or its merchant was deleted).' : result.message);
  };

  return (
    <Page narrowWidth title="Clickthread admin">
      <Card>
        <Form onSubmit={() => void submit()}>
          <FormLayout>
            <BlockStack gap="200">
              <Text as="p" tone="subdued">
                Sign in with an API token (ct_…) issued for your agency or shop, or the operator token. It is kept for this browser tab only.
              </Text>
              {error !== null ? (
                <Banner tone="critical" onDismiss={() => setError(null)}>
                  <p>{error}</p>
                </Banner>
              ) : null}
            </BlockStack>
            <TextField label="API token" type="password" value={token} onChange={setToken} autoComplete="off" monospaced />
            <Button submit variant="primary" loading={busy}>
              Sign in
            </Button>
          </FormLayout>
        </Form>
      </Card>
    </Page>
  );
}
