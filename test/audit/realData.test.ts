// The audit's acceptance checks on real photos (needs /work/shared/data): planted label flips and near-duplicates in
// a copy of cats_and_dogs_filtered, the placeholder picture of hymenoptera_data, and the CLI's --json last line.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAudit, DEFAULT_AUDIT_OPTIONS, type AuditOptions, type AuditOutcome } from '@core/audit/runAudit'
import { openProjectState } from '@core/store/projectState'
import { listFindings, latestAudit } from '@core/store/auditStore'
import { SHARED_DATA } from '@test/helpers/sharedData'
import { copyWithFlippedLabels, copyWithNearDuplicates, writableCopy, type PlantedDuplicate } from './fixtures'

const CATS_DOGS = join(SHARED_DATA, 'cats_and_dogs_filtered')
const HYMENOPTERA = join(SHARED_DATA, 'hymenoptera_data')
const TM_V2 = join(SHARED_DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const ROOT = resolve(import.meta.dirname, '../..')
const OPTIONS: AuditOptions = {
  ...DEFAULT_AUDIT_OPTIONS,
  baseId: 'mobilenet_v2_0.35_224',
  weights: { kind: 'file', path: TM_V2 },
  backend: 'wasm'
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

describe.skipIf(!existsSync(CATS_DOGS) || !existsSync(TM_V2))(
  'audit of cats_and_dogs_filtered with planted defects (needs /work/shared/data)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-audit-cd-'))
    const root = join(dir, 'cats_and_dogs')
    let flipped: string[]
    let planted: PlantedDuplicate[]
    let cold: AuditOutcome
    let coldSeconds: number
    beforeAll(async () => {
      flipped = copyWithFlippedLabels(CATS_DOGS, root, 0.05, 7)
      planted = await copyWithNearDuplicates(root, root, 10, 3)
      // The folder's own split: train/ and validation/ (no test split), so every image takes part in the folds.
      const split = await cli(['split', root, '--use-folder-split', '--json'])
      expect(split.code, split.stderr).toBe(0)
      const t0 = performance.now()
      cold = await runAudit(root, OPTIONS)
      coldSeconds = (performance.now() - t0) / 1000
    }, 1_800_000)
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('puts at least 80 % of the flipped labels in the top 1.5 x (number flipped) label issues, with the true class suggested', async () => {
      expect(flipped).toHaveLength(100)
      const n = Math.round(1.5 * flipped.length)
      const top = cold.labelIssues.slice(0, n)
      const hits = top.filter((x) => flipped.includes(x.path))
      const recall = hits.length / flipped.length
      const precision = hits.length / n
      for (const h of hits) expect(h.suggested).not.toBe(h.className)
      // Warm: the features come from the cache training and the audit share.
      const t0 = performance.now()
      const warm = await runAudit(root, OPTIONS)
      const warmSeconds = (performance.now() - t0) / 1000
      expect(warm.featuresFromDisk).toBe(3010)
      expect(warm.labelIssues.map((x) => x.path)).toEqual(cold.labelIssues.map((x) => x.path))
      console.log(
        `label flips: ${hits.length}/${flipped.length} in the top ${n} of ${cold.labelIssues.length} issues: ` +
          `recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)}; audit ${coldSeconds.toFixed(1)} s cold ` +
          `(${JSON.stringify(cold.seconds)}), ${warmSeconds.toFixed(1)} s with features cached (${JSON.stringify(warm.seconds)})`
      )
      expect(recall).toBeGreaterThanOrEqual(0.8)
    }, 1_800_000)

    it('finds all 10 planted near-duplicates across splits, flagged as leakage, with at most 2 other pairs', () => {
      const key = (a: string, b: string): string => [a, b].sort().join(' ~ ')
      const found = new Set(cold.nearDuplicates.map((p) => key(p.a.path, p.b.path)))
      const missing = planted.filter((p) => !found.has(key(p.original, p.copy)))
      const plantedKeys = new Set(planted.map((p) => key(p.original, p.copy)))
      const others = cold.nearDuplicates.filter((p) => !plantedKeys.has(key(p.a.path, p.b.path)))
      console.log(
        `near-duplicates: ${planted.length - missing.length}/10 planted found; other pairs: ${
          others.map((p) => `${p.a.path} ~ ${p.b.path} (${p.similarity.toFixed(4)})`).join(', ') || 'none'
        }; lowest planted similarity ${Math.min(
          ...cold.nearDuplicates.filter((p) => plantedKeys.has(key(p.a.path, p.b.path))).map((p) => p.similarity)
        ).toFixed(4)}`
      )
      expect(missing).toEqual([])
      expect(others.length).toBeLessThanOrEqual(2)
      for (const p of cold.nearDuplicates.filter((x) => plantedKeys.has(key(x.a.path, x.b.path))))
        expect(p.crossSplit).toBe(true)
      // Stored: the findings read back from SQLite in the same order.
      const state = openProjectState(root)
      try {
        const audit = latestAudit(state.store.db, state.project.id)
        expect(audit?.classes).toEqual(['cats', 'dogs'])
        const stored = listFindings(state.store.db, audit?.id ?? -1, 'duplicate')
        expect(stored.map((f) => key(f.image.relPath, f.other?.relPath ?? ''))).toEqual(
          cold.nearDuplicates.map((p) => key(p.a.path, p.b.path))
        )
      } finally {
        state.store.close()
      }
    })
  }
)

describe.skipIf(!existsSync(HYMENOPTERA) || !existsSync(TM_V2))(
  'audit of hymenoptera_data from the CLI (needs /work/shared/data)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-audit-hym-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('puts the placeholder picture train/ants/imageNotFound.gif among the top 5 outliers or label issues; --json ends with the documented line', async () => {
      const root = join(dir, 'hymenoptera')
      writableCopy(HYMENOPTERA, root)
      const r = await cli([
        'audit',
        root,
        '--base',
        'mobilenet_v2_0.35_224',
        '--weights',
        TM_V2,
        '--folds',
        '5',
        '--json'
      ])
      expect(r.code, r.stderr).toBe(0)
      const lines = r.stdout.trim().split('\n')
      const done = JSON.parse(lines.at(-1) as string) as {
        event: string
        labelIssues: { path: string; given: string; suggested: string; score: number }[]
        nearDuplicates: { a: string; b: string; similarity: number }[]
        outliers: { path: string; score: number }[]
      }
      expect(Object.keys(done)).toEqual(['event', 'labelIssues', 'nearDuplicates', 'outliers'])
      expect(done.event).toBe('done')
      for (const x of done.labelIssues) expect(Object.keys(x)).toEqual(['path', 'given', 'suggested', 'score'])
      for (const x of done.nearDuplicates) expect(Object.keys(x)).toEqual(['a', 'b', 'similarity'])
      for (const x of done.outliers) expect(Object.keys(x)).toEqual(['path', 'score'])
      const bestFirst = (s: number[]): void =>
        s.forEach((v, i) => i > 0 && expect(v).toBeLessThanOrEqual(s[i - 1] as number))
      bestFirst(done.labelIssues.map((x) => x.score))
      bestFirst(done.nearDuplicates.map((x) => x.similarity))
      bestFirst(done.outliers.map((x) => x.score))
      const top5 = [...done.outliers.slice(0, 5).map((x) => x.path), ...done.labelIssues.slice(0, 5).map((x) => x.path)]
      console.log(
        `hymenoptera: top outliers ${done.outliers
          .slice(0, 5)
          .map((x) => `${x.path} ${x.score}`)
          .join(', ')}`
      )
      expect(top5).toContain('train/ants/imageNotFound.gif')
    }, 900_000)
  }
)
