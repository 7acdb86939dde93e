/**
 * A fake AWS control plane for tests, on aws-sdk-client-mock: Lambda, IAM,
 * CloudWatch Logs and STS answer with responses and errors shaped like the
 * AWS API reference, while the invoke path is real:
 *
 * - CreateFunction/UpdateFunctionCode unpack the zip the provider built;
 * - InvokeCommand runs the packaged handler in a Lambda-like execution
 *   environment (a child process per environment, reused while warm, its
 *   own TMPDIR, only Lambda's environment variables — never the test's
 *   credentials), enforces the timeout and memory size, and returns the
 *   payload with a base64 LogResult ending in a REPORT line;
 * - configuration and code updates retire the environments (a forced cold
 *   start really is cold), and report Pending / InProgress for a few reads,
 *   during which further updates fail with ResourceConflictException;
 * - Function URLs are served by a loopback HTTP server that builds payload
 *   2.0 events and checks the two public permissions;
 * - REPORT lines land in a log store that Logs Insights queries read;
 * - what Lambda refuses is refused: runtimes it does not accept (unknown, or
 *   blocked for creation: python3.9, python3.10, nodejs18.x, nodejs20.x at
 *   the fake's date), architectures other than x86_64/arm64, memory above
 *   the account's limit (`memoryLimitMb`, e.g. a new account's 3,008 MB);
 * - IAM's policy simulator answers from the managed policies attached to a
 *   role, so a role without S3/DynamoDB/Logs permissions is seen as such.
 *
 * S3 and DynamoDB are not faked: tests point the provider at s3rver and
 * dynalite through endpoint overrides.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import {
  CloudWatchLogsClient,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  GetQueryResultsCommand,
  ResourceNotFoundException as LogsNotFound,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs'
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  NoSuchEntityException,
  SimulatePrincipalPolicyCommand,
  type Tag as IamTag,
} from '@aws-sdk/client-iam'
import {
  AddPermissionCommand,
  type AddPermissionRequest,
  CreateFunctionCommand,
  type CreateFunctionRequest,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionUrlConfigCommand,
  InvalidParameterValueException,
  InvalidRequestContentException,
  InvokeCommand,
  type InvocationRequest,
  LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateFunctionCodeCommand,
  type UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationCommand,
  type UpdateFunctionConfigurationRequest,
} from '@aws-sdk/client-lambda'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { type AwsStub, mockClient } from 'aws-sdk-client-mock'
import yauzl from 'yauzl'

// The stubs serve several command types each; their precise generics add nothing here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStub = AwsStub<any, any, any>

const here = dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = resolve(here, '..', '..', '..')

export interface FakeAwsOptions {
  /** Scratch directory: unpacked code and per-environment TMPDIRs. */
  workDir: string
  region?: string
  accountId?: string
  /** What Lambda puts in the environments' AWS_* variables (the execution role's credentials). */
  roleCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Role ARNs that exist without CreateRole (a configured `roleArn`). */
  existingRoleArns?: string[]
  /** Reads of GetFunctionConfiguration that still report Pending / InProgress after a change. */
  settleReads?: number
  /** CreateFunction calls with a just-created role that fail "cannot be assumed" (IAM propagation). */
  rolePropagationFailures?: number
  /** How long a REPORT line takes to become visible to Logs Insights, ms. */
  logDelayMs?: number
  /** Page size of ListFunctions / DescribeLogGroups. */
  pageSize?: number
  /** Where S3Bucket/S3Key code is fetched from (s3rver). */
  s3?: { endpoint: string; accessKeyId: string; secretAccessKey: string; region?: string }
  /** Node's module path inside environments: the runtime-provided AWS SDK (/var/runtime/node_modules). */
  nodePath?: string
  python?: string
  node?: string
  /** Answer STS GetCallerIdentity (default true). */
  mockSts?: boolean
  /** The account's per-function memory limit, MB (default 10,240; new accounts often have 3,008). */
  memoryLimitMb?: number
  /** Managed policy names attached to each of `existingRoleArns` (default: S3, DynamoDB and basic execution). */
  existingRolePolicies?: Record<string, string[]>
}

/** Runtimes the fake Lambda creates functions with (its date: after 2026-11-30). */
export const FAKE_CREATABLE_RUNTIMES = ['python3.11', 'python3.12', 'python3.13', 'python3.14', 'nodejs22.x', 'nodejs24.x']
/** Runtimes Lambda knows but no longer creates functions with. */
export const FAKE_BLOCKED_RUNTIMES = ['python3.8', 'python3.9', 'python3.10', 'nodejs16.x', 'nodejs18.x', 'nodejs20.x']

/** What the AWS-managed policies the suite uses allow (action prefixes), for the policy simulator. */
const MANAGED_POLICY_ACTIONS: Record<string, string[]> = {
  AmazonS3FullAccess: ['s3:'],
  AmazonDynamoDBFullAccess: ['dynamodb:'],
  AWSLambdaBasicExecutionRole: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
  AWSLambdaExecute: ['logs:', 's3:GetObject', 's3:PutObject'],
}
const DEFAULT_EXTERNAL_POLICIES = ['AmazonS3FullAccess', 'AmazonDynamoDBFullAccess', 'AWSLambdaBasicExecutionRole']

interface Statement extends AddPermissionRequest {}

interface LogEvent {
  timestamp: number
  message: string
  visibleAt: number
}

interface FakeRole {
  name: string
  arn: string
  created: Date
  tags: IamTag[]
  attached: Set<string>
  inline: Set<string>
  propagationFailuresLeft: number
}

interface InvocationOutcome {
  status: 'ok' | 'error' | 'timeout' | 'crash' | 'oom'
  payload: string
  durationMs: number
  initDurationMs?: number
  maxMemoryMb: number
  log: string[]
  errorType?: string
}

/** One execution environment: a runtime process, reused while warm. */
class Environment {
  readonly tmpDir: string
  proc!: ChildProcess
  busy = false
  dead = false
  initDurationMs = 0
  initLog: string[] = []
  private log: string[] = []
  private waiting: ((msg: Record<string, unknown> | { type: 'exit'; code: number | null; signal: string | null }) => void) | undefined
  private lastHwmKb = 0

  constructor(
    readonly fn: FakeFunction,
    readonly generation: number,
    tmpDir: string,
  ) {
    this.tmpDir = tmpDir
  }

  async start(fake: FakeAws): Promise<{ ok: true } | { ok: false; errorType: string; errorMessage: string }> {
    const cfg = this.fn.config
    const python = (cfg.Runtime ?? '').startsWith('python')
    const runtimeScript = python ? join(here, 'runtime', 'python_runtime.py') : join(here, 'runtime', 'node-runtime.cjs')
    const cmd = python ? fake.python : fake.node
    const args = python ? ['-u', runtimeScript, this.fn.codeDir, cfg.Handler ?? ''] : [runtimeScript, this.fn.codeDir, cfg.Handler ?? '']
    const creds = fake.roleCredentials
    // Only what Lambda itself sets, plus the function's variables: the test
    // process's environment (and its credentials) must not leak in.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: this.tmpDir,
      TMPDIR: this.tmpDir,
      LAMBDA_TASK_ROOT: this.fn.codeDir,
      AWS_EXECUTION_ENV: `AWS_Lambda_${cfg.Runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: cfg.FunctionName ?? '',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(cfg.MemorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${cfg.FunctionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStream,
      AWS_REGION: fake.region,
      AWS_DEFAULT_REGION: fake.region,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
      ...(python ? { PYTHONDONTWRITEBYTECODE: '1' } : { NODE_PATH: fake.nodePath }),
      ...(cfg.Environment?.Variables ?? {}),
    }
    const t0 = performance.now()
    this.proc = spawn(cmd, args, { cwd: this.fn.codeDir, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
    const capture = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) this.log.push(line)
    }
    this.proc.stdout?.on('data', capture)
    this.proc.stderr?.on('data', capture)
    const channel = this.proc.stdio[3] as NodeJS.ReadableStream
    createInterface({ input: channel }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>
      const w = this.waiting
      this.waiting = undefined
      w?.(msg)
    })
    this.proc.on('exit', (code, signal) => {
      this.dead = true
      const w = this.waiting
      this.waiting = undefined
      w?.({ type: 'exit', code, signal })
    })
    // Lambda gives the init phase 10 s.
    const first = await this.next(10_000)
    this.initDurationMs = performance.now() - t0
    this.initLog = this.takeLog()
    if (first.type === 'ready') return { ok: true }
    this.kill()
    if (first.type === 'init-error') {
      return { ok: false, errorType: String(first.errorType), errorMessage: String(first.errorMessage) }
    }
    return { ok: false, errorType: 'Runtime.ExitError', errorMessage: `Runtime exited during init: ${JSON.stringify(first)}` }
  }

  readonly logStream = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomBytes(16).toString('hex')}`

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        this.waiting = undefined
        resolvePromise({ type: 'timeout' })
      }, timeoutMs)
      this.waiting = (msg) => {
        clearTimeout(timer)
        resolvePromise(msg as Record<string, unknown>)
      }
    })
  }

  takeLog(): string[] {
    const out = this.log
    this.log = []
    return out
  }

  /** Peak resident memory of the environment (VmHWM), MB. */
  maxMemoryMb(): number {
    try {
      const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8')
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
      if (kb > 0) this.lastHwmKb = kb
    } catch {
      // The process is gone: keep the last reading.
    }
    return Math.ceil(this.lastHwmKb / 1024)
  }

  async invoke(requestId: string, event: unknown, timeoutMs: number): Promise<Omit<InvocationOutcome, 'log' | 'initDurationMs'> & { log: string[] }> {
    const cfg = this.fn.config
    const started = performance.now()
    const message = {
      requestId,
      event,
      deadlineMs: Date.now() + timeoutMs,
      functionName: cfg.FunctionName,
      functionArn: cfg.FunctionArn,
      memory: cfg.MemorySize,
      logGroup: `/aws/lambda/${cfg.FunctionName}`,
      logStream: this.logStream,
    }
    const reply = this.next(timeoutMs)
    this.proc.stdin?.write(JSON.stringify(message) + '\n')
    const msg = await reply
    const durationMs = performance.now() - started
    const memory = this.maxMemoryMb()
    // Give stdout/stderr a moment to deliver the invocation's last lines.
    await new Promise((r) => setImmediate(r))
    const log = this.takeLog()
    const limit = cfg.MemorySize ?? 128
    if (msg.type === 'timeout') {
      this.kill()
      return { status: 'timeout', payload: '', durationMs: timeoutMs, maxMemoryMb: memory, log }
    }
    if (msg.type === 'exit') {
      const how = msg.signal ? `signal: ${String(msg.signal).toLowerCase().replace('sig', '')}` : `exit status ${msg.code}`
      return {
        status: 'crash',
        payload: JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}` }),
        durationMs,
        maxMemoryMb: memory,
        log,
        errorType: 'Runtime.ExitError',
      }
    }
    if (memory > limit) {
      // Lambda kills an environment that outgrows its memory size.
      this.kill()
      return {
        status: 'oom',
        payload: JSON.stringify({
          errorType: 'Runtime.OutOfMemory',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
        }),
        durationMs,
        maxMemoryMb: limit,
        log,
        errorType: 'Runtime.OutOfMemory',
      }
    }
    if (msg.type === 'result') return { status: 'ok', payload: String(msg.payload), durationMs, maxMemoryMb: memory, log }
    // An exception escaped the handler: Lambda's "Unhandled" function error.
    const python = (cfg.Runtime ?? '').startsWith('python')
    const body = python
      ? { errorMessage: msg.errorMessage, errorType: msg.errorType, requestId, stackTrace: msg.stackTrace ?? [] }
      : { errorType: msg.errorType, errorMessage: msg.errorMessage, trace: msg.trace ?? [] }
    return { status: 'error', payload: JSON.stringify(body), durationMs, maxMemoryMb: memory, log }
  }

  kill(): void {
    if (!this.dead) this.proc.kill('SIGKILL')
    this.dead = true
  }

  /** Whether the runtime process still exists (not merely marked for retirement). */
  alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** Kills the process and resolves once it is gone. */
  async stop(): Promise<void> {
    if (!this.proc || !this.alive()) return
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()))
    this.kill()
    await gone
  }
}

export interface FakeFunction {
  config: FunctionConfiguration
  tags: Record<string, string>
  codeDir: string
  zipSha: string
  settleReadsLeft: number
  generation: number
  environments: Environment[]
  url?: { FunctionUrl: string; AuthType: string; urlId: string; CreationTime: string; InvokeMode?: string }
  policy: Statement[]
  invocations: number
  activationFailure?: { reasonCode: string; reason: string }
}

function lambdaError<T extends new (opts: never) => Error>(Cls: T, message: string, status: number, extra: Record<string, unknown> = {}): Error {
  return new Cls({ message, $metadata: { httpStatusCode: status }, ...extra } as never)
}

/** An error the SDK would deserialize for a type it does not model (e.g. a 413). */
function genericError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } })
}

/** Unpacks a zip (modes and symlinks kept) into `dest`; returns the unpacked size. */
export async function extractZip(zip: Buffer, dest: string): Promise<number> {
  await mkdir(dest, { recursive: true })
  const file = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => (err || !z ? rej(err) : res(z))),
  )
  let total = 0
  await new Promise<void>((res, rej) => {
    file.on('error', rej)
    file.on('end', () => res())
    file.on('entry', (entry: yauzl.Entry) => {
      const target = join(dest, entry.fileName)
      if (!target.startsWith(dest)) return rej(new Error(`zip entry escapes: ${entry.fileName}`))
      const mode = (entry.externalFileAttributes >>> 16) & 0o177777
      if (entry.fileName.endsWith('/')) {
        mkdir(target, { recursive: true }).then(() => file.readEntry(), rej)
        return
      }
      file.openReadStream(entry, (err, stream) => {
        if (err || !stream) return rej(err)
        total += entry.uncompressedSize
        ;(async () => {
          await mkdir(dirname(target), { recursive: true })
          if ((mode & 0o170000) === 0o120000) {
            const chunks: Buffer[] = []
            for await (const c of stream) chunks.push(c as Buffer)
            await symlink(Buffer.concat(chunks).toString('utf8'), target)
          } else {
            await pipeline(stream, createWriteStream(target))
            if (mode & 0o111) await chmod(target, 0o755)
          }
        })().then(() => file.readEntry(), rej)
      })
    })
    file.readEntry()
  })
  return total
}

const QUERY_FILTER = /filter\s+@message\s+like\s+\/(.+?)\//

export class FakeAws {
  readonly region: string
  readonly accountId: string
  readonly roleCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  readonly functions = new Map<string, FakeFunction>()
  readonly roles = new Map<string, FakeRole>()
  readonly logGroups = new Map<string, { created: number; events: LogEvent[] }>()
  /** Every mocked command, in order: `Lambda.CreateFunction`, `IAM.GetRole`, … */
  readonly calls: Array<{ service: string; command: string; input: unknown }> = []
  readonly nodePath: string
  readonly python: string
  readonly node: string
  lambda!: AnyStub
  iam!: AnyStub
  logs!: AnyStub
  sts?: AnyStub
  urlBase = ''
  /** Answer this many more Function URL requests 403, as while new permissions propagate. */
  urlPropagationDenials = 0
  /** When set, the next created function ends in State Failed with this reason. */
  failNextActivation?: { reasonCode: string; reason: string }
  private server?: Server
  private readonly failures = new Map<string, Array<() => Error>>()
  private readonly queries = new Map<string, { group: string; start: number; end: number; regex?: RegExp; polls: number; limit: number }>()
  private readonly options: FakeAwsOptions

  constructor(options: FakeAwsOptions) {
    this.options = options
    this.region = options.region ?? 'us-east-1'
    this.accountId = options.accountId ?? '123456789012'
    this.roleCredentials = options.roleCredentials ?? {
      accessKeyId: 'ASIAFAKEROLEKEY00001',
      secretAccessKey: 'fake-role-secret',
      sessionToken: 'fake-role-session',
    }
    this.nodePath = options.nodePath ?? join(REPO_ROOT, 'node_modules')
    this.python = options.python ?? 'python3'
    this.node = options.node ?? process.execPath
  }

  /** Installs the mocks and starts the Function URL server. */
  async start(): Promise<this> {
    await mkdir(this.options.workDir, { recursive: true })
    this.server = createServer((req, res) => {
      this.serveUrl(req, res).catch((err) => {
        res.statusCode = 500
        res.end(String(err))
      })
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.urlBase = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    this.installLambda()
    this.installIam()
    this.installLogs()
    if (this.options.mockSts !== false) {
      this.sts = mockClient(STSClient) as unknown as AnyStub
      this.sts.on(GetCallerIdentityCommand as never).callsFake(async (input: unknown) => {
        this.record('STS', 'GetCallerIdentity', input)
        return { Account: this.accountId, Arn: `arn:aws:iam::${this.accountId}:user/sebs-test`, UserId: 'AIDAFAKEUSER' }
      })
    }
    return this
  }

  async stop(): Promise<void> {
    await Promise.all([...this.functions.values()].flatMap((fn) => fn.environments.map((e) => e.stop())))
    this.lambda?.restore()
    this.iam?.restore()
    this.logs?.restore()
    this.sts?.restore()
    const server = this.server
    this.server = undefined
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }

  /** The next `times` calls of `command` (e.g. 'UpdateFunctionConfiguration') fail with `error()`. */
  failNext(command: string, error: () => Error, times = 1): void {
    const list = this.failures.get(command) ?? []
    for (let i = 0; i < times; i++) list.push(error)
    this.failures.set(command, list)
  }

  /** Throttling as Lambda's control plane answers it. */
  static throttle(): Error {
    return lambdaError(TooManyRequestsException, 'Rate exceeded', 429, { Reason: 'CallerRateLimitExceeded', retryAfterSeconds: '1' })
  }

  /** Live runtime processes of a function (its warm and busy environments). */
  liveEnvironments(name: string): () => Promise<number> {
    const fn = this.functions.get(name)
    const all = new Set<Environment>()
    return async () => {
      for (const e of fn?.environments ?? []) all.add(e)
      return [...all].filter((e) => e.alive()).length
    }
  }

  commandCount(service: string, command?: string): number {
    return this.calls.filter((c) => c.service === service && (command === undefined || c.command === command)).length
  }

  private record(service: string, command: string, input: unknown): void {
    this.calls.push({ service, command, input })
    const injected = this.failures.get(command)?.shift()
    if (injected) throw injected()
  }

  private arn(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`
  }

  private fn(nameOrArn: string | undefined): FakeFunction {
    const name = (nameOrArn ?? '').replace(/^arn:aws:lambda:[^:]+:\d+:function:/, '').replace(/:\$LATEST$/, '')
    const fn = this.functions.get(name)
    if (!fn) throw lambdaError(ResourceNotFoundException, `Function not found: ${this.arn(name)}`, 404, { Type: 'User' })
    return fn
  }

  private assertSettled(fn: FakeFunction): void {
    if (fn.config.State !== 'Active' || fn.config.LastUpdateStatus === 'InProgress') {
      throw lambdaError(
        ResourceConflictException,
        `The operation cannot be performed at this time. An update is in progress for resource: ${fn.config.FunctionArn}`,
        409,
        { Type: 'User' },
      )
    }
  }

  private async code(input: { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string }): Promise<Buffer> {
    if (input.ZipFile) {
      // The API's body limit: 69905067 bytes of base64, i.e. 50 MiB of zip.
      if (input.ZipFile.length > 52_428_800) {
        throw genericError('RequestEntityTooLargeException', 'Request must be smaller than 69905067 bytes for the CreateFunction operation', 413)
      }
      return Buffer.from(input.ZipFile)
    }
    if (input.S3Bucket && input.S3Key) {
      const s3 = this.options.s3
      if (!s3) throw lambdaError(InvalidParameterValueException, 'Error occurred while GetObject. S3 Error Code: NoSuchBucket', 400)
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region ?? this.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      })
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: input.S3Bucket, Key: input.S3Key }))
        return Buffer.from(await out.Body!.transformToByteArray())
      } catch (err) {
        throw lambdaError(
          InvalidParameterValueException,
          `Error occurred while GetObject. S3 Error Code: ${(err as Error).name}. S3 Error Message: ${(err as Error).message}`,
          400,
        )
      } finally {
        client.destroy()
      }
    }
    throw lambdaError(InvalidParameterValueException, 'Please provide a source for function code.', 400)
  }

  private async unpack(fn: { codeDir: string }, zip: Buffer): Promise<void> {
    await rm(fn.codeDir, { recursive: true, force: true })
    let size: number
    try {
      size = await extractZip(zip, fn.codeDir)
    } catch (err) {
      throw lambdaError(InvalidParameterValueException, `Could not unzip uploaded file. Please check your file, then try to upload again. (${(err as Error).message})`, 400)
    }
    if (size > 262_144_000) {
      throw lambdaError(InvalidParameterValueException, 'Unzipped size must be smaller than 262144000 bytes', 400)
    }
  }

  /** Memory outside 128..10240, or above the account's limit: Lambda's own wording. */
  private checkMemory(memory: number | undefined): void {
    if (memory === undefined) return
    if (memory < 128 || memory > 10240) {
      throw lambdaError(InvalidParameterValueException, "'MemorySize' value failed to satisfy constraint: Member must have value between 128 and 10240", 400)
    }
    const limit = this.options.memoryLimitMb ?? 10240
    if (memory > limit) {
      throw lambdaError(InvalidParameterValueException, `'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to ${limit}`, 400)
    }
  }

  private checkRuntime(runtime: string | undefined): void {
    if (runtime === undefined) return
    if (FAKE_BLOCKED_RUNTIMES.includes(runtime)) {
      throw lambdaError(
        InvalidParameterValueException,
        `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
        400,
      )
    }
    if (!FAKE_CREATABLE_RUNTIMES.includes(runtime)) {
      throw genericError(
        'ValidationException',
        `1 validation error detected: Value '${runtime}' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${FAKE_CREATABLE_RUNTIMES.join(', ')}, ...]`,
        400,
      )
    }
  }

  private checkArchitectures(architectures: string[] | undefined): void {
    if (architectures === undefined) return
    if (architectures.length !== 1 || !['x86_64', 'arm64'].includes(architectures[0]!)) {
      throw genericError(
        'ValidationException',
        `1 validation error detected: Value '[${architectures.join(', ')}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]`,
        400,
      )
    }
  }

  /** A role that exists before the run (SeBS's own, or one a failed run created), with managed policies by name. */
  addRole(name: string, options: { policies?: string[]; createdAt?: Date; tags?: IamTag[] } = {}): string {
    const arn = `arn:aws:iam::${this.accountId}:role/${name}`
    this.roles.set(name, {
      name,
      arn,
      created: options.createdAt ?? new Date(Date.now() - 24 * 3600_000),
      tags: options.tags ?? [],
      attached: new Set((options.policies ?? []).map((p) => `arn:aws:iam::aws:policy/${p === 'AWSLambdaBasicExecutionRole' ? 'service-role/' : ''}${p}`)),
      inline: new Set(),
      // An old role has propagated long ago; a young one has not yet.
      propagationFailuresLeft: options.createdAt && Date.now() - options.createdAt.getTime() < 60_000 ? (this.options.rolePropagationFailures ?? 1) : 0,
    })
    return arn
  }

  private roleUsable(roleArn: string | undefined): FakeRole | 'external' | undefined {
    if (!roleArn) return undefined
    if (this.options.existingRoleArns?.includes(roleArn)) return 'external'
    return [...this.roles.values()].find((r) => r.arn === roleArn)
  }

  private retire(fn: FakeFunction): void {
    fn.generation++
    for (const e of fn.environments) if (!e.busy) e.kill()
    fn.environments = fn.environments.filter((e) => e.busy)
  }

  private startUpdate(fn: FakeFunction): void {
    fn.config.LastUpdateStatus = 'InProgress'
    fn.config.LastUpdateStatusReason = 'The function is being updated.'
    fn.config.LastUpdateStatusReasonCode = 'Updating' as never
    fn.config.RevisionId = randomUUID()
    fn.config.LastModified = new Date().toISOString().replace('Z', '+0000')
    fn.settleReadsLeft = this.options.settleReads ?? 2
    this.retire(fn)
  }

  private settle(fn: FakeFunction): void {
    if (fn.settleReadsLeft > 0) {
      fn.settleReadsLeft--
      return
    }
    if (fn.config.State === 'Pending' && fn.activationFailure) {
      fn.config.State = 'Failed'
      fn.config.StateReason = fn.activationFailure.reason
      fn.config.StateReasonCode = fn.activationFailure.reasonCode as never
      fn.config.LastUpdateStatus = 'Failed'
      return
    }
    if (fn.config.State === 'Pending') {
      fn.config.State = 'Active'
      fn.config.StateReason = undefined
      fn.config.StateReasonCode = undefined
      fn.config.LastUpdateStatus = 'Successful'
    }
    if (fn.config.LastUpdateStatus === 'InProgress') {
      fn.config.LastUpdateStatus = 'Successful'
      fn.config.LastUpdateStatusReason = undefined
      fn.config.LastUpdateStatusReasonCode = undefined
    }
  }

  private snapshot(fn: FakeFunction): FunctionConfiguration {
    return structuredClone(fn.config)
  }

  private installLambda(): void {
    const stub = mockClient(LambdaClient) as unknown as AnyStub
    this.lambda = stub
    const on = <I>(cmd: unknown, name: string, handler: (input: I) => unknown) =>
      stub.on(cmd as never).callsFake(async (input: I) => {
        this.record('Lambda', name, input)
        return handler(input)
      })

    on(CreateFunctionCommand, 'CreateFunction', async (input: CreateFunctionRequest) => {
      const name = input.FunctionName ?? ''
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
        throw lambdaError(
          InvalidParameterValueException,
          `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
          400,
        )
      }
      if (this.functions.has(name)) {
        throw lambdaError(ResourceConflictException, `Function already exist: ${name}`, 409, { Type: 'User' })
      }
      this.checkMemory(input.MemorySize)
      this.checkRuntime(input.Runtime)
      this.checkArchitectures(input.Architectures)
      if ((input.Timeout ?? 3) < 1 || (input.Timeout ?? 3) > 900) {
        throw lambdaError(InvalidParameterValueException, "'Timeout' value failed to satisfy constraint: Member must have value between 1 and 900", 400)
      }
      const role = this.roleUsable(input.Role)
      if (!role || (role !== 'external' && role.propagationFailuresLeft > 0)) {
        if (role) role.propagationFailuresLeft--
        throw lambdaError(InvalidParameterValueException, 'The role defined for the function cannot be assumed by Lambda.', 400, { Type: 'User' })
      }
      const vars = input.Environment?.Variables ?? {}
      if (JSON.stringify(vars).length > 4096) {
        throw lambdaError(
          InvalidParameterValueException,
          'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.',
          400,
        )
      }
      const zip = await this.code(input.Code ?? {})
      const fn: FakeFunction = {
        config: {
          FunctionName: name,
          FunctionArn: this.arn(name),
          Runtime: input.Runtime,
          Role: input.Role,
          Handler: input.Handler,
          CodeSize: zip.length,
          Description: input.Description ?? '',
          Timeout: input.Timeout ?? 3,
          MemorySize: input.MemorySize ?? 128,
          LastModified: new Date().toISOString().replace('Z', '+0000'),
          CodeSha256: createHash('sha256').update(zip).digest('base64'),
          Version: '$LATEST',
          Environment: { Variables: { ...vars } },
          TracingConfig: { Mode: 'PassThrough' },
          RevisionId: randomUUID(),
          State: 'Pending',
          StateReason: 'The function is being created.',
          StateReasonCode: 'Creating',
          PackageType: 'Zip',
          Architectures: input.Architectures ?? ['x86_64'],
          EphemeralStorage: { Size: 512 },
          LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${name}` },
        },
        tags: { ...(input.Tags ?? {}) },
        codeDir: join(this.options.workDir, 'functions', name, randomBytes(4).toString('hex')),
        zipSha: createHash('sha256').update(zip).digest('base64'),
        settleReadsLeft: this.options.settleReads ?? 2,
        generation: 0,
        environments: [],
        policy: [],
        invocations: 0,
        activationFailure: this.failNextActivation,
      }
      this.failNextActivation = undefined
      await this.unpack(fn, zip)
      this.functions.set(name, fn)
      return this.snapshot(fn)
    })

    on(GetFunctionConfigurationCommand, 'GetFunctionConfiguration', async (input: { FunctionName?: string }) => {
      const fn = this.fn(input.FunctionName)
      const out = this.snapshot(fn)
      this.settle(fn)
      return out
    })

    on(GetFunctionCommand, 'GetFunction', async (input: { FunctionName?: string }) => {
      const fn = this.fn(input.FunctionName)
      const out = this.snapshot(fn)
      this.settle(fn)
      return {
        Configuration: out,
        Code: { RepositoryType: 'S3', Location: `https://awslambda-${this.region}-tasks.s3.${this.region}.amazonaws.com/snapshots/x` },
        Tags: { ...fn.tags },
      }
    })

    on(UpdateFunctionCodeCommand, 'UpdateFunctionCode', async (input: UpdateFunctionCodeRequest) => {
      const fn = this.fn(input.FunctionName)
      this.assertSettled(fn)
      this.checkArchitectures(input.Architectures)
      const zip = await this.code(input)
      fn.codeDir = join(this.options.workDir, 'functions', fn.config.FunctionName ?? '', randomBytes(4).toString('hex'))
      await this.unpack(fn, zip)
      fn.config.CodeSha256 = createHash('sha256').update(zip).digest('base64')
      fn.config.CodeSize = zip.length
      if (input.Architectures) fn.config.Architectures = input.Architectures
      this.startUpdate(fn)
      return this.snapshot(fn)
    })

    on(UpdateFunctionConfigurationCommand, 'UpdateFunctionConfiguration', async (input: UpdateFunctionConfigurationRequest) => {
      const fn = this.fn(input.FunctionName)
      this.assertSettled(fn)
      this.checkMemory(input.MemorySize)
      // Lambda refuses a blocked runtime on update only when the update sets it.
      if (input.Runtime !== undefined && input.Runtime !== fn.config.Runtime) this.checkRuntime(input.Runtime)
      if (input.RevisionId && input.RevisionId !== fn.config.RevisionId) {
        throw lambdaError(
          PreconditionFailedException,
          'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
          412,
          { Type: 'User' },
        )
      }
      if (input.MemorySize !== undefined) fn.config.MemorySize = input.MemorySize
      if (input.Timeout !== undefined) fn.config.Timeout = input.Timeout
      if (input.Runtime !== undefined) fn.config.Runtime = input.Runtime
      if (input.Handler !== undefined) fn.config.Handler = input.Handler
      if (input.Role !== undefined) fn.config.Role = input.Role
      if (input.Environment !== undefined) fn.config.Environment = { Variables: { ...(input.Environment.Variables ?? {}) } }
      this.startUpdate(fn)
      return this.snapshot(fn)
    })

    on(DeleteFunctionCommand, 'DeleteFunction', async (input: { FunctionName?: string }) => {
      const fn = this.fn(input.FunctionName)
      await Promise.all(fn.environments.map((e) => e.stop()))
      this.functions.delete(fn.config.FunctionName ?? '')
      await rm(dirname(fn.codeDir), { recursive: true, force: true })
      return {}
    })

    on(ListFunctionsCommand, 'ListFunctions', async (input: { Marker?: string; MaxItems?: number }) => {
      const all = [...this.functions.values()].sort((a, b) => (a.config.FunctionName! < b.config.FunctionName! ? -1 : 1))
      const size = Math.min(input.MaxItems ?? 50, this.options.pageSize ?? 50)
      const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64').toString()) : 0
      const page = all.slice(start, start + size)
      const next = start + size < all.length ? Buffer.from(String(start + size)).toString('base64') : undefined
      return { Functions: page.map((f) => this.snapshot(f)), NextMarker: next }
    })

    on(ListTagsCommand, 'ListTags', async (input: { Resource?: string }) => ({ Tags: { ...this.fn(input.Resource).tags } }))

    on(CreateFunctionUrlConfigCommand, 'CreateFunctionUrlConfig', async (input: { FunctionName?: string; AuthType?: string; InvokeMode?: string }) => {
      const fn = this.fn(input.FunctionName)
      if (fn.url) {
        throw lambdaError(
          ResourceConflictException,
          `Failed to create function url config for [functionArn = ${fn.config.FunctionArn}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
          409,
          { Type: 'User' },
        )
      }
      const urlId = randomBytes(16).toString('hex')
      fn.url = {
        FunctionUrl: `${this.urlBase}/${urlId}/`,
        AuthType: input.AuthType ?? 'AWS_IAM',
        urlId,
        CreationTime: new Date().toISOString(),
        InvokeMode: input.InvokeMode ?? 'BUFFERED',
      }
      return { FunctionUrl: fn.url.FunctionUrl, FunctionArn: fn.config.FunctionArn, AuthType: fn.url.AuthType, CreationTime: fn.url.CreationTime, InvokeMode: fn.url.InvokeMode }
    })

    on(GetFunctionUrlConfigCommand, 'GetFunctionUrlConfig', async (input: { FunctionName?: string }) => {
      const fn = this.fn(input.FunctionName)
      if (!fn.url) throw lambdaError(ResourceNotFoundException, 'The resource you requested does not exist.', 404, { Type: 'User' })
      return { FunctionUrl: fn.url.FunctionUrl, FunctionArn: fn.config.FunctionArn, AuthType: fn.url.AuthType, CreationTime: fn.url.CreationTime }
    })

    on(DeleteFunctionUrlConfigCommand, 'DeleteFunctionUrlConfig', async (input: { FunctionName?: string }) => {
      const fn = this.fn(input.FunctionName)
      if (!fn.url) throw lambdaError(ResourceNotFoundException, 'The resource you requested does not exist.', 404, { Type: 'User' })
      fn.url = undefined
      return {}
    })

    on(AddPermissionCommand, 'AddPermission', async (input: AddPermissionRequest) => {
      const fn = this.fn(input.FunctionName)
      if (fn.policy.some((s) => s.StatementId === input.StatementId)) {
        throw lambdaError(
          ResourceConflictException,
          `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
          409,
          { Type: 'User' },
        )
      }
      fn.policy.push({ ...input })
      const statement = {
        Sid: input.StatementId,
        Effect: 'Allow',
        Principal: input.Principal,
        Action: input.Action,
        Resource: fn.config.FunctionArn,
        ...(input.FunctionUrlAuthType ? { Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': input.FunctionUrlAuthType } } } : {}),
        ...(input.InvokedViaFunctionUrl ? { Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } } : {}),
      }
      return { Statement: JSON.stringify(statement) }
    })

    on(InvokeCommand, 'Invoke', async (input: InvocationRequest) => {
      const fn = this.fn(input.FunctionName)
      if (fn.config.State !== 'Active') {
        throw lambdaError(
          ResourceConflictException,
          `The operation cannot be performed at this time. The function is currently in the following state: ${fn.config.State}`,
          409,
          { Type: 'User' },
        )
      }
      let event: unknown
      const text = input.Payload ? Buffer.from(input.Payload).toString('utf8') : '{}'
      try {
        event = JSON.parse(text || '{}')
      } catch {
        throw lambdaError(InvalidRequestContentException, 'Could not parse request body into json: Could not parse payload into json', 400, { Type: 'User' })
      }
      if (input.InvocationType === 'DryRun') return { StatusCode: 204 }
      const outcome = await this.run(fn, event)
      return {
        StatusCode: 200,
        ExecutedVersion: '$LATEST',
        ...(outcome.functionError ? { FunctionError: 'Unhandled' } : {}),
        ...(input.LogType === 'Tail' ? { LogResult: outcome.logTail } : {}),
        Payload: new Uint8Array(Buffer.from(outcome.payload)),
      }
    })
  }

  /** One invocation in a warm environment of the current generation, or a new (cold) one. */
  async run(fn: FakeFunction, event: unknown): Promise<{ requestId: string; payload: string; functionError: boolean; logTail: string; report: string }> {
    const requestId = randomUUID()
    const cfg = fn.config
    fn.invocations++
    let env = fn.environments.find((e) => !e.busy && !e.dead && e.generation === fn.generation)
    let initDurationMs: number | undefined
    const lines: string[] = []
    const now = () => new Date().toISOString()
    let outcome: Awaited<ReturnType<Environment['invoke']>>
    if (!env) {
      const tmp = await mkdtemp(join(this.options.workDir, 'env-'))
      env = new Environment(fn, fn.generation, tmp)
      env.busy = true
      fn.environments.push(env)
      const started = await env.start(this)
      initDurationMs = env.initDurationMs
      lines.push(`INIT_START Runtime Version: ${cfg.Runtime}.v1\tRuntime Version ARN: arn:aws:lambda:${this.region}::runtime:fake`)
      lines.push(...env.initLog)
      if (!started.ok) {
        fn.environments = fn.environments.filter((e) => e !== env)
        lines.push(`START RequestId: ${requestId} Version: $LATEST`)
        lines.push(`END RequestId: ${requestId}`)
        const report = this.reportLine(requestId, 0, cfg.MemorySize ?? 128, env.maxMemoryMb(), initDurationMs, 'error', started.errorType)
        lines.push(report)
        this.appendLogs(cfg.FunctionName ?? '', lines)
        return {
          requestId,
          payload: JSON.stringify({ errorType: started.errorType, errorMessage: started.errorMessage }),
          functionError: true,
          logTail: this.tail(lines),
          report,
        }
      }
    } else {
      env.busy = true
    }
    lines.push(`START RequestId: ${requestId} Version: $LATEST`)
    try {
      outcome = await env.invoke(requestId, event, (cfg.Timeout ?? 3) * 1000)
    } finally {
      env.busy = false
    }
    lines.push(...outcome.log)
    if (outcome.status === 'timeout') lines.push(`${now()} ${requestId} Task timed out after ${(cfg.Timeout ?? 3).toFixed(2)} seconds`)
    lines.push(`END RequestId: ${requestId}`)
    const status = outcome.status === 'timeout' ? 'timeout' : outcome.status === 'crash' || outcome.status === 'oom' ? 'error' : undefined
    const report = this.reportLine(requestId, outcome.durationMs, cfg.MemorySize ?? 128, outcome.maxMemoryMb, initDurationMs, status, outcome.errorType)
    lines.push(report)
    this.appendLogs(cfg.FunctionName ?? '', lines)
    // A crashed or killed environment is gone; a retired one (its function changed meanwhile) too.
    if (env.dead || env.generation !== fn.generation) {
      env.kill()
      fn.environments = fn.environments.filter((e) => e !== env)
    }
    const payload =
      outcome.status === 'timeout'
        ? JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(cfg.Timeout ?? 3).toFixed(2)} seconds` })
        : outcome.payload
    return { requestId, payload, functionError: outcome.status !== 'ok', logTail: this.tail(lines), report }
  }

  reportLine(
    requestId: string,
    durationMs: number,
    memorySize: number,
    maxMemory: number,
    initMs: number | undefined,
    status?: string,
    errorType?: string,
  ): string {
    // Since August 2025 the init phase of on-demand zip functions is billed too.
    const billed = Math.ceil(durationMs + (initMs ?? 0))
    let line = `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${memorySize} MB\tMax Memory Used: ${maxMemory} MB\t`
    if (initMs !== undefined) line += `Init Duration: ${initMs.toFixed(2)} ms\t`
    if (status) line += `Status: ${status}\t`
    if (errorType) line += `Error Type: ${errorType}\t`
    return line
  }

  /** The last 4 KB of the log, base64, as LogType 'Tail' returns it. */
  private tail(lines: string[]): string {
    const text = Buffer.from(lines.join('\n') + '\n')
    return text.subarray(Math.max(0, text.length - 4096)).toString('base64')
  }

  private appendLogs(functionName: string, lines: string[]): void {
    const name = `/aws/lambda/${functionName}`
    let group = this.logGroups.get(name)
    if (!group) {
      group = { created: Date.now(), events: [] }
      this.logGroups.set(name, group)
    }
    const now = Date.now()
    for (const message of lines) group.events.push({ timestamp: now, message, visibleAt: now + (this.options.logDelayMs ?? 0) })
  }

  private async serveUrl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [, urlId = '', ...rest] = (req.url ?? '/').split('?')[0].split('/')
    const fn = [...this.functions.values()].find((f) => f.url?.urlId === urlId)
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(body)
    }
    if (!fn || !fn.url) return send(404, JSON.stringify({ Message: null }))
    const publicUrl = fn.policy.some(
      (s) => s.Action === 'lambda:InvokeFunctionUrl' && s.Principal === '*' && s.FunctionUrlAuthType === 'NONE',
    )
    const publicInvoke = fn.policy.some((s) => s.Action === 'lambda:InvokeFunction' && s.Principal === '*' && s.InvokedViaFunctionUrl === true)
    const propagating = this.urlPropagationDenials > 0
    if (propagating) this.urlPropagationDenials--
    if (fn.url.AuthType !== 'NONE' || !publicUrl || !publicInvoke || propagating) {
      return send(403, JSON.stringify({ Message: 'Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html' }))
    }
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const contentType = String(req.headers['content-type'] ?? '')
    const textual = /^(text\/|application\/(json|xml|javascript))/.test(contentType)
    const requestId = randomUUID()
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/' + rest.join('/'),
      rawQueryString: (req.url ?? '').split('?')[1] ?? '',
      headers,
      requestContext: {
        accountId: 'anonymous',
        apiId: urlId,
        domainName: `${urlId}.lambda-url.${this.region}.on.aws`,
        domainPrefix: urlId,
        http: { method: req.method, path: '/' + rest.join('/'), protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey: '$default',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body: body.length === 0 ? undefined : textual ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !textual,
    }
    if (fn.config.State !== 'Active') return send(503, JSON.stringify({ Message: 'Service Unavailable' }))
    const out = await this.run(fn, event)
    if (out.functionError) return send(502, 'Internal Server Error', { 'content-type': 'text/plain', 'x-amzn-requestid': out.requestId })
    let result: unknown
    try {
      result = JSON.parse(out.payload)
    } catch {
      result = out.payload
    }
    const r = result as { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean } | null
    if (r && typeof r === 'object' && typeof r.statusCode === 'number') {
      const payload = r.body === undefined ? '' : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body
      res.writeHead(r.statusCode, { ...(r.headers ?? {}), 'x-amzn-requestid': out.requestId })
      res.end(payload)
      return
    }
    // A handler result without statusCode is returned as JSON with 200.
    send(200, JSON.stringify(result), { 'x-amzn-requestid': out.requestId })
  }

  private installIam(): void {
    const stub = mockClient(IAMClient) as unknown as AnyStub
    this.iam = stub
    const on = <I>(cmd: unknown, name: string, handler: (input: I) => unknown) =>
      stub.on(cmd as never).callsFake(async (input: I) => {
        this.record('IAM', name, input)
        return handler(input)
      })
    const role = (name: string | undefined): FakeRole => {
      const r = this.roles.get(name ?? '')
      if (!r) throw new NoSuchEntityException({ message: `The role with name ${name} cannot be found.`, $metadata: { httpStatusCode: 404 } })
      return r
    }
    on(GetRoleCommand, 'GetRole', async (input: { RoleName?: string }) => {
      const r = role(input.RoleName)
      return { Role: { RoleName: r.name, Arn: r.arn, Path: '/', RoleId: 'AROAFAKE', CreateDate: r.created, Tags: r.tags } }
    })
    on(CreateRoleCommand, 'CreateRole', async (input: { RoleName?: string; Tags?: IamTag[] }) => {
      const name = input.RoleName ?? ''
      if (this.roles.has(name)) {
        throw new EntityAlreadyExistsException({ message: `Role with name ${name} already exists.`, $metadata: { httpStatusCode: 409 } })
      }
      const r: FakeRole = {
        name,
        arn: `arn:aws:iam::${this.accountId}:role/${name}`,
        created: new Date(),
        tags: input.Tags ?? [],
        attached: new Set(),
        inline: new Set(),
        propagationFailuresLeft: this.options.rolePropagationFailures ?? 1,
      }
      this.roles.set(name, r)
      return { Role: { RoleName: name, Arn: r.arn, Path: '/', RoleId: 'AROAFAKE', CreateDate: r.created, Tags: r.tags } }
    })
    on(SimulatePrincipalPolicyCommand, 'SimulatePrincipalPolicy', async (input: { PolicySourceArn?: string; ActionNames?: string[] }) => {
      const arn = input.PolicySourceArn ?? ''
      const own = [...this.roles.values()].find((r) => r.arn === arn)
      const external = this.options.existingRoleArns?.includes(arn)
      if (!own && !external) throw new NoSuchEntityException({ message: `The role with ARN ${arn} cannot be found.`, $metadata: { httpStatusCode: 404 } })
      const policies = own ? [...own.attached].map((p) => p.split('/').pop()!) : (this.options.existingRolePolicies?.[arn] ?? DEFAULT_EXTERNAL_POLICIES)
      const allows = policies.flatMap((p) => MANAGED_POLICY_ACTIONS[p] ?? [])
      return {
        EvaluationResults: (input.ActionNames ?? []).map((action) => ({
          EvalActionName: action,
          EvalResourceName: '*',
          EvalDecision: allows.some((a) => (a.endsWith(':') ? action.startsWith(a) : action === a)) ? 'allowed' : 'implicitDeny',
        })),
        IsTruncated: false,
      }
    })
    on(AttachRolePolicyCommand, 'AttachRolePolicy', async (input: { RoleName?: string; PolicyArn?: string }) => {
      role(input.RoleName).attached.add(input.PolicyArn ?? '')
      return {}
    })
    on(ListAttachedRolePoliciesCommand, 'ListAttachedRolePolicies', async (input: { RoleName?: string }) => ({
      AttachedPolicies: [...role(input.RoleName).attached].map((arn) => ({ PolicyArn: arn, PolicyName: arn.split('/').pop() })),
      IsTruncated: false,
    }))
    on(DetachRolePolicyCommand, 'DetachRolePolicy', async (input: { RoleName?: string; PolicyArn?: string }) => {
      role(input.RoleName).attached.delete(input.PolicyArn ?? '')
      return {}
    })
    on(ListRolePoliciesCommand, 'ListRolePolicies', async (input: { RoleName?: string }) => ({
      PolicyNames: [...role(input.RoleName).inline],
      IsTruncated: false,
    }))
    on(DeleteRolePolicyCommand, 'DeleteRolePolicy', async (input: { RoleName?: string; PolicyName?: string }) => {
      role(input.RoleName).inline.delete(input.PolicyName ?? '')
      return {}
    })
    on(ListRoleTagsCommand, 'ListRoleTags', async (input: { RoleName?: string }) => ({ Tags: role(input.RoleName).tags, IsTruncated: false }))
    on(DeleteRoleCommand, 'DeleteRole', async (input: { RoleName?: string }) => {
      const r = role(input.RoleName)
      if (r.attached.size > 0 || r.inline.size > 0) {
        throw new DeleteConflictException({ message: 'Cannot delete entity, must detach all policies first.', $metadata: { httpStatusCode: 409 } })
      }
      this.roles.delete(r.name)
      return {}
    })
  }

  private installLogs(): void {
    const stub = mockClient(CloudWatchLogsClient) as unknown as AnyStub
    this.logs = stub
    const on = <I>(cmd: unknown, name: string, handler: (input: I) => unknown) =>
      stub.on(cmd as never).callsFake(async (input: I) => {
        this.record('Logs', name, input)
        return handler(input)
      })
    const notFound = (what: string) =>
      new LogsNotFound({ message: `The specified log group does not exist. (${what})`, $metadata: { httpStatusCode: 400 } })
    on(StartQueryCommand, 'StartQuery', async (input: { logGroupName?: string; logGroupNames?: string[]; startTime?: number; endTime?: number; queryString?: string; limit?: number }) => {
      const group = input.logGroupName ?? input.logGroupNames?.[0] ?? ''
      if (!this.logGroups.has(group)) {
        throw new LogsNotFound({ message: `Log group '${group}' does not exist for account ID '${this.accountId}'`, $metadata: { httpStatusCode: 400 } })
      }
      const queryId = randomUUID()
      const filter = QUERY_FILTER.exec(input.queryString ?? '')
      this.queries.set(queryId, {
        group,
        start: (input.startTime ?? 0) * 1000,
        end: (input.endTime ?? 0) * 1000 + 999,
        regex: filter ? new RegExp(filter[1]) : undefined,
        polls: 0,
        limit: input.limit ?? 1000,
      })
      return { queryId }
    })
    on(GetQueryResultsCommand, 'GetQueryResults', async (input: { queryId?: string }) => {
      const q = this.queries.get(input.queryId ?? '')
      if (!q) throw notFound(`query ${input.queryId}`)
      q.polls++
      if (q.polls < 2) return { status: 'Running', results: [], statistics: { recordsMatched: 0, recordsScanned: 0, bytesScanned: 0 } }
      const events = (this.logGroups.get(q.group)?.events ?? []).filter(
        (e) => e.timestamp >= q.start && e.timestamp <= q.end && e.visibleAt <= Date.now() && (!q.regex || q.regex.test(e.message)),
      )
      const rows = events.slice(0, q.limit).map((e) => [
        { field: '@timestamp', value: new Date(e.timestamp).toISOString().replace('T', ' ').replace('Z', '') },
        { field: '@requestId', value: /RequestId: ([0-9a-f-]+)/.exec(e.message)?.[1] ?? '' },
        { field: '@message', value: e.message },
        { field: '@ptr', value: randomBytes(12).toString('base64') },
      ])
      return { status: 'Complete', results: rows, statistics: { recordsMatched: rows.length, recordsScanned: events.length, bytesScanned: 1000 } }
    })
    on(DeleteLogGroupCommand, 'DeleteLogGroup', async (input: { logGroupName?: string }) => {
      if (!this.logGroups.delete(input.logGroupName ?? '')) throw notFound(input.logGroupName ?? '')
      return {}
    })
    on(DescribeLogGroupsCommand, 'DescribeLogGroups', async (input: { logGroupNamePrefix?: string; nextToken?: string }) => {
      const names = [...this.logGroups.keys()].filter((n) => n.startsWith(input.logGroupNamePrefix ?? '')).sort()
      const size = this.options.pageSize ?? 50
      const start = input.nextToken ? Number(input.nextToken) : 0
      const page = names.slice(start, start + size)
      return {
        logGroups: page.map((n) => ({
          logGroupName: n,
          arn: `arn:aws:logs:${this.region}:${this.accountId}:log-group:${n}:*`,
          creationTime: this.logGroups.get(n)!.created,
        })),
        nextToken: start + size < names.length ? String(start + size) : undefined,
      }
    })
  }
}
