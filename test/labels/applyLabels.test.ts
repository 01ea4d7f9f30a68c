// apply-labels on real files: it moves exactly the planned files, never overwrites (a taken name gets a suffix),
// --undo restores the tree byte for byte, a failure midway rolls back, a read-only folder changes nothing.
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { scanProject } from '@core/project/scan'
import { openProjectState, type ProjectState } from '@core/store/projectState'
import { applyLabels, planApplyLabels, undoApplyLabels, EXCLUDED_DIR_NAME } from '@core/labels/applyLabels'
import { labelStore } from '@core/labels/projectLabels'
import { makeProject, tempDir } from '../helpers/synthetic'
import { treeHash } from '@test/helpers/treeHash'

const REPO = resolve(__dirname, '../..')
const isRoot = process.getuid?.() === 0
const NOBODY = 65534

function othersCanReach(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

describe('apply-labels', () => {
  let tmp: ReturnType<typeof tempDir>
  let root: string
  let state: ProjectState

  async function scan(): Promise<void> {
    const s = await scanProject(root)
    state.store.upsertProject(root, s.layout)
    state.store.saveScan(state.project.id, s)
  }
  const id = (rel: string): number => state.store.getImageByPath(state.project.id, rel)!.id
  function plan(): ReturnType<typeof planApplyLabels> {
    const r = labelStore(state.store).resolve(state.project.id)
    return planApplyLabels(root, 'flat', r.byImage.values(), r.unmatched)
  }

  beforeEach(async () => {
    tmp = tempDir('tunelab-apply-')
    root = join(tmp.dir, 'pets')
    await makeProject(root, { classes: ['cat', 'dog'], perClass: 4, size: 24 })
    state = openProjectState(root)
    await scan()
    const labels = labelStore(state.store)
    labels.set(state.project.id, [id('cat/cat.img.0.jpg'), id('cat/cat.img.1.jpg')], { kind: 'relabel', to: 'dog' }, [
      'cat',
      'dog'
    ])
    labels.set(state.project.id, [id('dog/dog.img.2.jpg')], { kind: 'exclude' }, ['cat', 'dog'])
  })
  afterEach(() => {
    state.store.close()
    chmodSync(tmp.dir, 0o700)
    tmp.cleanup()
  })

  it('moves exactly the planned files, suffixes a taken name, and undo restores the tree byte for byte', async () => {
    // A file already named like a destination: it must not be overwritten.
    copyFileSync(join(root, 'dog/dog.img.0.jpg'), join(root, 'dog/cat.img.1.jpg'))
    const before = treeHash(root)
    const p = plan()
    expect(p.moves).toEqual([
      { from: 'cat/cat.img.0.jpg', to: 'dog/cat.img.0.jpg', reason: 'relabel', renamed: false },
      { from: 'cat/cat.img.1.jpg', to: 'dog/cat.img.1 (1).jpg', reason: 'relabel', renamed: true },
      { from: 'dog/dog.img.2.jpg', to: `${EXCLUDED_DIR_NAME}/dog/dog.img.2.jpg`, reason: 'exclude', renamed: false }
    ])
    expect(treeHash(root)).toBe(before) // planning changes nothing

    const progress: number[] = []
    const r = applyLabels(root, p, state.stateDir, (done) => progress.push(done))
    expect(r.moved).toBe(3)
    expect(progress).toEqual([1, 2, 3])
    expect(readdirSync(join(root, 'cat')).sort()).toEqual(['cat.img.2.jpg', 'cat.img.3.jpg'])
    expect(readdirSync(join(root, 'dog')).sort()).toEqual([
      'cat.img.0.jpg',
      'cat.img.1 (1).jpg',
      'cat.img.1.jpg',
      'dog.img.0.jpg',
      'dog.img.1.jpg',
      'dog.img.3.jpg'
    ])
    expect(existsSync(join(root, EXCLUDED_DIR_NAME, 'dog', 'dog.img.2.jpg'))).toBe(true)

    // The next scan ignores _excluded and finds the relabelled files in their new folder: the overrides follow.
    await scan()
    const s = await scanProject(root)
    expect(s.classes.map((c) => [c.name, c.total])).toEqual([
      ['cat', 2],
      ['dog', 6]
    ])
    const res = labelStore(state.store).resolve(state.project.id)
    expect([...res.byImage.values()].map((o) => [o.relPath, o.applied])).toEqual([
      ['dog/cat.img.0.jpg', true],
      ['dog/cat.img.1 (1).jpg', true]
    ])
    expect(res.unmatched.map((o) => o.relPath)).toEqual(['dog/dog.img.2.jpg'])
    expect(plan().moves).toEqual([]) // nothing left to apply

    const u = undoApplyLabels(root, state.stateDir)
    expect(u.moved).toBe(3)
    expect(treeHash(root)).toBe(before)
    expect(existsSync(join(root, EXCLUDED_DIR_NAME))).toBe(false)
    expect(() => undoApplyLabels(root, state.stateDir)).toThrow(/nothing to undo/)
  })

  it('refuses to overwrite a file that appeared after planning, and moves nothing', () => {
    const before = treeHash(root)
    const p = plan()
    writeFileSync(join(root, 'dog/cat.img.0.jpg'), 'someone else')
    const withIntruder = treeHash(root)
    expect(withIntruder).not.toBe(before)
    expect(() => applyLabels(root, p, state.stateDir)).toThrow(/would overwrite dog\/cat.img.0.jpg: nothing was moved/)
    expect(treeHash(root)).toBe(withIntruder)
  })

  it('a failure midway puts back what was already moved', () => {
    const before = treeHash(root)
    const p = plan()
    const aside = join(tmp.dir, 'aside.jpg')
    // After the first move, the third source disappears (taken away by "another program"): its move fails.
    expect(() =>
      applyLabels(root, p, state.stateDir, (done) => {
        if (done === 1) renameSync(join(root, 'dog/dog.img.2.jpg'), aside)
      })
    ).toThrow(
      /moving dog\/dog.img.2.jpg to _excluded\/dog\/dog.img.2.jpg failed: .*ENOENT.*the 2 file\(s\) moved before were put back/
    )
    renameSync(aside, join(root, 'dog/dog.img.2.jpg'))
    expect(treeHash(root)).toBe(before)
    const journals = readdirSync(join(state.stateDir, 'apply-labels'))
    expect(journals).toHaveLength(1)
    expect(() => undoApplyLabels(root, state.stateDir)).toThrow(/nothing to undo/) // the journal says rolled back
  })

  it.skipIf(!isRoot || !othersCanReach(REPO))(
    'a read-only class folder gets a clear error and nothing moves (run as an unprivileged user)',
    () => {
      chmodSync(tmp.dir, 0o755)
      chmodSync(root, 0o755)
      // The state folder stays writable (the overrides live there); the class folders are read-only.
      for (const d of ['.tunelab', join('.tunelab', 'cache'), join('.tunelab', 'models')])
        chmodSync(join(root, d), 0o777)
      for (const f of readdirSync(join(root, '.tunelab'))) chmodSync(join(root, '.tunelab', f), 0o666)
      chmodSync(join(root, 'cat'), 0o555)
      chmodSync(join(root, 'dog'), 0o555)
      state.store.close()
      const before = treeHash(root)
      const home = join(tmp.dir, 'home')
      mkdirSync(home, { mode: 0o777 })
      chmodSync(home, 0o777)
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'apply-labels', root], {
        cwd: REPO,
        uid: NOBODY,
        gid: NOBODY,
        encoding: 'utf8',
        env: { ...process.env, HOME: home, TUNELAB_DATA_DIR: home }
      })
      expect(child.stderr).toMatch(
        /tunelab: error: cannot write in .*pets\/(cat|dog) \(EACCES\).*read-only.*nothing was moved/
      )
      expect(child.status).toBe(1)
      expect(treeHash(root)).toBe(before)
      state = openProjectState(root)
    }
  )
})
