/**
 * Moved to `benchmarks/_lib/testing/run-function.ts` (one shared test helper
 * for all benchmarks). This re-export only keeps the tests of 130.crud-api and
 * 411.image-recognition working until their imports point at the new module;
 * then delete this folder.
 */
export * from '../../../_lib/testing/run-function.ts'
