import { defineConfig } from 'prisma/config';

// The service applies migrations itself (src/db/migrator.ts); the Prisma CLI is used only to generate the client.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
