/**
 * Project configuration for serverless-benchmarks. Command-line flags
 * (`npx sebs bench --provider=aws --size small`) and SEBS_* environment
 * variables override what is set here.
 */
// A type-only import (`defineConfig` from 'serverless-benchmarks' does the
// same for users): a value import would make `sebs bench` load the whole
// plugin from its TypeScript sources just to read this object (Node 20 runs
// no TypeScript, so the file goes through Vite's module runner).
import type { SebsUserConfig } from './plugin/index.ts'

export default {
  provider: 'local',
  sizes: ['test'],
  repetitions: 10,
  local: {
    // keepAliveMs: 600_000,         // evict idle local instances after 10 min
    // storage: { endpoint: 'http://127.0.0.1:9000', bucket: 'sebs' }, // an external S3/MinIO instead of the embedded s3rver
  },
  aws: {
    // region: 'us-east-1',
    // roleArn: 'arn:aws:iam::123456789012:role/sebs-lambda-role',
  },
} satisfies SebsUserConfig
