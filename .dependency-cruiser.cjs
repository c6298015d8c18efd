// Layer rules for vigil (ARCHITECTURE.md). Lower layers never import higher ones:
//   0 foundation  src/common, src/config, src/logging, src/db
//   1 adapters    src/adapters/** (ports and drivers for the outside world), src/anomaly-model
//   2 features    src/<feature>/ (devices, images, detections, reviews, models, workflows, …)
//   3 delivery    src/graphql, src/http, src/cli
//   4 composition src/app, src/main.ts
const FOUNDATION = '^src/(common|config|logging|db)/';
const ADAPTERS = '^src/(adapters|anomaly-model|model|detectors)/';
const DELIVERY = '^src/(graphql|http|cli)/';
const APP = '^src/(app/|main\\.ts)';
const FEATURES = `^src/(?!(common|config|logging|db|adapters|anomaly-model|model|detectors|graphql|http|cli|app)/|main\\.ts)[^/]+/`;

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'An import cycle: break it by moving the shared piece down a layer.', from: {}, to: { circular: true } },
    { name: 'composition-root-on-top', severity: 'error', comment: 'Only src/app (and main.ts) wire things together; nothing imports them.', from: { path: '^src/', pathNot: APP }, to: { path: APP } },
    { name: 'foundation-imports-upward', severity: 'error', from: { path: FOUNDATION }, to: { path: `${ADAPTERS}|${FEATURES}|${DELIVERY}` } },
    { name: 'adapter-imports-upward', severity: 'error', from: { path: ADAPTERS }, to: { path: `${FEATURES}|${DELIVERY}` } },
    { name: 'feature-imports-delivery', severity: 'error', from: { path: FEATURES }, to: { path: DELIVERY } },
    { name: 'no-orphans', severity: 'warn', from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/main\\.ts$'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/reviews/page/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
