// The temporary folder of an export whose process died is removed by the next export to the same place; a live
// process's, and a previous export moved aside (`-old`, possibly the only copy), are left alone.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeLeftoverStaging, stageExport } from '@core/export/destination'
import { tempDir } from '@test/helpers/synthetic'

const tmp = tempDir('tunelab-leftover-staging-')
afterAll(() => tmp.cleanup())

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(r.stdout.toString())
}

function folder(parent: string, name: string): void {
  mkdirSync(join(parent, name))
  writeFileSync(join(parent, name, 'model.onnx'), 'x')
}

describe('leftover export staging', () => {
  it('the next export to the same folder removes a dead process’s staging only', async () => {
    const parent = join(tmp.dir, 'a')
    mkdirSync(parent)
    const dead = deadPid()
    folder(parent, `.model.tunelab-export-${dead}-1`)
    folder(parent, `.model.tunelab-export-${dead}-2-old`)
    folder(parent, `.model.tunelab-export-${process.pid}-3`)
    folder(parent, `.other.tunelab-export-${dead}-4`)
    const staged = await stageExport(join(parent, 'model'), false)
    await staged.discard()
    expect(readdirSync(parent).sort()).toEqual(
      [
        `.model.tunelab-export-${dead}-2-old`,
        `.model.tunelab-export-${process.pid}-3`,
        `.other.tunelab-export-${dead}-4`
      ].sort()
    )
  })

  it("an ended export's own staging goes when its pid is named", async () => {
    const parent = join(tmp.dir, 'b')
    mkdirSync(parent)
    folder(parent, `.model.tunelab-export-${process.pid}-5`)
    expect(await removeLeftoverStaging(join(parent, 'model'))).toEqual([])
    expect(await removeLeftoverStaging(join(parent, 'model'), process.pid)).toEqual([
      join(parent, `.model.tunelab-export-${process.pid}-5`)
    ])
    expect(readdirSync(parent)).toEqual([])
  })
})
