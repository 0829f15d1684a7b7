// Every case of the conformance set, in the order of docs/conformance.md.
import type { ConformanceCase } from '../../harness/conformance.ts';
import entityErrors from './cases/entity-errors.ts';
import enumInputIntersection from './cases/enum-input-intersection.ts';
import federation1 from './cases/federation-1.ts';
import inaccessible from './cases/inaccessible.ts';
import interfaceObjectNonResolvable from './cases/interface-object-non-resolvable.ts';
import interfaceObjectShareableField from './cases/interface-object-shareable-field.ts';
import interfaceObject from './cases/interface-object.ts';
import mutationsInOrder from './cases/mutations-in-order.ts';
import nonResolvableKeyRoutes from './cases/non-resolvable-key-routes.ts';
import nonResolvableKey from './cases/non-resolvable-key.ts';
import nullKeysChain from './cases/null-keys-chain.ts';
import override from './cases/override.ts';
import providesAbstract from './cases/provides-abstract.ts';
import providesNested from './cases/provides-nested.ts';
import requiresArgsFragments from './cases/requires-args-fragments.ts';
import requiresArgsMerge from './cases/requires-args-merge.ts';
import requiresChain from './cases/requires-chain.ts';
import requiresTwoCurrencies from './cases/requires-two-currencies.ts';
import shareableUnionMembers from './cases/shareable-union-members.ts';
import sharedRootFields from './cases/shared-root-fields.ts';
import skipIncludeAliases from './cases/skip-include-aliases.ts';
import typenameEverywhere from './cases/typename-everywhere.ts';

export const cases: readonly ConformanceCase[] = [
  // The four wrong plans of issue 15.
  requiresArgsMerge,
  requiresTwoCurrencies,
  nonResolvableKey,
  interfaceObjectNonResolvable,
  // The rest of the federation spec.
  nonResolvableKeyRoutes,
  requiresChain,
  requiresArgsFragments,
  providesNested,
  providesAbstract,
  sharedRootFields,
  shareableUnionMembers,
  enumInputIntersection,
  inaccessible,
  override,
  interfaceObject,
  interfaceObjectShareableField,
  nullKeysChain,
  typenameEverywhere,
  entityErrors,
  skipIncludeAliases,
  mutationsInOrder,
  federation1,
];
