import { randomBytes } from 'node:crypto';
import { createPostgresStore, dropPostgresSchema } from './postgres-store.ts';
import { storeContract } from './store-contract.ts';

const url = process.env['CLICKTHREAD_TEST_DATABASE_URL'] ?? '';

// every test gets a schema of its own, so parallel runs (and parallel helpers) never collide
storeContract(
  'PostgreSQL',
  async () => {
    const schema = `ct_test_${randomBytes(6).toString('hex')}`;
    const store = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
    await store.migrate();
    return {
      store,
      async open() {
        const other = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
        await other.migrate();
        return other;
      },
      async cleanup() {
        await store.close();
        await dropPostgresSchema(url, schema);
      },
    };
  },
  url === '' ? 'set CLICKTHREAD_TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test' : undefined,
);
