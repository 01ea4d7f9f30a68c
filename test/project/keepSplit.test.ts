// A stored split keeps its images where they are: fixing labels (and applying them to the folders, which moves
// files) or adding photos must not reshuffle the test set that runs are compared on.
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ScannedImage, SplitName, SplitStrategy } from '@shared/domain'
import { assignKeeping, assignSplits } from '@core/project/split'
import { testSession } from '@test/helpers/session'
import { makeProject } from '@test/helpers/synthetic'

const image = (path: string, className: string, folderSplit: SplitName | null = null): ScannedImage => ({
  path,
  className,
  folderSplit,
  hash: `h:${path.split('/').pop()}`,
  width: 8,
  height: 8,
  bytes: 1
})

describe('assignKeeping', () => {
  const ratios: SplitStrategy = { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 3 }
  const images = Array.from({ length: 20 }, (_, i) => image(`${i % 2 ? 'b' : 'a'}/${i}.jpg`, i % 2 ? 'b' : 'a'))

  it('keeps every stored image (by path, else by content) and assigns only the new ones', () => {
    const first = assignSplits(images, ratios)
    const stored = {
      strategy: ratios,
      assignment: first,
      byContent: new Map(images.map((im) => [im.hash, first.get(im.path) as SplitName]))
    }
    // a/0.jpg moved to b/ (same content), two photos added.
    const moved = images.map((im) => (im.path === 'a/0.jpg' ? { ...im, path: 'b/0.jpg', className: 'b' } : im))
    const now = [...moved, image('a/new1.jpg', 'a'), image('b/new2.jpg', 'b')]
    const kept = assignKeeping(now, ratios, stored)
    for (const im of moved)
      expect(kept.get(im.path), im.path).toBe(first.get(im.path === 'b/0.jpg' ? 'a/0.jpg' : im.path))
    expect(kept.get('a/new1.jpg')).toBeDefined()
    // Without the stored split, the same change reshuffles (which is what keeping prevents).
    const fresh = assignSplits(now, ratios)
    expect(moved.filter((im) => fresh.get(im.path) !== kept.get(im.path)).length).toBeGreaterThan(0)
  })

  it('starts afresh for another strategy, and a folder split follows a file moved to another split folder', () => {
    const stored = {
      strategy: ratios,
      assignment: new Map<string, SplitName>([['a/0.jpg', 'test']]),
      byContent: new Map()
    }
    const other: SplitStrategy = { ...ratios, seed: 4 }
    expect(assignKeeping(images, other, stored)).toEqual(assignSplits(images, other))
    const folder: SplitStrategy = { kind: 'folder', testFromVal: 0.5, seed: 1 }
    const inFolders = [image('train/a/1.jpg', 'a', 'train'), image('train/b/2.jpg', 'b', 'train')]
    const was = {
      strategy: folder,
      assignment: new Map(),
      byContent: new Map<string, SplitName>([['h:1.jpg', 'test']])
    }
    expect(assignKeeping(inFolders, folder, was).get('train/a/1.jpg')).toBe('train')
  })
})

describe('apply to folders, then the split', () => {
  const { dir, call } = testSession('tunelab-keep-split-')
  type Listed = { images: { imageId: number; relPath: string; className: string; split: SplitName | null }[] }

  it('keeps the test set after relabelled test images are moved to their new class folder and photos are added', async () => {
    const root = join(dir, 'pets')
    await makeProject(root, { classes: ['cats', 'dogs'], perClass: 15, size: 16 })
    const { projectKey } = await call<{ projectKey: string }>('project.open', { path: root })
    await call('project.scan', { projectKey })
    const strategy = { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 5 }
    await call('dataset.saveSplit', { projectKey, strategy })
    const before = await call<Listed>('dataset.images', { projectKey })
    const testNames = (l: Listed): string[] =>
      l.images
        .filter((i) => i.split === 'test')
        .map((i) => i.relPath.split('/').pop() as string)
        .sort()
    const cats = before.images.filter((i) => i.className === 'cats' && i.split === 'test').slice(0, 2)
    await call('labels.set', {
      projectKey,
      imageIds: cats.map((c) => c.imageId),
      action: { kind: 'relabel', to: 'dogs' }
    })
    await call('labels.apply', { projectKey })
    copyFileSync(join(root, 'dogs', 'dogs.img.0.jpg'), join(root, 'dogs', 'added.jpg'))
    await call('project.scan', { projectKey })

    await call('dataset.saveSplit', { projectKey, strategy })
    const after = await call<Listed>('dataset.images', { projectKey })
    const kept = testNames(after).filter((n) => n !== 'added.jpg')
    expect(kept).toEqual(testNames(before))
    for (const c of cats)
      expect(after.images.find((i) => i.relPath === `dogs/${c.relPath.split('/').pop()}`)?.split).toBe('test')
  })
})
