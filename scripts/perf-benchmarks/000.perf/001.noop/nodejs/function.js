'use strict'
// 001.noop (npm run perf): answers at once, so a sample is the harness's own time.
exports.handler = async (e) => ({ result: { n: e.n } })
