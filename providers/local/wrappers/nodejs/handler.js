'use strict'
/**
 * Local provider wrapper (Node.js): runs the benchmark's `handler(event)` and
 * returns the common envelope (DESIGN.md "Wrapper envelope").
 *
 * Plain CommonJS with no dependencies: it is copied to the package root and
 * runs inside the function instance, not under the harness's TypeScript.
 *
 * Cold detection follows SeBS: the first invocation in an instance finds no
 * `cold_run` marker in the instance's temp directory, creates one holding a
 * fresh container id, and reports `isCold: true`; later invocations read the
 * id back. The provider gives every instance its own TMPDIR.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const { performance } = require('perf_hooks')

/** The benchmark module, required lazily inside the timed region (as SeBS does). */
let functionModule = null

/**
 * A deliberate offset of this instance's clock (µs), for validating the
 * harness's clock-synchronisation on loopback, where both clocks are the same.
 */
const CLOCK_SKEW_US = Number(process.env.SEBS_CLOCK_SKEW_US || 0) || 0
/** Extra per-invocation counters (/proc/self/io, peak RSS of the invocation); rusage counters are always taken. */
const COLLECT_COUNTERS = process.env.SEBS_COLLECT_COUNTERS === '1'

function epochMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) + CLOCK_SKEW_US
}

/** /proc/self/io as numbers (rchar, wchar, syscr, syscw, read_bytes, write_bytes), or null where it is unreadable. */
function readProcIo() {
  try {
    const out = {}
    for (const line of fs.readFileSync('/proc/self/io', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)$/.exec(line)
      if (m) out[m[1]] = Number(m[2])
    }
    return out
  } catch (err) {
    return null
  }
}

/** Resets the kernel's peak-RSS mark (VmHWM) so that the next read is this invocation's peak; false where not permitted. */
function resetPeakRss() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch (err) {
    return false
  }
}

function readVmHwmKb() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) : null
  } catch (err) {
    return null
  }
}

const RUSAGE_COUNTERS = [
  ['page-faults-minor', 'minorPageFault'],
  ['page-faults-major', 'majorPageFault'],
  ['context-switches-voluntary', 'voluntaryContextSwitches'],
  ['context-switches-involuntary', 'involuntaryContextSwitches'],
  ['fs-read-ops', 'fsRead'],
  ['fs-write-ops', 'fsWrite'],
]
const IO_COUNTERS = [
  ['io-read-chars', 'rchar'],
  ['io-write-chars', 'wchar'],
  ['io-read-syscalls', 'syscr'],
  ['io-write-syscalls', 'syscw'],
  ['io-read-bytes', 'read_bytes'],
  ['io-write-bytes', 'write_bytes'],
]

/**
 * The instance's container id once the marker exists. One process is one
 * instance here, so later calls need not read the marker file again (a file
 * read per invocation is a measurable share of a no-op's warm round trip).
 */
let knownContainerId = null

function containerState() {
  if (knownContainerId !== null) return { isCold: false, containerId: knownContainerId }
  const marker = path.join(os.tmpdir(), 'cold_run')
  try {
    const id = fs.readFileSync(marker, 'utf8').trim()
    if (id) {
      knownContainerId = id
      return { isCold: false, containerId: id }
    }
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  const id = crypto.randomUUID().replace(/-/g, '').slice(0, 8)
  fs.writeFileSync(marker, id)
  knownContainerId = id
  return { isCold: true, containerId: id }
}

function describeError(err) {
  if (err instanceof Error) {
    return { type: err.name || 'Error', message: err.message, trace: err.stack }
  }
  return { type: typeof err, message: String(err) }
}

/**
 * Invokes the benchmark once. Never rejects: a throwing handler becomes an
 * envelope with `error` and `result: null`.
 */
async function handle(event, requestId) {
  const incomeTimestamp = Date.now() / 1000 + CLOCK_SKEW_US / 1e6
  // SeBS's Python wrappers add these two fields; 030.clock-synchronization reads them.
  if (event !== null && typeof event === 'object' && !Array.isArray(event)) {
    event['request-id'] = requestId
    event['income-timestamp'] = incomeTimestamp
  }

  const ioBefore = COLLECT_COUNTERS ? readProcIo() : null
  const peakReset = COLLECT_COUNTERS ? resetPeakRss() : false
  const usageBefore = process.resourceUsage()
  const begin = epochMicros()
  const start = process.hrtime.bigint()
  let result = null
  let measurement
  let error
  let importTimeUs = 0
  try {
    if (functionModule === null) {
      const importStart = process.hrtime.bigint()
      functionModule = require(path.join(__dirname, 'function', 'function.js'))
      importTimeUs = Number((process.hrtime.bigint() - importStart) / 1000n)
    }
    if (typeof functionModule.handler !== 'function') {
      throw new TypeError('function/function.js does not export a handler(event) function')
    }
    const ret = await functionModule.handler(event)
    // SeBS handlers return { result, measurement? }; anything else is taken as the result itself.
    if (ret !== null && typeof ret === 'object' && !Array.isArray(ret) && 'result' in ret) {
      result = ret.result === undefined ? null : ret.result
      if (ret.measurement !== null && typeof ret.measurement === 'object') measurement = ret.measurement
    } else {
      result = ret === undefined ? null : ret
    }
  } catch (err) {
    error = describeError(err)
    result = null
    measurement = undefined
  }
  const computeTimeUs = Number((process.hrtime.bigint() - start) / 1000n)
  const end = epochMicros()
  const usageAfter = process.resourceUsage()
  const ioAfter = ioBefore ? readProcIo() : null
  const peakKb = peakReset ? readVmHwmKb() : null
  const { isCold, containerId } = containerState()

  const counters = {}
  for (const [name, key] of RUSAGE_COUNTERS) {
    counters[name] = { value: usageAfter[key] - usageBefore[key], source: 'rusage' }
  }
  if (ioBefore && ioAfter) {
    for (const [name, key] of IO_COUNTERS) {
      if (key in ioBefore && key in ioAfter) counters[name] = { value: ioAfter[key] - ioBefore[key], source: 'procfs' }
    }
  }
  if (peakKb !== null) counters['rss-peak-invocation-kb'] = { value: peakKb, source: 'procfs' }

  const envelope = {
    begin,
    end,
    computeTimeUs,
    isCold,
    containerId,
    requestId,
    result,
    // Inflated on Linux by the spawning process's RSS (carried over fork and
    // exec); the local provider replaces it with the instance's VmHWM, read
    // from outside after the client's timing (local-function.ts).
    rssPeakKb: usageAfter.maxRSS,
    cpuUserUs: usageAfter.userCPUTime - usageBefore.userCPUTime,
    cpuSystemUs: usageAfter.systemCPUTime - usageBefore.systemCPUTime,
    importTimeUs,
    counters,
  }
  // What the local provider applied (limits.ts): records say whether the memory was enforced.
  if (process.env.SEBS_MEMORY_ENFORCED !== undefined) {
    envelope.memoryEnforced = process.env.SEBS_MEMORY_ENFORCED === '1'
    envelope.memoryLimitMb = Number(process.env.SEBS_MEMORY_LIMIT_MB)
    envelope.memoryLimitMechanism = process.env.SEBS_MEMORY_LIMIT_MECHANISM
  }
  if (measurement !== undefined) envelope.measurement = measurement
  if (error !== undefined) envelope.error = error
  return envelope
}

module.exports = { handle }
