/**
 * The function-side NoSQL modules for DynamoDB-compatible stores, for the
 * package builders: copy `file` next to the benchmark's function as
 * `nosql.js` / `nosql.py` (benchmarks `require('./nosql')` / `from . import nosql`)
 * and add the dependencies to the package.
 */
import { fileURLToPath } from 'node:url'

export interface FunctionNoSqlModule {
  nodejs: { file: string; dependencies: Record<string, string> }
  python: { file: string; requirements: string[] }
}

export const DYNAMODB_FUNCTION_NOSQL: FunctionNoSqlModule = {
  nodejs: {
    file: fileURLToPath(new URL('./nodejs/nosql.js', import.meta.url)),
    // The same exact version the harness uses (package.json), so tests exercise what ships.
    dependencies: { '@aws-sdk/client-dynamodb': '3.1169.0' },
  },
  python: {
    file: fileURLToPath(new URL('./python/nosql.py', import.meta.url)),
    // Unpinned like SeBS: the Lambda runtime ships boto3, and other targets take the index's latest.
    requirements: ['boto3'],
  },
}
