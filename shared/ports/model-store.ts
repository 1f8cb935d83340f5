/** ModelStore port: fetch a model artefact by URI (`gs://bucket/path`, `file:///abs/path`, or a path relative to the store's root). */
export interface ModelStore {
  fetch(uri: string): Promise<Uint8Array>;
}
