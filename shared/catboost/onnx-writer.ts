/**
 * Writes an ObliviousEnsemble as an ONNX model with a single ai.onnx.ml TreeEnsembleRegressor node, following CatBoost's
 * own exporter (catboost/libs/model/model_export/onnx_helpers.cpp): each oblivious tree of depth d becomes a complete
 * binary tree in BFS order whose level k tests split d−1−k (BRANCH_GT, false child 2n+1, true child 2n+2), so leaf
 * position = CatBoost leaf index. Deviations from CatBoost: output declared [N, 1]; `feature_names` in metadata_props.
 *
 * The protobuf is hand-encoded with protobufjs's Writer using onnx.proto field numbers (no .proto file needed).
 * `readOnnxMetadata` decodes ModelProto.metadata_props, which onnxruntime-node does not expose.
 */
import protobuf from 'protobufjs/minimal.js';
import type { ObliviousEnsemble } from './oblivious-ensemble.js';
import { errorMessage } from '../errors/error-message.js';

type Writer = protobuf.Writer;

const IR_VERSION = 8;
const ML_DOMAIN = 'ai.onnx.ml';
const ML_OPSET = 2;
const INPUT_NAME = 'features';
const OUTPUT_NAME = 'predictions';
const FEATURE_NAMES_KEY = 'feature_names';
const ELEM_FLOAT = 1; // TensorProto.DataType.FLOAT

// protobuf wire types
const VARINT = 0;
const LEN = 2;

// AttributeProto.AttributeType
const ATTR = { INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// onnx.proto field numbers
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const ENTRY = { key: 1, value: 2 } as const;
const GRAPH = { node: 1, name: 2, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, i: 3, s: 4, floats: 7, ints: 8, strings: 9, type: 20 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { dimValue: 1, dimParam: 2 } as const;

const utf8 = new TextEncoder();

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function str(w: Writer, field: number, value: string): void {
  tag(w, field, LEN).string(value);
}

function int(w: Writer, field: number, value: number): void {
  tag(w, field, VARINT).int64(value);
}

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, LEN).fork();
  body(w);
  w.ldelim();
}

// ---- attributes -------------------------------------------------------------------------------------------------

function attrInt(w: Writer, name: string, value: number): void {
  message(w, NODE.attribute, (a) => {
    str(a, ATTRIBUTE.name, name);
    int(a, ATTRIBUTE.i, value);
    int(a, ATTRIBUTE.type, ATTR.INT);
  });
}

function attrString(w: Writer, name: string, value: string): void {
  message(w, NODE.attribute, (a) => {
    str(a, ATTRIBUTE.name, name);
    tag(a, ATTRIBUTE.s, LEN).bytes(utf8.encode(value));
    int(a, ATTRIBUTE.type, ATTR.STRING);
  });
}

function attrInts(w: Writer, name: string, values: ArrayLike<number>): void {
  message(w, NODE.attribute, (a) => {
    str(a, ATTRIBUTE.name, name);
    tag(a, ATTRIBUTE.ints, LEN).fork();
    for (let i = 0; i < values.length; i++) a.int64(values[i]!);
    a.ldelim();
    int(a, ATTRIBUTE.type, ATTR.INTS);
  });
}

function attrFloats(w: Writer, name: string, values: ArrayLike<number>): void {
  message(w, NODE.attribute, (a) => {
    str(a, ATTRIBUTE.name, name);
    tag(a, ATTRIBUTE.floats, LEN).fork();
    for (let i = 0; i < values.length; i++) a.float(values[i]!);
    a.ldelim();
    int(a, ATTRIBUTE.type, ATTR.FLOATS);
  });
}

function attrStrings(w: Writer, name: string, values: readonly string[]): void {
  const encoded = new Map<string, Uint8Array>();
  message(w, NODE.attribute, (a) => {
    str(a, ATTRIBUTE.name, name);
    for (const v of values) {
      let bytes = encoded.get(v);
      if (!bytes) encoded.set(v, (bytes = utf8.encode(v)));
      tag(a, ATTRIBUTE.strings, LEN).bytes(bytes);
    }
    int(a, ATTRIBUTE.type, ATTR.STRINGS);
  });
}

// ---- tree layout ------------------------------------------------------------------------------------------------

interface TreeArrays {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  missingTrue: number[];
  hitrates: number[];
  targetTreeIds: number[];
  targetNodeIds: number[];
  targetWeights: number[];
}

function layoutTrees(model: ObliviousEnsemble): TreeArrays {
  const a: TreeArrays = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    values: [],
    modes: [],
    trueIds: [],
    falseIds: [],
    missingTrue: [],
    hitrates: [],
    targetTreeIds: [],
    targetNodeIds: [],
    targetWeights: [],
  };
  model.trees.forEach((tree, t) => {
    const d = tree.splits.length;
    const internal = (1 << d) - 1;
    for (let level = 0; level < d; level++) {
      const split = tree.splits[d - 1 - level]!;
      const tracksTrue = model.nanModes?.[split.feature] === 'AsTrue' ? 1 : 0;
      for (let n = (1 << level) - 1; n < (1 << (level + 1)) - 1; n++) {
        a.treeIds.push(t);
        a.nodeIds.push(n);
        a.featureIds.push(split.feature);
        a.values.push(split.border);
        a.modes.push('BRANCH_GT');
        a.falseIds.push(2 * n + 1);
        a.trueIds.push(2 * n + 2);
        a.missingTrue.push(tracksTrue);
        a.hitrates.push(1);
      }
    }
    for (let leaf = 0; leaf < tree.leaves.length; leaf++) {
      const n = internal + leaf;
      a.treeIds.push(t);
      a.nodeIds.push(n);
      a.featureIds.push(0);
      a.values.push(0);
      a.modes.push('LEAF');
      a.falseIds.push(0);
      a.trueIds.push(0);
      a.missingTrue.push(0);
      a.hitrates.push(0);
      a.targetTreeIds.push(t);
      a.targetNodeIds.push(n);
      a.targetWeights.push(tree.leaves[leaf]!);
    }
  });
  return a;
}

// ---- validation -------------------------------------------------------------------------------------------------

function validate(model: ObliviousEnsemble): void {
  const width = model.featureNames.length;
  if (width === 0) throw new Error('writeOnnx: model has no features');
  if (model.nanModes && model.nanModes.length !== width) {
    throw new Error(`writeOnnx: nanModes has ${model.nanModes.length} entries, featureNames has ${width}`);
  }
  if (!Number.isFinite(model.bias)) throw new Error(`writeOnnx: bias ${model.bias} is not finite`);
  model.trees.forEach((tree, t) => {
    const d = tree.splits.length;
    if (d > 30) throw new Error(`writeOnnx: tree ${t} depth ${d} is too deep`);
    if (tree.leaves.length !== 1 << d) throw new Error(`writeOnnx: tree ${t} has ${tree.leaves.length} leaves, depth ${d} needs ${1 << d}`);
    tree.splits.forEach((s, j) => {
      if (!Number.isInteger(s.feature) || s.feature < 0 || s.feature >= width) {
        throw new Error(`writeOnnx: tree ${t} split ${j} reads feature ${s.feature}, outside 0..${width - 1}`);
      }
      if (Math.fround(s.border) !== s.border) throw new Error(`writeOnnx: tree ${t} split ${j} border ${s.border} is not a float32 value`);
    });
  });
}

// ---- model ------------------------------------------------------------------------------------------------------

function valueInfo(w: Writer, field: number, name: string, dims: Array<number | string>): void {
  message(w, field, (v) => {
    str(v, VALUE_INFO.name, name);
    message(v, VALUE_INFO.type, (ty) =>
      message(ty, TYPE.tensorType, (tt) => {
        int(tt, TENSOR_TYPE.elemType, ELEM_FLOAT);
        message(tt, TENSOR_TYPE.shape, (sh) => {
          for (const d of dims)
            message(sh, SHAPE.dim, (dm) => (typeof d === 'number' ? int(dm, DIM.dimValue, d) : str(dm, DIM.dimParam, d)));
        });
      }),
    );
  });
}

function writeNode(w: Writer, model: ObliviousEnsemble): void {
  const a = layoutTrees(model);
  message(w, GRAPH.node, (n) => {
    str(n, NODE.input, INPUT_NAME);
    str(n, NODE.output, OUTPUT_NAME);
    str(n, NODE.name, 'TreeEnsembleRegressor');
    str(n, NODE.opType, 'TreeEnsembleRegressor');
    str(n, NODE.domain, ML_DOMAIN);
    attrString(n, 'aggregate_function', 'SUM');
    if (model.bias !== 0) attrFloats(n, 'base_values', [model.bias]);
    attrInt(n, 'n_targets', 1);
    attrInts(n, 'nodes_falsenodeids', a.falseIds);
    attrInts(n, 'nodes_featureids', a.featureIds);
    attrFloats(n, 'nodes_hitrates', a.hitrates);
    attrInts(n, 'nodes_missing_value_tracks_true', a.missingTrue);
    attrStrings(n, 'nodes_modes', a.modes);
    attrInts(n, 'nodes_nodeids', a.nodeIds);
    attrInts(n, 'nodes_treeids', a.treeIds);
    attrInts(n, 'nodes_truenodeids', a.trueIds);
    attrFloats(n, 'nodes_values', a.values);
    attrString(n, 'post_transform', 'NONE');
    attrInts(n, 'target_ids', new Array<number>(a.targetNodeIds.length).fill(0));
    attrInts(n, 'target_nodeids', a.targetNodeIds);
    attrInts(n, 'target_treeids', a.targetTreeIds);
    attrFloats(n, 'target_weights', a.targetWeights);
  });
}

/**
 * Encodes `model` as an ONNX ModelProto (IR 8, opset ai.onnx.ml 2): input `features` float [N, F], output `predictions`
 * float [N, 1]. metadata_props gets `feature_names` (JSON array of model.featureNames) plus every entry of `metadata`.
 */
export function writeOnnx(model: ObliviousEnsemble, metadata: Record<string, string>): Uint8Array {
  validate(model);
  const featureNamesJson = JSON.stringify(model.featureNames);
  const given = metadata[FEATURE_NAMES_KEY];
  if (given !== undefined && given !== featureNamesJson) {
    throw new Error(
      `writeOnnx: metadata.${FEATURE_NAMES_KEY} differs from the model's feature names; leave it out, it is written from the model`,
    );
  }
  const w = protobuf.Writer.create();
  int(w, MODEL.irVersion, IR_VERSION);
  str(w, MODEL.producerName, 'nba-points-predictions cbm-to-onnx');
  str(w, MODEL.producerVersion, '1');
  message(w, MODEL.graph, (g) => {
    writeNode(g, model);
    str(g, GRAPH.name, 'CatBoostModel');
    valueInfo(g, GRAPH.input, INPUT_NAME, ['N', model.featureNames.length]);
    valueInfo(g, GRAPH.output, OUTPUT_NAME, ['N', 1]);
  });
  message(w, MODEL.opsetImport, (o) => {
    str(o, OPSET.domain, ML_DOMAIN);
    int(o, OPSET.version, ML_OPSET);
  });
  const entries: Array<[string, string]> = [[FEATURE_NAMES_KEY, featureNamesJson]];
  for (const [k, v] of Object.entries(metadata)) if (k !== FEATURE_NAMES_KEY) entries.push([k, v]);
  for (const [key, value] of entries) {
    message(w, MODEL.metadataProps, (e) => {
      str(e, ENTRY.key, key);
      str(e, ENTRY.value, value);
    });
  }
  return w.finish();
}

/** Decodes ModelProto.metadata_props (field 14) from ONNX bytes, skipping every other field. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const r = protobuf.Reader.create(bytes);
  try {
    while (r.pos < r.len) {
      const t = r.uint32();
      const field = t >>> 3;
      const wire = t & 7;
      if (field === MODEL.metadataProps && wire === LEN) {
        const end = r.uint32() + r.pos;
        let key = '';
        let value = '';
        while (r.pos < end) {
          const et = r.uint32();
          if (et >>> 3 === ENTRY.key && (et & 7) === LEN) key = r.string();
          else if (et >>> 3 === ENTRY.value && (et & 7) === LEN) value = r.string();
          else r.skipType(et & 7);
        }
        out[key] = value;
      } else {
        r.skipType(wire);
      }
    }
  } catch (e) {
    throw new Error(`readOnnxMetadata: not a valid ONNX model (${errorMessage(e)})`, { cause: e });
  }
  return out;
}
