/**
 * ModelRuntime adapter on onnxruntime-node. Models are single-input / single-output float regressors
 * (`features` [N, F] → `predictions` [N, 1] or [N]); feature names come from the `feature_names` metadata entry, which
 * onnxruntime-node does not expose, so it is decoded from the bytes with readOnnxMetadata.
 */
import * as ort from 'onnxruntime-node';
import { readOnnxMetadata } from '../../catboost/onnx-writer.js';
import type { ModelRuntime, ModelSession } from '../../ports/model-runtime.js';

export interface OnnxModelRuntimeOptions {
  intraOpNumThreads: number;
  /** Defaults to 1 (sequential execution uses a single inter-op thread anyway). */
  interOpNumThreads?: number;
}

function parseFeatureNames(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('ONNX model metadata feature_names is not valid JSON');
  }
  if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === 'string')) {
    throw new Error('ONNX model metadata feature_names must be a JSON array of strings');
  }
  return parsed;
}

function declaredWidth(session: ort.InferenceSession): number | undefined {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) return undefined;
  if (meta.type !== 'float32') throw new Error(`ONNX model input ${meta.name} is ${meta.type}, expected float32`);
  if (meta.shape.length !== 2) throw new Error(`ONNX model input ${meta.name} has rank ${meta.shape.length}, expected [N, F]`);
  const w = meta.shape[1];
  return typeof w === 'number' && w > 0 ? w : undefined;
}

class OnnxModelSession implements ModelSession {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    readonly featureNames: readonly string[] | undefined,
    readonly metadata: Readonly<Record<string, string>>,
    readonly inputWidth: number,
  ) {}

  async run(features: Float32Array, rows: number): Promise<Float32Array> {
    if (!Number.isInteger(rows) || rows < 0) throw new Error(`run: rows must be a non-negative integer, got ${rows}`);
    if (features.length !== rows * this.inputWidth) {
      throw new Error(
        `run: ${features.length} values for ${rows} rows, expected ${rows * this.inputWidth} (input width ${this.inputWidth})`,
      );
    }
    if (rows === 0) return new Float32Array(0);
    const input = new ort.Tensor('float32', features, [rows, this.inputWidth]);
    const results = await this.session.run({ [this.inputName]: input });
    const output = results[this.outputName];
    if (!output) throw new Error(`run: model produced no output ${this.outputName}`);
    if (!(output.data instanceof Float32Array)) throw new Error(`run: output ${this.outputName} is ${output.type}, expected float32`);
    if (output.data.length !== rows)
      throw new Error(`run: output has ${output.data.length} values for ${rows} rows (dims ${output.dims.join('x')})`);
    return output.data;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export class OnnxModelRuntime implements ModelRuntime {
  private readonly sessionOptions: ort.InferenceSession.SessionOptions;

  constructor(options: OnnxModelRuntimeOptions) {
    const { intraOpNumThreads, interOpNumThreads = 1 } = options;
    for (const [name, v] of [
      ['intraOpNumThreads', intraOpNumThreads],
      ['interOpNumThreads', interOpNumThreads],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`OnnxModelRuntime: ${name} must be a non-negative integer, got ${v}`);
    }
    this.sessionOptions = { intraOpNumThreads, interOpNumThreads, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  }

  async load(onnx: Uint8Array): Promise<ModelSession> {
    const metadata = readOnnxMetadata(onnx);
    const featureNames = parseFeatureNames(metadata['feature_names']);
    const session = await ort.InferenceSession.create(onnx, this.sessionOptions);
    try {
      const inputName = session.inputNames[0];
      const outputName = session.outputNames[0];
      if (session.inputNames.length !== 1 || inputName === undefined)
        throw new Error(`ONNX model must have exactly one input, has ${session.inputNames.length}`);
      if (session.outputNames.length < 1 || outputName === undefined) throw new Error('ONNX model has no output');
      const declared = declaredWidth(session);
      if (declared !== undefined && featureNames !== undefined && declared !== featureNames.length) {
        throw new Error(`ONNX model input width ${declared} does not match its ${featureNames.length} feature_names`);
      }
      const inputWidth = declared ?? featureNames?.length;
      if (inputWidth === undefined) throw new Error('ONNX model has neither a fixed input width nor feature_names metadata');
      return new OnnxModelSession(session, inputName, outputName, featureNames, Object.freeze({ ...metadata }), inputWidth);
    } catch (e) {
      await session.release();
      throw e;
    }
  }
}
