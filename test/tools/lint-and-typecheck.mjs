// `npm run check`: `npm run lint`'s ESLint pass and `npm run typecheck` on one TypeScript program, for `npm test`.
//
// Both need the whole tree's program with its types: run apart, ESLint (through typescript-eslint's project service) and
// `tsc --noEmit` each build and type-check it, ≈ 45 + 22 CPU-s on a fresh clone. Here the program is built once from
// tsconfig.json, handed to typescript-eslint (`parserOptions.programs`) for every TypeScript file, and its compiler
// diagnostics are read afterwards from the same type checker, which the type-aware rules have already filled: ≈ 40 CPU-s
// for both. Same config (eslint.config.js, every rule), same files, same verdicts: any ESLint error or warning
// (--max-warnings 0) or compiler diagnostic fails. `npm run lint` (with its cache) and `npm run typecheck` stay the
// commands to run one of them. docs/testing.md → "Lint, format, layering".
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const host = {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  },
};
const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), { noEmit: true }, host);
if (!parsed) throw new Error('tsconfig.json could not be read');
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });

const eslint = new ESLint({
  cwd: root,
  // Only for TypeScript files: the JavaScript ones are linted without types (eslint.config.js).
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, programs: [program] } } }],
});
const results = await eslint.lintFiles(['.']);
const lintProblems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
if (lintProblems > 0) process.stdout.write(await (await eslint.loadFormatter('stylish')).format(results));

const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
if (diagnostics.length > 0) {
  process.stdout.write(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
}

const files = results.length;
const typed = program.getRootFileNames().length;
process.stdout.write(
  `ESLint: ${lintProblems} problem(s) in ${files} files; TypeScript: ${diagnostics.length} error(s) in ${typed} files (tsconfig.json)\n`,
);
process.exitCode = lintProblems > 0 || diagnostics.length > 0 ? 1 : 0;
