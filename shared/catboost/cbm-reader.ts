/**
 * Reader for CatBoost's binary model format (`.cbm`), limited to what the ONNX writer and evaluator support: numeric-only,
 * single-output (ApproxDimension 1), symmetric-tree models without model parts. Everything else is refused with an Error
 * whose message names the unsupported part.
 *
 * File framing: "CBM1", ui32 LE core size N, then N bytes of a flatbuffer rooted at NCatBoostFbs.TModelCore
 * (catboost/libs/model/flatbuffers/{model,features}.fbs). Fields are read by vtable index; the indices below follow the
 * schema's declaration order.
 */
import { ByteBuffer } from 'flatbuffers';
import type { NanMode, ObliviousEnsemble, ObliviousTree } from './oblivious-ensemble.js';

export interface CbmInfo {
  trees: number;
  /** Maximum tree depth. */
  depth: number;
  /** Input width (number of float features). */
  features: number;
  bias: number;
  /** Whether the model stores FeatureIds (column names); when false, featureNames are synthesised as f0, f1, … */
  hasFeatureIds: boolean;
  /** e.g. "1.2.8", parsed from the `catboost_version_info` info key. */
  catboostVersion?: string;
  /** The `params` info key (training parameters), parsed as JSON. */
  params?: unknown;
}

export type CbmModel = ObliviousEnsemble & { info: CbmInfo };

/** TModelCore fields. */
const CORE = { FormatVersion: 0, ModelTrees: 1, InfoMap: 2, ModelPartIds: 3, count: 4 } as const;
/** TModelTrees fields. */
const TREES = {
  ApproxDimension: 0,
  TreeSplits: 1,
  TreeSizes: 2,
  TreeStartOffsets: 3,
  CatFeatures: 4,
  FloatFeatures: 5,
  OneHotFeatures: 6,
  CtrFeatures: 7,
  LeafValues: 8,
  LeafWeights: 9,
  NonSymmetricStepNodes: 10,
  NonSymmetricNodeIdToLeafId: 11,
  TextFeatures: 12,
  EstimatedFeatures: 13,
  Scale: 14,
  Bias: 15,
  MultiBias: 16,
  RepackedBins: 17,
  EmbeddingFeatures: 18,
  count: 19,
} as const;
/** TFloatFeature fields. */
const FLOAT = { HasNans: 0, Index: 1, FlatIndex: 2, Borders: 3, FeatureId: 4, NanValueTreatment: 5, count: 6 } as const;
/** TKeyValue fields. */
const KV = { Key: 0, Value: 1 } as const;

const FORMAT_VERSION = 'FlabuffersModel_v1';
const NAN_MODES: readonly NanMode[] = ['AsIs', 'AsFalse', 'AsTrue'];
const MAX_DEPTH = 16;

/** A flatbuffers table, read by field index (vtable slot 4 + 2·index). */
class FbTable {
  constructor(
    private readonly bb: ByteBuffer,
    private readonly pos: number,
    readonly name: string,
  ) {}

  /** Indices of fields present in the vtable at or beyond `known` (i.e. fields this reader does not know). */
  unknownFields(known: number): number[] {
    const vtable = this.pos - this.bb.readInt32(this.pos);
    const slots = (this.bb.readUint16(vtable) - 4) / 2;
    const out: number[] = [];
    for (let i = known; i < slots; i++) if (this.bb.readUint16(vtable + 4 + 2 * i) !== 0) out.push(i);
    return out;
  }

  private off(field: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * field);
  }

  has(field: number): boolean {
    return this.off(field) !== 0;
  }

  int32(field: number, dflt: number): number {
    const o = this.off(field);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }

  int8(field: number, dflt: number): number {
    const o = this.off(field);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }

  bool(field: number): boolean {
    return this.int8(field, 0) !== 0;
  }

  float64(field: number, dflt: number): number {
    const o = this.off(field);
    return o ? this.bb.readFloat64(this.pos + o) : dflt;
  }

  string(field: number): string | undefined {
    const o = this.off(field);
    return o ? (this.bb.__string(this.pos + o) as string) : undefined;
  }

  table(field: number, name: string): FbTable | undefined {
    const o = this.off(field);
    return o ? new FbTable(this.bb, this.bb.__indirect(this.pos + o), name) : undefined;
  }

  vectorLength(field: number): number {
    const o = this.off(field);
    return o ? this.bb.__vector_len(this.pos + o) : 0;
  }

  private vector(field: number): { start: number; length: number } {
    const o = this.off(field);
    if (!o) return { start: 0, length: 0 };
    return { start: this.bb.__vector(this.pos + o), length: this.bb.__vector_len(this.pos + o) };
  }

  int32s(field: number): Int32Array {
    const { start, length } = this.vector(field);
    const out = new Int32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.bb.readInt32(start + 4 * i);
    return out;
  }

  float32s(field: number): Float32Array {
    const { start, length } = this.vector(field);
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.bb.readFloat32(start + 4 * i);
    return out;
  }

  float64s(field: number): Float64Array {
    const { start, length } = this.vector(field);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = this.bb.readFloat64(start + 8 * i);
    return out;
  }

  tables(field: number, name: string): FbTable[] {
    const { start, length } = this.vector(field);
    const out: FbTable[] = [];
    for (let i = 0; i < length; i++) {
      const p = start + 4 * i;
      out.push(new FbTable(this.bb, this.bb.__indirect(p), `${name}[${i}]`));
    }
    return out;
  }
}

function refuse(what: string): never {
  throw new Error(`unsupported CatBoost model: ${what}`);
}

function readFraming(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 8) throw new Error(`not a CatBoost .cbm file: only ${bytes.length} bytes`);
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0, bytes[2] ?? 0, bytes[3] ?? 0);
  if (magic !== 'CBM1') throw new Error(`not a CatBoost .cbm file: magic is ${JSON.stringify(magic)}, expected "CBM1"`);
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (size === 0xffffffff) refuse('model core larger than 4 GiB (64-bit size header)');
  if (8 + size > bytes.length)
    throw new Error(`truncated .cbm file: core size ${size} but only ${bytes.length - 8} bytes follow the header`);
  if (8 + size < bytes.length) refuse(`${bytes.length - 8 - size} bytes after the model core (model parts are not supported)`);
  // A fresh copy: offset 0 and 8-byte aligned.
  return bytes.slice(8, 8 + size);
}

function checkKnownFields(table: FbTable, known: number): void {
  const unknown = table.unknownFields(known);
  if (unknown.length > 0)
    refuse(`${table.name} has fields unknown to this reader (indices ${unknown.join(', ')}); the schema is newer than supported`);
}

function readInfoMap(core: FbTable): Map<string, string> {
  const map = new Map<string, string>();
  for (const kv of core.tables(CORE.InfoMap, 'InfoMap')) {
    const key = kv.string(KV.Key);
    if (key !== undefined) map.set(key, kv.string(KV.Value) ?? '');
  }
  return map;
}

function parseVersion(info: string | undefined): string | undefined {
  if (!info) return undefined;
  const m = /Branch:\s*\S*?v?(\d+\.\d+(?:\.\d+)?)/.exec(info) ?? /\bv?(\d+\.\d+\.\d+)\b/.exec(info);
  return m?.[1];
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function refuseUnsupportedParts(trees: FbTable): void {
  const approx = trees.int32(TREES.ApproxDimension, 0);
  if (approx !== 1) refuse(`approx dimension ${approx} (multiclass / multi-output models); only single-output models are supported`);
  const parts: Array<[number, string]> = [
    [TREES.CatFeatures, 'categorical features'],
    [TREES.OneHotFeatures, 'one-hot features'],
    [TREES.CtrFeatures, 'CTR features'],
    [TREES.TextFeatures, 'text features'],
    [TREES.EmbeddingFeatures, 'embedding features'],
    [TREES.EstimatedFeatures, 'estimated (text/embedding) features'],
    [TREES.NonSymmetricStepNodes, 'non-symmetric trees'],
    [TREES.NonSymmetricNodeIdToLeafId, 'non-symmetric trees'],
  ];
  for (const [field, what] of parts) {
    const n = trees.vectorLength(field);
    if (n > 0) refuse(`${what} (${n} entries); only numeric-only symmetric-tree models are supported`);
  }
}

interface FloatFeatures {
  names: string[];
  hasFeatureIds: boolean;
  nanModes: NanMode[];
  /** Binary feature list: split index → (feature, border). */
  binary: Array<{ feature: number; border: number }>;
}

function readFloatFeatures(trees: FbTable): FloatFeatures {
  const features = trees.tables(TREES.FloatFeatures, 'FloatFeatures');
  if (features.length === 0) refuse('no float features');
  const names: string[] = [];
  const nanModes: NanMode[] = [];
  const binary: FloatFeatures['binary'] = [];
  let hasFeatureIds = true;
  features.forEach((f, i) => {
    checkKnownFields(f, FLOAT.count);
    const flat = f.int32(FLOAT.FlatIndex, -1);
    const index = f.int32(FLOAT.Index, -1);
    if (flat !== i || index !== i)
      refuse(`float feature ${i} has Index ${index} / FlatIndex ${flat} (expected ${i}: gaps mean non-numeric features)`);
    const id = f.string(FLOAT.FeatureId);
    if (!id) hasFeatureIds = false;
    names.push(id ?? '');
    const treatment = f.int8(FLOAT.NanValueTreatment, 0);
    const mode = NAN_MODES[treatment];
    if (mode === undefined) refuse(`float feature ${i} has unknown NanValueTreatment ${treatment}`);
    nanModes.push(f.bool(FLOAT.HasNans) ? mode : 'AsIs');
    const borders = f.float32s(FLOAT.Borders);
    for (let b = 0; b < borders.length; b++) {
      const border = borders[b] as number;
      if (b > 0 && !(border > (borders[b - 1] as number)))
        throw new Error(`float feature ${i}: borders are not strictly ascending at ${b}`);
      binary.push({ feature: i, border });
    }
  });
  if (!hasFeatureIds) for (let i = 0; i < names.length; i++) names[i] = `f${i}`;
  return { names, hasFeatureIds, nanModes, binary };
}

function readTrees(trees: FbTable, binary: FloatFeatures['binary'], scale: number): ObliviousTree[] {
  const splits = trees.int32s(TREES.TreeSplits);
  const sizes = trees.int32s(TREES.TreeSizes);
  const starts = trees.int32s(TREES.TreeStartOffsets);
  const leaves = trees.float64s(TREES.LeafValues);
  if (starts.length !== sizes.length) throw new Error(`corrupt model: ${sizes.length} TreeSizes but ${starts.length} TreeStartOffsets`);
  const out: ObliviousTree[] = [];
  let splitPos = 0;
  let leafPos = 0;
  for (let t = 0; t < sizes.length; t++) {
    const depth = sizes[t] as number;
    if (depth < 0 || depth > MAX_DEPTH) refuse(`tree ${t} has depth ${depth} (supported: 0..${MAX_DEPTH})`);
    if (starts[t] !== splitPos) throw new Error(`corrupt model: TreeStartOffsets[${t}] is ${starts[t]}, expected ${splitPos}`);
    const treeSplits = [];
    for (let j = 0; j < depth; j++) {
      const s = splits[splitPos + j];
      const bin = s === undefined ? undefined : binary[s];
      if (s === undefined || bin === undefined)
        throw new Error(`corrupt model: tree ${t} split ${j} index ${s} outside the ${binary.length} binary features`);
      treeSplits.push({ feature: bin.feature, border: bin.border });
    }
    const nLeaves = 1 << depth;
    if (leafPos + nLeaves > leaves.length)
      throw new Error(`corrupt model: tree ${t} needs leaves up to ${leafPos + nLeaves}, only ${leaves.length} stored`);
    const treeLeaves = leaves.slice(leafPos, leafPos + nLeaves);
    if (scale !== 1) for (let l = 0; l < nLeaves; l++) treeLeaves[l] = (treeLeaves[l] as number) * scale;
    out.push({ splits: treeSplits, leaves: treeLeaves });
    splitPos += depth;
    leafPos += nLeaves;
  }
  if (splitPos !== splits.length) throw new Error(`corrupt model: ${splits.length} TreeSplits but tree sizes sum to ${splitPos}`);
  if (leafPos !== leaves.length) throw new Error(`corrupt model: ${leaves.length} LeafValues but trees need ${leafPos}`);
  return out;
}

/** Parses a `.cbm` file into an ObliviousEnsemble (Scale folded into leaves and bias). Throws on unsupported models. */
export function readCbm(bytes: Uint8Array): CbmModel {
  const coreBytes = readFraming(bytes);
  const bb = new ByteBuffer(coreBytes);
  if (coreBytes.length < 8) throw new Error('corrupt model: core too small');
  const core = new FbTable(bb, bb.readInt32(0), 'TModelCore');
  checkKnownFields(core, CORE.count);
  const format = core.string(CORE.FormatVersion);
  if (format !== FORMAT_VERSION) refuse(`format version ${JSON.stringify(format)} (expected ${FORMAT_VERSION})`);
  const partIds = core.vectorLength(CORE.ModelPartIds);
  if (partIds > 0) refuse(`${partIds} model parts (static CTR tables / text or embedding processing)`);
  const trees = core.table(CORE.ModelTrees, 'TModelTrees');
  if (!trees) throw new Error('corrupt model: no ModelTrees table');
  checkKnownFields(trees, TREES.count);
  refuseUnsupportedParts(trees);

  const scale = trees.float64(TREES.Scale, 1);
  if (!Number.isFinite(scale) || scale === 0) refuse(`scale ${scale}`);
  const multiBias = trees.float64s(TREES.MultiBias);
  if (multiBias.length > 1) refuse(`MultiBias of length ${multiBias.length} (multi-output)`);
  const rawBias = multiBias.length === 1 ? (multiBias[0] as number) : trees.float64(TREES.Bias, 0);

  const floats = readFloatFeatures(trees);
  const treeList = readTrees(trees, floats.binary, scale);
  const info = readInfoMap(core);
  const depth = treeList.reduce((m, t) => Math.max(m, t.splits.length), 0);
  const catboostVersion = parseVersion(info.get('catboost_version_info'));
  const params = parseParams(info.get('params'));
  return {
    featureNames: floats.names,
    nanModes: floats.nanModes,
    trees: treeList,
    bias: rawBias,
    info: {
      trees: treeList.length,
      depth,
      features: floats.names.length,
      bias: rawBias,
      hasFeatureIds: floats.hasFeatureIds,
      ...(catboostVersion !== undefined ? { catboostVersion } : {}),
      ...(params !== undefined ? { params } : {}),
    },
  };
}
