// Layer rules (ARCHITECTURE.md), checked by `npm run lint` in `npm test`:
//   0 foundation   src/common, src/config, src/logging, src/db
//   1 adapters     src/adapters/<port>/ (ports and drivers for the outside world); libraries: src/anomaly-model, src/image-processing
//   2 features     src/<feature>/: services and domain modules
//   3 delivery     src/graphql, src/http, and each feature's GraphQL face (*.resolver.ts, *.type.ts, *.input.ts)
//   4 composition  src/app (the composition root: services, resolvers, engines, server, CLI, Lambdas), src/main.ts
// A layer imports only layers below it (and itself). No import cycles anywhere.
const FOUNDATION = '^src/(common|config|logging|db)/';
const ADAPTERS = '^src/(adapters|anomaly-model|image-processing)/';
const LOWER = '(common|config|logging|db|adapters|anomaly-model|image-processing|graphql|http|app|generated)';
const GRAPHQL_FACE = '\\.(resolver|type|input|args)\\.ts$';
const FEATURE = `^src/(?!${LOWER}/)[^/]+/`;
const DELIVERY = '^src/(graphql|http)/';
const APP = '^src/(app/|main\\.ts$)';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'An import cycle: move the shared piece down a layer.', from: {}, to: { circular: true } },
    {
      name: 'composition-root-on-top',
      severity: 'error',
      comment: 'Only src/app and src/main.ts wire things together; nothing below imports them.',
      from: { path: '^src/', pathNot: APP },
      to: { path: APP },
    },
    {
      name: 'foundation-imports-upward',
      severity: 'error',
      comment: 'common, config, logging and db are the ground floor: they import only each other.',
      from: { path: FOUNDATION },
      to: { path: `${ADAPTERS}|${FEATURE}|${DELIVERY}` },
    },
    {
      name: 'adapter-imports-upward',
      severity: 'error',
      comment: 'A port or driver talks to the outside world; it knows no feature, resolver or transport.',
      from: { path: ADAPTERS },
      to: { path: `${FEATURE}|${DELIVERY}` },
    },
    {
      name: 'feature-imports-delivery',
      severity: 'error',
      comment: "A feature's services know nothing of the GraphQL context or HTTP; only its *.resolver/type/input files do.",
      from: { path: FEATURE, pathNot: GRAPHQL_FACE },
      to: { path: DELIVERY },
    },
    {
      name: 'no-foreign-resolvers',
      severity: 'error',
      comment: 'Resolvers are assembled by src/app/schema.ts; nobody else imports them.',
      from: { path: '^src/', pathNot: '^src/app/' },
      to: { path: '\\.resolver\\.ts$' },
    },
    {
      name: 'no-feature-internals',
      severity: 'error',
      comment: "A feature's sub-folders (steps/, eventbridge/, page/ …) are its own; other features use its top-level modules.",
      from: { path: `^src/([^/]+)/`, pathNot: APP },
      to: { path: `${FEATURE}[^/]+/`, pathNot: ['^src/$1/', '^src/(common|adapters)/'] },
    },
    { name: 'no-orphans', severity: 'error', comment: 'A module nothing imports is dead code.', from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/main\\.ts$', '^src/app/lambda\\.ts$', '^src/app/training-thread\\.ts$', '^src/app/cli\\.ts$', '^src/generated/'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^src/reviews/page/', '^src/console/web/', '^src/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
