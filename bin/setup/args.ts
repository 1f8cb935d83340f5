/**
 * setup-gcp's command line. node:util parseArgs refuses a value that starts with a dash after a string option
 * (`--suffix -prod`: "argument is ambiguous"), though `-prod` is a suffix, not an option: such values are joined to their
 * option (`--suffix=-prod`) before parsing when they are not themselves one of the options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export const SETUP_OPTIONS = {
  project: { type: 'string' },
  region: { type: 'string' },
  location: { type: 'string', default: 'US' },
  suffix: { type: 'string', default: '-prod' },
  'project-number': { type: 'string' },
  'coordinator-url': { type: 'string' },
  'worker-url': { type: 'string' },
  'model-bucket': { type: 'string' },
  'build-bucket': { type: 'string' },
  'firestore-database': { type: 'string', default: '(default)' },
  'start-schedule': { type: 'string', default: '0 10 * * *' },
  'max-delivery-attempts': { type: 'string', default: '15' },
  'with-source-tables': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  grants: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies Options;

/** `--opt -value` → `--opt=-value` for string options whose next word is not an option of `options`. */
export function joinDashValues(argv: readonly string[], options: Options): string[] {
  const isString = (word: string) => word.startsWith('--') && !word.includes('=') && options[word.slice(2)]?.type === 'string';
  const isOption = (word: string) => word.startsWith('--') && Object.hasOwn(options, word.slice(2).split('=')[0] ?? '');
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const next = argv[i + 1];
    if (isString(word) && next !== undefined && next.startsWith('-') && next !== '--' && !isOption(next)) {
      out.push(`${word}=${next}`);
      i += 1;
    } else {
      out.push(word);
    }
  }
  return out;
}

export function parseSetupArgs(argv: readonly string[]) {
  return parseArgs({ args: joinDashValues(argv, SETUP_OPTIONS), options: SETUP_OPTIONS, strict: true, allowPositionals: false }).values;
}
