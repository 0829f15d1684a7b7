/**
 * Where supergraph generations come from (file-source.ts, registry-source.ts). The engine calls
 * `initialize` once, serves the SDL it returns, and then each SDL the source passes to `update`;
 * `update` throws, leaving the current generation serving, when an SDL does not build.
 */
export interface SupergraphSource {
  initialize(hooks: {
    update: (supergraphSdl: string) => void;
  }): Promise<{ supergraphSdl: string; cleanup: () => Promise<void> }>;
  /** Accepted generations so far (1 after start-up). */
  readonly generation: number;
}
