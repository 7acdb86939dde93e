/**
 * Writes README.md's table of settings (flags, `SEBS_*` variables, config
 * keys) from the settings table, engine/settings-schema.ts. Run by hand after
 * changing a row: `node bin/run-ts.mjs scripts/settings-docs.ts`;
 * engine/settings-schema.test.ts fails while README.md differs.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { replaceSettingsTable } from '../engine/settings-schema.ts'

const readme = join(import.meta.dirname, '..', 'README.md')
const before = readFileSync(readme, 'utf8')
const after = replaceSettingsTable(before)
if (after !== before) writeFileSync(readme, after)
process.stdout.write(after !== before ? 'README.md: settings table updated\n' : 'README.md: settings table already current\n')
