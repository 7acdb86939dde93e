/**
 * Removes secrets from anything the suite writes (run.json, summaries, logs):
 * credentials come from the environment or the providers' chains and must
 * never land on disk.
 */
const SECRET_KEY = /(secret|password|passwd|token|credential|connectionstring|accesskey|access_key|sas|signature|apikey|api_key)/i

export function redactConfig<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactConfig(v)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? '[redacted]' : redactConfig(v)
    }
    return out as T
  }
  return value
}
