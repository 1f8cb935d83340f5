// ESLint flat config: typescript-eslint's type-checked rules over the whole tree (services, shared, bin, test), one
// complexity limit, and nothing about layout (oxfmt formats, with Prettier's options; eslint-config-prettier switches off
// any rule that would fight it). `npm run lint` runs it with --max-warnings 0. See docs/testing.md → "Lint, format, layering".
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // What .gitignore keeps out of the repo (local worlds, scratch files from the docs' examples, build output).
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.local/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The project service reads tsconfig.json (services, shared, bin, test, vitest.config.ts): one TypeScript program.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // ESLint counts every `?.`, `??`, `||=` and default parameter as a branch, so its 20 (its own default) is about
      // 12–15 classic McCabe paths. A function above it carries
      // `// eslint-disable-next-line complexity -- <why it stays one function>`.
      complexity: ['error', 20],
      // Both are in recommendedTypeChecked; stated here because the project relies on them (a dropped promise loses work).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Off: the compiler's noUnusedLocals/noUnusedParameters report the same, in one place (tsconfig.json).
      '@typescript-eslint/no-unused-vars': 'off',
      // Off: adapters implement Promise-returning ports with synchronous bodies (`async` turns a throw into the rejection
      // the port promises); the rule would have them wrap every body in Promise.resolve/reject instead.
      '@typescript-eslint/require-await': 'off',
      // Off: warehouse rows are typed by the port as any JSON value (`PlainValue`), and `String(row.col)` on a column the
      // SQL declares STRING/DATE is how the code reads one; the rule cannot see the SQL and fired on 110 such reads (the
      // rest, `String(unknown)` in display helpers, are deliberate).
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: vitest types its asymmetric matchers (expect.stringMatching, expect.objectContaining …) as `any`, so
      // every `toMatchObject({ reason: expect.stringMatching(…) })` would be reported.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  // Last among the rule sets: switches off every rule about layout, which is the formatter's (oxfmt, .oxfmtrc.jsonc).
  prettier,
  {
    // The JavaScript files (eslint.config.js, .dependency-cruiser.cjs, a node --import hook in test/helpers) are outside
    // tsconfig.json: plain rules only, with Node's globals.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly', URL: 'readonly' },
    },
  },
);
