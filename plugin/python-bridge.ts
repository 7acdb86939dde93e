/**
 * Runs SeBS-format `input.py` files (buckets_count, generate_input,
 * validate_output) through a Python child process. Not implemented yet.
 */
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { BenchmarkError } from '../core/errors.ts'
import type { BenchmarkDefinition } from '../core/types.ts'

export async function loadPythonInputModule(bench: Pick<BenchmarkDefinition, 'id' | 'dir' | 'input'>, _options: { python: string }): Promise<BenchmarkInputModule> {
  throw new BenchmarkError('NOT_SUPPORTED', bench.input.path, 'SeBS-format input.py benchmarks are not supported yet; write an input.ts.')
}
