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
const path = require('path')
// The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
const { createInvoker } = require('./sebs-core.js')

/**
 * A deliberate offset of this instance's clock (µs), for validating the
 * harness's clock-synchronisation on loopback, where both clocks are the same.
 */
const CLOCK_SKEW_US = Number(process.env.SEBS_CLOCK_SKEW_US || 0) || 0
/** Extra per-invocation counters (/proc/self/io, peak RSS of the invocation); rusage counters are always taken. */
const COLLECT_COUNTERS = process.env.SEBS_COLLECT_COUNTERS === '1'

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

/** Counters taken before the timed region (see `extraFields`). */
function beforeTiming() {
  return { ioBefore: COLLECT_COUNTERS ? readProcIo() : null, peakReset: COLLECT_COUNTERS ? resetPeakRss() : false }
}

/** The local provider's additions to the envelope: import time, counters, the memory limit applied. */
function extraFields({ state, usageBefore, usageAfter, importTimeUs }) {
  const ioAfter = state.ioBefore ? readProcIo() : null
  const peakKb = state.peakReset ? readVmHwmKb() : null
  const counters = {}
  for (const [name, key] of RUSAGE_COUNTERS) {
    counters[name] = { value: usageAfter[key] - usageBefore[key], source: 'rusage' }
  }
  if (state.ioBefore && ioAfter) {
    for (const [name, key] of IO_COUNTERS) {
      if (key in state.ioBefore && key in ioAfter) counters[name] = { value: ioAfter[key] - state.ioBefore[key], source: 'procfs' }
    }
  }
  if (peakKb !== null) counters['rss-peak-invocation-kb'] = { value: peakKb, source: 'procfs' }
  // rssPeakKb is inflated on Linux by the spawning process's RSS (carried over
  // fork and exec); the local provider replaces it with the instance's VmHWM,
  // read from outside after the client's timing (local-function.ts).
  const fields = { importTimeUs, counters }
  // What the local provider applied (limits.ts): records say whether the memory was enforced.
  if (process.env.SEBS_MEMORY_ENFORCED !== undefined) {
    fields.memoryEnforced = process.env.SEBS_MEMORY_ENFORCED === '1'
    fields.memoryLimitMb = Number(process.env.SEBS_MEMORY_LIMIT_MB)
    fields.memoryLimitMechanism = process.env.SEBS_MEMORY_LIMIT_MECHANISM
  }
  return fields
}

/**
 * Invokes the benchmark once. Never rejects: a throwing handler becomes an
 * envelope with `error` and `result: null`.
 */
const handle = createInvoker({
  load: () => require(path.join(__dirname, 'function', 'function.js')),
  functionFile: 'function/function.js',
  clockSkewUs: CLOCK_SKEW_US,
  // One process is one instance here.
  rememberContainer: true,
  beforeTiming,
  extraFields,
})

module.exports = { handle }
