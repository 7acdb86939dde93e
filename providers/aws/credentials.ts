/**
 * The credential check that runs before anything is built: STS
 * GetCallerIdentity through the default chain, one attempt, short timeouts.
 * Nothing configured fails in milliseconds (the chain finds no source);
 * a black-holed network fails at the deadline.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ProviderError } from '../../core/errors.ts'
import type { AwsTarget } from './clients.ts'
import { createStsClient } from './clients.ts'

export interface CallerIdentity {
  account: string
  arn: string
  region: string
}

const HOW_TO =
  'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), ' +
  'or AWS_PROFILE for a profile in ~/.aws (run `aws sso login` for SSO profiles), and AWS_REGION ' +
  "(or 'region' in the aws section of the sebs config)."

const REGION_HOW_TO =
  'Set AWS_REGION (e.g. `export AWS_REGION=us-east-1`), or `region` in the aws section of the sebs config, ' +
  'or `region = …` in the profile of ~/.aws/config.'

/**
 * Which credential source the environment names, so a region error does not
 * read as a key error; undefined when no source is configured at all (no
 * keys, profile, web identity, container credentials or ~/.aws files), where
 * the credentials are missing as much as the region.
 */
function credentialSourceNote(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return ' (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set; the region is what is missing)'
  if (env.AWS_PROFILE) return ` (AWS_PROFILE=${env.AWS_PROFILE} is set but names no region; the region is what is missing)`
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return ''
  const files = [env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials'), env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config')]
  return files.some((f) => existsSync(f)) ? '' : undefined
}

const MISSING_NAMES = new Set(['CredentialsProviderError', 'CredentialsError', 'TokenProviderError'])
const INVALID_NAMES = new Set([
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidAccessKeyId',
])

/** Turns an SDK failure of the credential check into an actionable SebsError. */
export function mapCredentialError(err: unknown, target: AwsTarget): ProviderError {
  const e = err as { name?: string; message?: string; code?: string }
  const name = e?.name ?? ''
  const message = e?.message ?? String(err)
  if (MISSING_NAMES.has(name) || /Could not load credentials/i.test(message)) {
    return new ProviderError('aws', 'CREDENTIALS_MISSING', `No AWS credentials found (${message}). ${HOW_TO}`, {
      cause: err,
    })
  }
  if (/region is missing/i.test(message) || name === 'RegionMissingError') {
    // The SDK checks the region before it looks for credentials, so this
    // says nothing about them: name the region as what is missing, unless
    // nothing at all is configured (then both are, and the key advice leads).
    const note = credentialSourceNote()
    if (note === undefined) {
      return new ProviderError('aws', 'CREDENTIALS_MISSING', `No AWS credentials or region configured. ${HOW_TO}`, { cause: err })
    }
    return new ProviderError('aws', 'REGION_MISSING', `No AWS region configured${note}. ${REGION_HOW_TO}`, {
      cause: err,
    })
  }
  if (INVALID_NAMES.has(name)) {
    return new ProviderError(
      'aws',
      'CREDENTIALS_INVALID',
      `AWS rejected the configured credentials (${name}: ${message}). Refresh or replace them. ${HOW_TO}`,
      { cause: err },
    )
  }
  const where = target.endpoints.sts ?? `sts.${target.region ?? '<region>'}.amazonaws.com`
  if (name === 'TimeoutError' || name === 'RequestTimeout' || e?.code === 'ETIMEDOUT' || name === 'AbortError') {
    return new ProviderError(
      'aws',
      'TIMEOUT',
      `Could not verify AWS credentials: ${where} did not answer in time. Check the network (or aws.endpoints.sts), then retry.`,
      { cause: err },
    )
  }
  return new ProviderError(
    'aws',
    'CREDENTIALS_INVALID',
    `Could not verify AWS credentials against ${where} (${name || 'Error'}: ${message}). ${HOW_TO}`,
    { cause: err },
  )
}

/**
 * Resolves credentials and asks STS who they belong to. Rejects with
 * CREDENTIALS_MISSING / REGION_MISSING / CREDENTIALS_INVALID / TIMEOUT within `deadlineMs`.
 */
export async function getCallerIdentity(target: AwsTarget, deadlineMs = 2500): Promise<CallerIdentity> {
  const sts = createStsClient(target, Math.min(deadlineMs, 2000))
  let timer: NodeJS.Timeout | undefined
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`no answer within ${deadlineMs} ms`)
        err.name = 'TimeoutError'
        reject(err)
      }, deadlineMs)
    })
    const out = await Promise.race([sts.send(new GetCallerIdentityCommand({})), deadline])
    if (!out.Account || !out.Arn) {
      throw new ProviderError('aws', 'CREDENTIALS_INVALID', `STS GetCallerIdentity returned no account. ${HOW_TO}`)
    }
    const region = await sts.config.region()
    return { account: out.Account, arn: out.Arn, region }
  } catch (err) {
    if (err instanceof ProviderError) throw err
    throw mapCredentialError(err, target)
  } finally {
    if (timer) clearTimeout(timer)
    sts.destroy()
  }
}
