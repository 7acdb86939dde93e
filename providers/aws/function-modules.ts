/**
 * Function-side modules copied into `function/` next to the benchmark code.
 *
 * - python: the shared S3 module (boto3; the Lambda runtime ships boto3, so
 *   nothing is added to requirements);
 * - nodejs: this folder's module on `@aws-sdk/client-s3`, which the Lambda
 *   runtime ships; the shared one needs `minio` bundled into every package.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Language } from '../../core/types.ts'
import { S3_FUNCTION_STORAGE } from '../storage/wrappers/s3/index.ts'

const here = dirname(fileURLToPath(import.meta.url))

export function functionStorageModule(language: Language): { file: string } {
  return language === 'nodejs' ? { file: join(here, 'wrappers', 'nodejs', 'storage.js') } : { file: S3_FUNCTION_STORAGE.python.file }
}
