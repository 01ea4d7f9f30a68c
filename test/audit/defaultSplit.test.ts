// With no split stored, the audit must look at the split training would use: a pre-split folder's own
// train/ and validation/, not a ratio split that would tag validation images as training ones.
import { afterAll, describe, expect, it } from 'vitest'
import { runAudit, DEFAULT_AUDIT_OPTIONS } from '@core/audit/runAudit'
import { openProjectState } from '@core/store/projectState'
import { makeProject, tempDir } from '@test/helpers/synthetic'

describe('audit without a stored split', () => {
  const tmp = tempDir('tunelab-audit-split-')
  afterAll(tmp.cleanup)

  it("stores and audits the folder's own split of a pre-split folder", async () => {
    const project = await makeProject(tmp.dir, {
      layout: 'presplit',
      classes: 2,
      perClass: { train: 8, validation: 5 },
      size: 48
    })
    const outcome = await runAudit(tmp.dir, {
      ...DEFAULT_AUDIT_OPTIONS,
      baseId: 'mobilenet_v2_0.35_96',
      weights: { kind: 'random' },
      backend: 'wasm',
      folds: 2
    })
    const state = openProjectState(tmp.dir)
    try {
      const split = state.store.getSplit(state.project.id)
      expect(split?.strategy.kind).toBe('folder')
      for (const f of project.files) {
        const want = f.splitDir === 'train' ? 'train' : ['validation', 'test']
        expect(want).toContain(split?.assignment.get(f.path))
      }
    } finally {
      state.store.close()
    }
    // Every finding names the split its folder gave it (validation/ images may become test, never train).
    const seen = [...outcome.outliers, ...outcome.nearDuplicates.flatMap((p) => [p.a, p.b])]
    expect(seen.length).toBeGreaterThan(0)
    for (const im of seen) expect(im.split === 'train').toBe(im.path.startsWith('train/'))
  }, 300_000)
})
