// The shape of a conformance case (harness/conformance.ts runs them): its own module, so that case files and the
// case server import it without importing the runner.

/** Resolvers as `buildSubgraphSchema` takes them (typed loosely: each case's data is its own). */
export type Resolvers = Record<string, Record<string, unknown>>;

export interface CaseSubgraph {
  /** Federation 2 SDL (with its `@link`), or Federation 1 SDL (none: composition upgrades it). */
  readonly sdl: string;
  readonly resolvers: Resolvers;
}

/** An error the spec requires: where it is (`path`) and, when the spec says, which class of code. */
export interface ExpectedError {
  /** `null`: a request error (refused before execution: no path). */
  readonly path: ReadonlyArray<string | number> | null;
  /**
   * `extensions.code` must be one of these (the class: any code a gateway may use for that failure).
   * Absent: any code (the wording and code are not the spec's to say, only that there is an error there).
   */
  readonly codes?: readonly string[];
}

export interface Expected {
  /** `undefined`: the response has no `data` (a request error). */
  readonly data: unknown;
  readonly errors?: readonly ExpectedError[];
  /** HTTP status; 200 unless said (GraphQL over HTTP, `application/json`). */
  readonly status?: number;
}

export interface Check {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /**
   * The whole `data` the spec gives; with `errors`, exactly these errors (path and code class), in any order. A list:
   * the spec allows each of these answers (e.g. an unresolvable field refused before execution, or nulled during it).
   */
  readonly expect: Expected | readonly Expected[];
  /**
   * Requests each named subgraph must receive for this operation (a subgraph not named is not checked). Use it
   * where the fetch count IS the behaviour (a batch per hop, a subgraph that must not be asked).
   */
  readonly fetches?: Readonly<Record<string, number>>;
  /** Entity representations each named subgraph must receive in all (a null key is never sent). */
  readonly representations?: Readonly<Record<string, number>>;
  /**
   * The Apollo engine gives a wrong answer here, for this reason. The check is then asserted to FAIL on the
   * Apollo engine (so a fixed Apollo makes the suite fail and the mark gets removed); Tessera must pass it.
   */
  readonly apolloFails?: string;
}

export interface ConformanceCase {
  /** The file name under test/conformance/cases/, without `.ts`. */
  readonly id: string;
  readonly title: string;
  /** What the federation spec says that this case checks. */
  readonly spec: string;
  readonly subgraphs: Readonly<Record<string, CaseSubgraph>>;
  readonly checks: readonly Check[];
}

/** Types a case file's default export (its literal types checked against the shape above). */
export function defineCase(c: ConformanceCase): ConformanceCase {
  return c;
}

export interface Received {
  readonly query: string;
  readonly variables: Record<string, unknown> | null;
}
