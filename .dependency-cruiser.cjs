/**
 * The project's layering, checked by dependency-cruiser on every `npm run lint` (so in `npm test`): one file, one comment
 * per rule. It follows type-only imports (tsPreCompilationDeps), re-exports and dynamic `import()`, and the reachability
 * rules follow imports transitively. test/unit/architecture.test.ts proves each rule reports a violation planted in a
 * scratch tree. See docs/testing.md → "Lint, format, layering".
 */

/** Domain code: every folder under a service (dispatch, batch, predict, models, alerts, lines, …). Only the files at a
 * service's root (main, app, wiring, config, deps, http-outcomes) are composition and HTTP. */
const DOMAIN = '^services/[^/]+/[^/]+/';

/** SDKs, the web framework and the logging library, as packages and as their type packages. */
const SDKS =
  '^node_modules/(?:@types/)?(?:@google-cloud/|google-auth-library/|google-gax/|express/|@duckdb/|onnxruntime-node/|onnxruntime-common/|pino/|pino-http/)';

module.exports = {
  forbidden: [
    {
      name: 'domain-imports-only-ports-contracts-and-pure-helpers',
      comment:
        "Domain folders (services/*/<folder>/) import only: other domain folders; their service's deps.ts (the interface of " +
        'ports the use cases receive); shared/ports, shared/contracts, shared/errors/error-message, shared/dates, and the ' +
        'pure helpers shared/batch (the batch state machine), shared/queries (SQL text and row readers), shared/retry ' +
        '(backoff), shared/values, shared/faults (crash points), shared/catboost (CatBoost → ONNX conversion), ' +
        'shared/logging/log-context (AsyncLocalStorage fields) and shared/health/deep-health (probes over ports); zod; ' +
        'Node built-ins. Never an adapter, shared/http (AppError carries an HTTP status: domain code returns outcomes), the ' +
        'wiring, config or an SDK.',
      severity: 'error',
      from: { path: DOMAIN },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: [
          DOMAIN,
          '^services/[^/]+/deps\\.ts$',
          '^shared/(?:ports|contracts|dates|batch|queries|retry|values|faults|catboost)/',
          '^shared/errors/error-message\\.ts$',
          '^shared/logging/log-context\\.ts$',
          '^shared/health/deep-health\\.ts$',
          '^node_modules/zod/',
        ],
      },
    },
    {
      name: 'domain-reaches-no-sdk',
      comment:
        'Not even through a chain of imports (deps.ts → config → …) may domain code load an SDK (@google-cloud/*, ' +
        "google-auth-library, express, @duckdb, onnxruntime, pino): those are the adapters' and the wiring's.",
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: SDKS, reachable: true },
    },
    {
      name: 'config-and-contracts-reach-no-http-or-adapter',
      comment:
        'shared/config (the env schemas) and shared/contracts (messages, tables, status, features) are read by every layer, ' +
        'so they import — directly or through a chain — no HTTP code (shared/http, express) and no adapter ' +
        '(shared/adapters, shared/embedded). Rules both sides need live in a neutral module (e.g. shared/auth/auth-rules.ts).',
      severity: 'error',
      from: { path: '^shared/(?:config|contracts)/' },
      to: { path: ['^shared/(?:http|adapters|embedded)/', '^node_modules/(?:@types/)?express/'], reachable: true },
    },
    {
      name: 'production-imports-no-test-code',
      comment: 'services, shared and bin are built into dist/ and the images; test/ is not: a production import of it breaks the build.',
      severity: 'error',
      from: { path: '^(?:services|shared|bin)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-cycles',
      comment:
        'No import cycle, type-only imports included: a cycle makes load order matter (a value read before its module has ' +
        'run) and means two modules are one rule split in two.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A TypeScript file nothing imports and that imports nothing is dead code (entry points and tests import something).',
      severity: 'error',
      from: { orphan: true, path: '\\.ts$', pathNot: ['\\.d\\.ts$', '^vitest\\.config\\.ts$'] },
      to: {},
    },
    {
      name: 'no-unresolvable-imports',
      comment: 'An import the cruiser cannot resolve escapes every rule above; the compiler would also reject it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(?:dist|coverage|\\.local)/' },
    // Type-only imports are dependencies too: a domain file must not even name an adapter's type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
