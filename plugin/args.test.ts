/**
 * Unit tests (Vitest worker) for how the plugin and the sebs CLI read the
 * command line: --project picks the provider project, -t narrows the bench
 * files, and sebs bench splits its own flags from Vitest's.
 */
import { describe, expect, it } from 'vitest'
import { chooseProviderProject, projectsFromArgv, testNamePatternFromArgv } from './vite-plugin.ts'
import { splitBenchArgs } from './cli.ts'

describe('provider projects from the command line', () => {
  it('reads --project in both spellings, stopping at --', () => {
    expect(projectsFromArgv(['node', 'vitest', 'bench', '--project', 'aws'])).toEqual(['aws'])
    expect(projectsFromArgv(['bench', '--project=azure', '--run'])).toEqual(['azure'])
    expect(projectsFromArgv(['bench', '--', '--project', 'aws'])).toEqual([])
  })

  it('defaults to the configured provider, takes one named provider, refuses unknown or several', () => {
    expect(chooseProviderProject([], 'local')).toBe('local')
    expect(chooseProviderProject([], 'aws')).toBe('aws')
    expect(chooseProviderProject(['azure'], 'local')).toBe('azure')
    expect(() => chooseProviderProject(['gcp'], 'local')).toThrow(/'local', 'aws', 'azure'/)
    expect(() => chooseProviderProject(['aws', 'local'], 'local')).toThrow(/one provider per run/)
  })

  it('reads -t / --testNamePattern', () => {
    expect(testNamePatternFromArgv(['bench', '-t', '110.dynamic-html'])).toBe('110.dynamic-html')
    expect(testNamePatternFromArgv(['bench', '--testNamePattern=python'])).toBe('python')
    expect(testNamePatternFromArgv(['bench', '--run'])).toBeUndefined()
  })
})

describe('sebs bench arguments', () => {
  it("keeps sebs's flags (with their values) and hands everything else to Vitest in order", () => {
    const split = splitBenchArgs(['--provider', 'aws', '-t', 'python', '--compare', 'base.json', '--size=small', '--keep', '311', '--reporter=verbose', '--repetitions', '-1'])
    expect(split.own).toEqual(['--provider', 'aws', '--size=small', '--keep', '--repetitions', '-1'])
    expect(split.vitest).toEqual(['-t', 'python', '--compare', 'base.json', '311', '--reporter=verbose'])
  })
})
