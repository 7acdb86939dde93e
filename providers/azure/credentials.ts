/**
 * Azure credentials: which credential to use, and a fast check that it works
 * before anything is built.
 *
 * Sources, first match wins (all from the environment, never from config):
 * 1. SeBS's service principal: AZURE_SECRET_APPLICATION_ID, AZURE_SECRET_TENANT,
 *    AZURE_SECRET_PASSWORD → ClientSecretCredential;
 * 2. the standard AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET (or
 *    AZURE_CLIENT_CERTIFICATE_PATH) → EnvironmentCredential;
 * 3. AZURE_FEDERATED_TOKEN_FILE (workload identity) → WorkloadIdentityCredential;
 * 4. IDENTITY_ENDPOINT / MSI_ENDPOINT (running on Azure) → ManagedIdentityCredential;
 * 5. the `az` CLI on PATH (`az login`) → AzureCliCredential.
 *
 * This is DefaultAzureCredential's chain made deterministic: DefaultAzureCredential
 * would probe the instance metadata endpoint when nothing is configured,
 * which takes seconds off Azure, and its error names every credential it
 * tried instead of what to set. When nothing is configured the check fails
 * at once, without any network call.
 */
import { accessSync, constants as fsConstants } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { TokenCredential } from '@azure/identity'
import { ProviderError, errorMessage } from '../../core/errors.ts'

export interface CredentialChoice {
  credential: TokenCredential
  /** Which source was used, for messages (never the secret). */
  source: string
}

const SEBS_SP = ['AZURE_SECRET_APPLICATION_ID', 'AZURE_SECRET_TENANT', 'AZURE_SECRET_PASSWORD'] as const

export const MISSING_CREDENTIALS_HELP =
  'Set AZURE_SECRET_APPLICATION_ID, AZURE_SECRET_TENANT and AZURE_SECRET_PASSWORD (a service principal, as in SeBS), ' +
  'or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or log in with `az login`; ' +
  'and set AZURE_SUBSCRIPTION_ID (or azure.subscriptionId in the sebs config).'

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, command), fsConstants.X_OK)
      return true
    } catch {
      // not here
    }
  }
  return false
}

/**
 * The credential the environment configures, or a CREDENTIALS_MISSING error
 * that says what to set. Synchronous checks only: no token is requested here.
 */
export async function chooseCredential(env: NodeJS.ProcessEnv = process.env): Promise<CredentialChoice> {
  const identity = await import('@azure/identity')
  const set = (name: string) => Boolean(env[name]?.trim())

  const sebsSet = SEBS_SP.filter(set)
  if (sebsSet.length === SEBS_SP.length) {
    return {
      credential: new identity.ClientSecretCredential(env.AZURE_SECRET_TENANT!, env.AZURE_SECRET_APPLICATION_ID!, env.AZURE_SECRET_PASSWORD!),
      source: `service principal ${env.AZURE_SECRET_APPLICATION_ID} (AZURE_SECRET_*)`,
    }
  }
  if (sebsSet.length > 0) {
    const missing = SEBS_SP.filter((n) => !set(n))
    throw new ProviderError('azure', 'CREDENTIALS_MISSING', `Incomplete service principal: ${missing.join(', ')} not set (${sebsSet.join(', ')} are). ${MISSING_CREDENTIALS_HELP}`)
  }
  if (set('AZURE_CLIENT_ID') && set('AZURE_TENANT_ID') && (set('AZURE_CLIENT_SECRET') || set('AZURE_CLIENT_CERTIFICATE_PATH'))) {
    return { credential: new identity.EnvironmentCredential(), source: `service principal ${env.AZURE_CLIENT_ID} (AZURE_CLIENT_*)` }
  }
  if (set('AZURE_FEDERATED_TOKEN_FILE') && set('AZURE_CLIENT_ID') && set('AZURE_TENANT_ID')) {
    return { credential: new identity.WorkloadIdentityCredential(), source: 'workload identity (AZURE_FEDERATED_TOKEN_FILE)' }
  }
  if (set('IDENTITY_ENDPOINT') || set('MSI_ENDPOINT')) {
    const credential = env.AZURE_CLIENT_ID ? new identity.ManagedIdentityCredential(env.AZURE_CLIENT_ID) : new identity.ManagedIdentityCredential()
    return { credential, source: 'managed identity' }
  }
  if (onPath('az', env)) {
    return { credential: new identity.AzureCliCredential(), source: 'Azure CLI login (az)' }
  }
  throw new ProviderError('azure', 'CREDENTIALS_MISSING', `No Azure credentials found. ${MISSING_CREDENTIALS_HELP}`)
}

/** Runs `work` with a deadline; the timer never keeps the process alive. */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
    timer.unref()
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Gets one token with the credential (CREDENTIALS_INVALID when that fails or
 * takes longer than `deadlineMs`). The token itself is dropped.
 */
export async function verifyCredential(choice: CredentialChoice, scope: string, deadlineMs: number): Promise<void> {
  try {
    const token = await withDeadline(
      choice.credential.getToken(scope),
      deadlineMs,
      () => new Error(`no token within ${Math.round(deadlineMs / 100) / 10} s`),
    )
    if (!token?.token) throw new Error('the credential returned no token')
  } catch (err) {
    throw new ProviderError(
      'azure',
      'CREDENTIALS_INVALID',
      `The ${choice.source} cannot get an Azure token: ${errorMessage(err).split('\n')[0]}. Check the credential (and that the tenant is right), or log in again with \`az login\`.`,
      { cause: err },
    )
  }
}
