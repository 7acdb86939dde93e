/**
 * End to end, as a user installs it (runs in a Vitest worker; spawns npm and
 * Vitest): `npm pack` this repository, install the tarball and Vitest into a
 * fresh project in a temporary folder outside the repository (its own
 * package.json, its own benchmark folder with a typed input.ts, a
 * vitest.config.ts importing 'serverless-benchmarks'), then run
 * `npx vitest bench` there and assert on the records it wrote.
 *
 * Runs twice from the same tarball: on this Node with the repository's
 * Vitest (or, from the environment, SEBS_INSTALL_TEST_NODE, a node binary to
 * put first on PATH, and SEBS_INSTALL_TEST_VITEST, a Vitest version), then on
 * Node 24 with Vitest 5 (test/support/node24-toolchain.ts).
 * npm reuses its cache (--prefer-offline), so the install reads the registry only for what it lacks.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'
import { installNode24Toolchain, VITEST_5_VERSION } from '../support/node24-toolchain.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const NODE = process.env.SEBS_INSTALL_TEST_NODE || process.execPath
const VITEST = process.env.SEBS_INSTALL_TEST_VITEST || (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.vitest!

/** The user's project: written file by file, as the README tells a user to. */
const PROJECT_FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'my-faas-benchmarks', private: true, type: 'module' }, null, 2),
  'vitest.config.ts': [
    "import { defineConfig } from 'vitest/config'",
    "import { sebs } from 'serverless-benchmarks'",
    '',
    "export default defineConfig({ plugins: [sebs({ benchmarks: ['./my-benchmarks'], repetitions: 3 })] })",
    '',
  ].join('\n'),
  'my-benchmarks/900.mine/901.greeting/config.json': JSON.stringify({ timeout: 10, memory: 128, languages: ['python', 'nodejs'] }),
  // Typed with the package's public benchmark types; loaded by Vitest's module runner (Node loads no .ts from node_modules code).
  'my-benchmarks/900.mine/901.greeting/input.ts': [
    "import type { GenerateInputContext, ValidateOutputContext } from 'serverless-benchmarks/benchmark'",
    '',
    'interface Greeting { name: string; size: string }',
    '',
    'export function generateInput(ctx: GenerateInputContext): Greeting {',
    "  return { name: 'world', size: ctx.size }",
    '}',
    '',
    'export function validateOutput(ctx: ValidateOutputContext): string | undefined {',
    '  const out = ctx.output as { greeting?: string } | null',
    "  return out?.greeting === 'hello world' ? undefined : `expected 'hello world', got ${JSON.stringify(ctx.output)}`",
    '}',
    '',
  ].join('\n'),
  'my-benchmarks/900.mine/901.greeting/nodejs/function.js': "exports.handler = async (event) => ({ result: { greeting: `hello ${event.name}` } })\n",
  'my-benchmarks/900.mine/901.greeting/nodejs/package.json': JSON.stringify({ name: 'greeting', version: '1.0.0' }),
  'my-benchmarks/900.mine/901.greeting/python/function.py': "def handler(event):\n    return {'result': {'greeting': 'hello ' + event['name']}}\n",
  'my-benchmarks/900.mine/901.greeting/python/requirements.txt': '',
}

let packDir = ''
let tarball = ''
let toolchainDir = ''

// `npm pack` runs prepack (the build), as `npm publish` would; both runs install this one tarball.
beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), 'sebs-pack-'))
  const pack = spawnSync('npm', ['pack', '--pack-destination', packDir, '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 })
  expect(pack.status, pack.stderr).toBe(0)
  tarball = join(packDir, pack.stdout.trim().split('\n').pop()!)
  expect(existsSync(tarball), `npm pack printed ${pack.stdout}`).toBe(true)
}, 600_000)

afterAll(() => {
  if (packDir) rmSync(packDir, { recursive: true, force: true })
  if (toolchainDir) rmSync(toolchainDir, { recursive: true, force: true })
})

/** Which node runs npm and Vitest in the user's project, and which Vitest it installs. */
interface Toolchain {
  node: string
  vitest: string
}

/**
 * The install and the user's commands on one toolchain. `toolchain` runs in
 * the suite's beforeAll (it may install one); `vitestMajor` is the major
 * Vitest's banner must show.
 */
function installedPackageSuite(label: string, toolchain: () => Toolchain, vitestMajor?: number) {
  describe(label, () => {
    let project = ''
    let node = ''

    /** Runs a command in the user's project with the chosen node first on PATH, without any cloud credentials. */
    function inProject(command: string, args: string[], extraEnv: Record<string, string> = {}, timeout = 600_000) {
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(process.env)) {
        // No credentials of any kind, and nothing of the outer Vitest or sebs run.
        if (v === undefined || /^(AWS_|AZURE_|SEBS_|VITEST|NODE_OPTIONS$|npm_)/.test(k)) continue
        env[k] = v
      }
      Object.assign(env, {
        PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
        FORCE_COLOR: '0',
        NO_COLOR: '1',
        // The AWS SDK's default chain must find nothing: no files, no instance metadata.
        AWS_CONFIG_FILE: join(project, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(project, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        PIP_RETRIES: '0',
        ...extraEnv,
      })
      const started = Date.now()
      const res = spawnSync(command, args, { cwd: project, env, encoding: 'utf8', timeout })
      return { code: res.status, out: res.stdout ?? '', err: res.stderr ?? '', all: `${res.stdout ?? ''}${res.stderr ?? ''}`, ms: Date.now() - started }
    }

    function runDirs(): string[] {
      const results = join(project, 'results')
      return existsSync(results) ? readdirSync(results).filter((d) => existsSync(join(results, d, 'run.json'))).sort() : []
    }

    function recordsOf(runId: string): InvocationRecord[] {
      return readFileSync(join(project, 'results', runId, 'invocations.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as InvocationRecord)
    }

    /** The banner names the Vitest major the run must be on. */
    function expectVitestMajor(all: string) {
      if (vitestMajor !== undefined) expect(all).toContain(`RUN  v${vitestMajor}.`)
    }

    beforeAll(() => {
      const tools = toolchain()
      node = tools.node
      project = mkdtempSync(join(tmpdir(), 'sebs-user-project-'))
      expect(project.startsWith(ROOT)).toBe(false)
      for (const [file, text] of Object.entries(PROJECT_FILES)) {
        mkdirSync(dirname(join(project, file)), { recursive: true })
        writeFileSync(join(project, file), text)
      }
      const install = inProject('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, `vitest@${tools.vitest}`])
      expect(install.code, install.all).toBe(0)
    }, 900_000)

    afterAll(() => {
      if (project) rmSync(project, { recursive: true, force: true })
    })
    it('ships built JavaScript only: no TypeScript sources, tests or fixtures', () => {
      const pkgDir = join(project, 'node_modules', 'serverless-benchmarks')
      const files = (readdirSync(pkgDir, { recursive: true }) as string[]).map((f) => f.replaceAll('\\', '/'))
      const offending = files.filter((f) => (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || /\.test\.|(^|\/)(test|tests|__fixtures__|fixtures|testing)(\/|$)|docs\/status/.test(f))
      expect(offending).toEqual([])
      expect(files).toContain('dist/plugin/index.js')
      expect(files).toContain('LICENSE')
    })

    it('`npx vitest bench --run` runs the project\'s own benchmark on the local provider and records valid invocations', () => {
      const res = inProject('npx', ['vitest', 'bench', '--run', 'my-benchmarks'])
      expect(res.code, res.all).toBe(0)
      expectVitestMajor(res.all)
      const runs = runDirs()
      expect(runs.length, res.all).toBe(1)
      const records = recordsOf(runs[0]!)
      for (const language of ['python', 'nodejs']) {
        const mine = records.filter((r) => r.benchmark === '901.greeting' && r.language === language)
        // One forced-cold invocation, then the configured 3 warm ones.
        expect(mine.map((r) => r.phase), res.all).toEqual(['cold', 'warm', 'warm', 'warm'])
        for (const r of mine) {
          expect(r.state).toBe('ok')
          expect(r.outputValid).toBe(true)
          expect(r.provider).toBe('local')
          expect(r.clientTimeUs).toBeGreaterThan(0)
        }
      }
      // Every output of a run, as with `sebs bench`.
      for (const file of ['summary.json', 'summary.csv', 'report.html']) expect(existsSync(join(project, 'results', runs[0]!, file)), file).toBe(true)
      expect(existsSync(join(project, 'results', 'index.json'))).toBe(true)
    }, 600_000)

    it('`npx sebs bench` runs in the project with its own config, and Vite prints no deprecation of the loader sebs chose', () => {
      const before = new Set(runDirs())
      const res = inProject('npx', ['sebs', 'bench', '-t', '901.greeting nodejs', '--repetitions', '1'])
      expect(res.code, res.all).toBe(0)
      // sebs leaves a user's config to Vitest's default loader (plugin/cli.ts configLoaderOption).
      expect(res.all).not.toMatch(/deprecated/i)
      const run = runDirs().find((d) => !before.has(d))
      expect(run, res.all).toBeDefined()
      const records = recordsOf(run!)
      expect(records.map((r) => `${r.benchmark} ${r.language} ${r.phase} ${r.state}`)).toEqual(['901.greeting nodejs cold ok', '901.greeting nodejs warm ok'])
    }, 600_000)

    it('runs a built-in benchmark from the installed package (-t 110.dynamic-html)', () => {
      const before = new Set(runDirs())
      const res = inProject('npx', ['vitest', 'bench', '--run', '-t', '110.dynamic-html'], { SEBS_LANGUAGE: 'nodejs' })
      expect(res.code, res.all).toBe(0)
      expectVitestMajor(res.all)
      const run = runDirs().find((d) => !before.has(d))
      expect(run, res.all).toBeDefined()
      const records = recordsOf(run!)
      expect(new Set(records.map((r) => r.benchmark))).toEqual(new Set(['110.dynamic-html']))
      expect(records.length).toBe(4)
      expect(records.every((r) => r.state === 'ok' && r.outputValid)).toBe(true)
    }, 600_000)

    it('`npx vitest bench --project aws` without credentials fails within seconds with the credentials message and no stack trace', () => {
      const res = inProject('npx', ['vitest', 'bench', '--run', '--project', 'aws'], {}, 120_000)
      expect(res.code, res.all).not.toBe(0)
      expect(res.all).toMatch(/CREDENTIALS_MISSING/)
      expect(res.all).toMatch(/AWS/)
      // A user error: the message, not a stack trace.
      expect(res.all).not.toMatch(/^\s+at .+[:(]\d+:\d+\)?$/m)
      // "Within seconds": generous for a loaded machine (npx and Vitest's own start are part of it).
      expect(res.ms).toBeLessThan(60_000)
    }, 180_000)
  })
}

installedPackageSuite(`installed package (node ${NODE === process.execPath ? process.version : NODE}, vitest ${VITEST})`, () => ({ node: NODE, vitest: VITEST }))

// The second major, from the same tarball: `vitest bench` on Vitest 5 makes a bench project of its own, so `--project aws` is the plugin's to consume.
installedPackageSuite(
  `installed package (node 24, vitest ${VITEST_5_VERSION})`,
  () => {
    toolchainDir = mkdtempSync(join(tmpdir(), 'sebs-node24-'))
    const node = installNode24Toolchain(toolchainDir)
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()).toMatch(/^v24\./)
    return { node, vitest: VITEST_5_VERSION }
  },
  5,
)
