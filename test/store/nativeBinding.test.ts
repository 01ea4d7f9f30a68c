// The store can open SQLite through an explicit better-sqlite3 addon (Electron's per-ABI build), as an option or
// through env TUNELAB_SQLITE_BINDING; a wrong path fails with the database and the binding named.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ProjectStore } from '@core/store'

const NODE_BUILD = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'build/Release/better_sqlite3.node'
)

describe('ProjectStore nativeBinding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-binding-'))
  const saved = process.env['TUNELAB_SQLITE_BINDING']
  afterEach(() => {
    if (saved === undefined) delete process.env['TUNELAB_SQLITE_BINDING']
    else process.env['TUNELAB_SQLITE_BINDING'] = saved
  })

  it('opens with an explicit binding (here the Node build) and works', () => {
    const store = ProjectStore.open(join(dir, 'a.db'), { nativeBinding: NODE_BUILD })
    expect(store.integrityCheck()).toEqual(['ok'])
    store.close()
  })

  it('takes the binding from TUNELAB_SQLITE_BINDING, and names it when it cannot load', () => {
    process.env['TUNELAB_SQLITE_BINDING'] = join(dir, 'missing', 'better_sqlite3.node')
    expect(() => ProjectStore.open(join(dir, 'b.db'))).toThrow(/Cannot open TuneLab database .*b\.db: .*missing/)
    const store = ProjectStore.open(join(dir, 'b.db'), { nativeBinding: NODE_BUILD }) // the option wins
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
