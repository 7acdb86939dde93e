/**
 * The function-side S3 storage modules (SeBS's `storage` API), to be copied
 * into a package's function/ directory, and the dependencies they need there.
 */
import { fileURLToPath } from 'node:url'

export interface FunctionStorageModules {
  nodejs: { file: string; dependencies: Record<string, string> }
  python: { file: string; requirements: string[] }
}

export const S3_FUNCTION_STORAGE: FunctionStorageModules = {
  nodejs: {
    file: fileURLToPath(new URL('./nodejs/storage.js', import.meta.url)),
    // The same minio the harness uses (package.json pins it).
    dependencies: { minio: '8.0.7' },
  },
  python: {
    file: fileURLToPath(new URL('./python/storage.py', import.meta.url)),
    requirements: ['boto3'],
  },
}
