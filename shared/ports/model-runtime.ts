/**
 * ModelRuntime port: turns a model artefact (ONNX bytes) into a session that scores feature rows.
 * The worker's domain code sees only this; the adapter is onnxruntime-node.
 */
export interface ModelSession {
  /** Feature names stored in the model's metadata (`feature_names`), in input order. */
  readonly featureNames: readonly string[] | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputWidth: number;
  /** Scores `rows` rows laid out row-major in `features` (length rows × inputWidth). Returns one value per row. */
  run(features: Float32Array, rows: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface ModelRuntime {
  load(onnx: Uint8Array): Promise<ModelSession>;
}
