/**
 * cbm-to-onnx <in.cbm> <out.onnx> [--features-from metadata.json] [--family v9|v12|v12_noveg]
 *
 * Converts a numeric-only CatBoost model to ONNX (TreeEnsembleRegressor, input `features` float [N, F], output
 * `predictions` float [N, 1]) with feature_names, family and source_sha256 in the ONNX metadata. With --family the model's
 * features must equal that family's list in shared/contracts/feature-contract.ts (and the --features-from list, if given).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { convertCbmToOnnx, sha256Hex } from '../shared/catboost/convert.js';
import { FAMILY_FEATURES, MODEL_FAMILIES, type ModelFamily } from '../shared/contracts/feature-contract.js';
import { errorMessage } from '../shared/errors/error-message.js';

const USAGE = 'usage: cbm-to-onnx <in.cbm> <out.onnx> [--features-from metadata.json] [--family v9|v12|v12_noveg]';

interface CliArgs {
  input: string;
  output: string;
  featuresFrom?: string;
  family?: ModelFamily;
}

function parseFamily(value: string): ModelFamily {
  const family = MODEL_FAMILIES.find((f) => f === value);
  if (family === undefined) throw new Error(`--family must be one of ${MODEL_FAMILIES.join(', ')}, got ${JSON.stringify(value)}`);
  return family;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const positional: string[] = [];
  let featuresFrom: string | undefined;
  let family: ModelFamily | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === '--features-from' || flag === '--family') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new Error(`${flag} needs a value`);
      if (flag === '--family') family = parseFamily(value);
      else featuresFrom = value;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  const [input, output, ...extra] = positional;
  if (input === undefined || output === undefined || extra.length > 0) throw new Error('expected exactly two paths: <in.cbm> <out.onnx>');
  return { input, output, ...(featuresFrom !== undefined ? { featuresFrom } : {}), ...(family !== undefined ? { family } : {}) };
}

/**
 * The expected input order: the --features-from list and/or the family's list from the feature contract. When both are
 * given they must agree.
 */
async function expectedFeatures(args: CliArgs): Promise<string[] | undefined> {
  const fromFile = args.featuresFrom !== undefined ? await readFeatureList(args.featuresFrom) : undefined;
  if (args.family === undefined) return fromFile;
  const familyNames = [...FAMILY_FEATURES[args.family]];
  if (fromFile === undefined) return familyNames;
  const n = Math.max(fromFile.length, familyNames.length);
  for (let i = 0; i < n; i++) {
    if (fromFile[i] !== familyNames[i]) {
      throw new Error(
        `${args.featuresFrom}: feature ${i} is ${JSON.stringify(fromFile[i])} but family ${args.family} expects ${JSON.stringify(familyNames[i])}`,
      );
    }
  }
  return fromFile;
}

async function readFeatureList(path: string): Promise<string[]> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  const features = typeof parsed === 'object' && parsed !== null ? (parsed as { features?: unknown }).features : undefined;
  if (!Array.isArray(features) || !features.every((f): f is string => typeof f === 'string')) {
    throw new Error(`${path}: expected a JSON object with a "features" array of strings`);
  }
  return features;
}

/** Runs the CLI with the arguments after the script name. Returns the process exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`cbm-to-onnx: ${errorMessage(e)}\n${USAGE}`);
    return 2;
  }
  try {
    const cbm = await readFile(args.input);
    const featureNames = await expectedFeatures(args);
    const { onnx, info } = convertCbmToOnnx(cbm, {
      ...(featureNames ? { featureNames } : {}),
      ...(args.family !== undefined ? { metadata: { family: args.family } } : {}),
    });
    const tmp = `${args.output}.tmp-${process.pid}`;
    await writeFile(tmp, onnx);
    await rename(tmp, args.output);
    console.log(`trees:    ${info.trees}`);
    console.log(`depth:    ${info.depth}`);
    console.log(`features: ${info.features}`);
    console.log(`bias:     ${info.bias}`);
    console.log(`sha256:   ${info.sourceSha256} (source .cbm)`);
    console.log(`onnx:     ${args.output} (${onnx.length} bytes, sha256 ${sha256Hex(onnx)})`);
    return 0;
  } catch (e) {
    console.error(`cbm-to-onnx: ${errorMessage(e)}`);
    return 1;
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
