import fs from 'node:fs';
import path from 'node:path';
import { type FastifyInstance } from 'fastify';

// GraphiQL and React from node_modules, served by vigil itself: the IDE works with no internet.
const ASSETS: Record<string, { module: string; file: string; type: string }> = {
  'react.js': { module: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': { module: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.js': { module: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { module: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

function assetPath(a: { module: string; file: string }): string {
  return path.join(path.dirname(require.resolve(`${a.module}/package.json`)), a.file);
}

export const GRAPHIQL_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vigil · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/assets/graphiql.css">
<style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/assets/react.js"></script>
<script src="/graphiql/assets/react-dom.js"></script>
<script src="/graphiql/assets/graphiql.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: 'headers',
    headers: JSON.stringify({ Authorization: 'Bearer <your API key>' }, null, 2),
    defaultQuery: [
      '# Put your API key in the Headers tab below, then press the run button.',
      '{',
      '  viewer { name role }',
      '  devices(first: 10) {',
      '    totalCount',
      '    nodes { id externalId name status openAnomalyCount }',
      '  }',
      '}',
      '',
    ].join('\\n'),
  }));
</script>
</body>
</html>
`;

export function registerGraphiql(app: FastifyInstance) {
  const cache = new Map<string, Buffer>();
  app.get<{ Params: { name: string } }>('/graphiql/assets/:name', async (request, reply) => {
    const asset = ASSETS[request.params.name];
    if (!asset) return reply.code(404).send({ error: 'not found' });
    let body = cache.get(request.params.name);
    if (!body) {
      body = await fs.promises.readFile(assetPath(asset));
      cache.set(request.params.name, body);
    }
    return reply.type(asset.type).header('cache-control', 'public, max-age=86400').send(body);
  });
}

/** A browser asking for /graphql gets the IDE; API clients get GraphQL. */
export function wantsGraphiql(method: string, accept: string | undefined, query: unknown): boolean {
  return method === 'GET' && !!accept?.includes('text/html') && !(query && typeof query === 'object' && 'query' in query);
}
