import { describe, expect, it } from 'vitest'
import { ConfigError } from '../core/errors.ts'
import { configFromEnv, resolveConfig } from './settings.ts'

describe('config', () => {
  it('fills defaults', () => {
    const c = resolveConfig([], { root: '/proj', runId: 'r1' })
    expect(c).toMatchObject({ provider: 'local', sizes: ['test'], repetitions: 10, trigger: 'http', arch: 'x64', cacheDir: '/proj/.sebs-cache', resultsDir: '/proj/results', dataDir: '/proj/.sebs-cache/benchmarks-data', runId: 'r1', keep: false })
  })

  it('later layers override earlier ones; provider sections merge', () => {
    const c = resolveConfig(
      [
        { source: 'file', config: { provider: 'aws', repetitions: 5, aws: { region: 'eu-west-1', roleArn: 'x' } } },
        { source: 'cli', config: { repetitions: 3, aws: { region: 'us-east-1' } } },
      ],
      { root: '/p' },
    )
    expect(c.provider).toBe('aws')
    expect(c.repetitions).toBe(3)
    expect(c.aws).toEqual({ region: 'us-east-1', roleArn: 'x' })
  })

  it('unknown provider, language and size are errors listing what exists', () => {
    expect(() => resolveConfig([{ source: 'cli', config: { provider: 'gcp' } }], { root: '/' })).toThrow("Unknown provider 'gcp'. Choose one of 'local', 'aws', 'azure'")
    expect(() => resolveConfig([{ source: 'cli', config: { languages: ['java'] } }], { root: '/' })).toThrow("Unknown language 'java'. Choose one of 'python', 'nodejs'")
    expect(() => resolveConfig([{ source: 'cli', config: { sizes: ['huge'] } }], { root: '/' })).toThrow("Unknown size 'huge'. Choose one of 'test', 'small', 'large'")
  })

  it('names the bad field and the source', () => {
    try {
      resolveConfig([{ source: 'sebs.config.ts', config: { repetitions: -2 } }], { root: '/' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).message).toMatch(/^sebs\.config\.ts: field 'repetitions'/)
    }
    expect(() => resolveConfig([{ source: 'x', config: { bogus: 1 } }], { root: '/' })).toThrow(/x: field '\(root\)'.*bogus/)
  })

  it('reads SEBS_* variables and the CLI overrides', () => {
    expect(configFromEnv({ SEBS_PROVIDER: 'local', SEBS_SIZE: 'test,small', SEBS_REPETITIONS: '4' })).toEqual({ provider: 'local', sizes: ['test', 'small'], repetitions: 4 })
    expect(configFromEnv({ SEBS_CLI_OVERRIDES: '{"languages":["python"]}' })).toEqual({ languages: ['python'] })
    expect(() => configFromEnv({ SEBS_REPETITIONS: 'many' })).toThrow(/SEBS_REPETITIONS/)
  })
})

describe('provider sections', () => {
  it('take trigger and arch from the provider section unless flags set them', () => {
    const fromSection = resolveConfig([{ source: 'file', config: { provider: 'aws', aws: { trigger: 'library', arch: 'arm64' } } }], { root: '/' })
    expect(fromSection.trigger).toBe('library')
    expect(fromSection.arch).toBe('arm64')
    const flagged = resolveConfig(
      [
        { source: 'file', config: { provider: 'aws', aws: { trigger: 'library' } } },
        { source: 'cli', config: { trigger: 'http' } },
      ],
      { root: '/' },
    )
    expect(flagged.trigger).toBe('http')
  })
})
