import { randomBytes } from 'node:crypto';
import { createPostgresStore, dropPostgresSchema } from '../storage/postgres-store.ts';
import { accessContract } from './access-contract.ts';
import { createAccessStore } from './kysely-access-store.ts';

const url = process.env['CLICKTHREAD_TEST_DATABASE_URL'] ?? '';

// a schema per test, so parallel runs (and other helpers' suites) never collide
accessContract(
  'PostgreSQL',
  async () => {
    const schema = `ct_access_${randomBytes(6).toString('hex')}`;
    const store = createPostgresStore({ connectionString: url, schema, poolSize: 2 });
    await store.migrate();
    const access = createAccessStore(store);
    await access.migrate();
    return {
      store,
      access,
      async cleanup() {
        await store.close();
        await dropPostgresSchema(url, schema);
      },
    };
  },
  url === '' ? 'set CLICKTHREAD_TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test' : undefined,
);
