import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// stylesheets are imported for their effect: Vite bundles them into the page's CSS
// oxlint-disable-next-line import/no-unassigned-import
import '@shopify/polaris/build/esm/styles.css';
// oxlint-disable-next-line import/no-unassigned-import
import '@shopify/polaris-viz/build/esm/styles.css';
// oxlint-disable-next-line import/no-unassigned-import
import './admin.css';
import { App } from './app.tsx';
import { readConfig } from './api-client.ts';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App config={readConfig()} />
    </StrictMode>,
  );
}
