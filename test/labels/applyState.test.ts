// What the app offers to undo around an apply to the folders: "Undo last" only while the last action's images are
// still overrides (after the apply their files moved: undoing the override alone would change nothing), and
// "Undo apply" only while there is an apply to put back.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LabelStateView } from '@shared/contract/labelSchemas'
import { testSession } from '@test/helpers/session'
import { makeProject } from '@test/helpers/synthetic'

describe('undo around an apply to the folders', () => {
  const { dir, call } = testSession('tunelab-apply-state-')

  it('offers "Undo last" until the apply and "Undo apply" only after it, and both again after the undo', async () => {
    const root = join(dir, 'pets')
    await makeProject(root, { classes: ['cats', 'dogs'], perClass: 4, size: 16 })
    const { projectKey } = await call<{ projectKey: string }>('project.open', { path: root })
    await call('project.scan', { projectKey })
    const images = await call<{ images: { imageId: number; className: string }[] }>('dataset.images', { projectKey })
    const [cat, dog] = [
      images.images.find((i) => i.className === 'cats'),
      images.images.find((i) => i.className === 'dogs')
    ]
    await call('labels.set', { projectKey, imageIds: [cat?.imageId], action: { kind: 'exclude' } })
    const before = await call<LabelStateView>('labels.set', {
      projectKey,
      imageIds: [dog?.imageId],
      action: { kind: 'relabel', to: 'cats' }
    })
    expect(before.undoable).toMatchObject({ kind: 'relabel', images: 1 })
    expect(before.lastApply).toBeNull()

    await call('labels.apply', { projectKey })
    const applied = await call<LabelStateView>('labels.list', { projectKey })
    expect(applied.undoable).toBeNull()
    expect(applied.lastApply).toMatchObject({ files: 2 })

    await call('labels.applyUndo', { projectKey })
    const undone = await call<LabelStateView>('labels.list', { projectKey })
    expect(undone.undoable).toMatchObject({ kind: 'relabel', images: 1 })
    expect(undone.lastApply).toBeNull()
    expect(undone.counts).toEqual({ relabelled: 1, excluded: 1 })
  })
})
