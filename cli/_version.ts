/**
 * The package version `eventfold --version` prints. It is a constant here rather than a
 * read of `deno.json`, so it works however the CLI is loaded (from JSR, a file or a
 * bundle); `cli/_version_test.ts` keeps it equal to the manifest's `version`.
 *
 * @module
 */

/** The version of `@eventfold/eventfold` this CLI belongs to. */
export const VERSION: string = "0.1.0";
