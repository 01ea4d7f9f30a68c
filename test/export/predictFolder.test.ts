import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createPredictPool,
  csvField,
  csvRow,
  exportModel,
  isFailed,
  listImageFiles,
  loadExportedModel,
  parseCsv,
  predictFiles,
  predictFolder,
  type LoadedModel,
  type PredictedFile
} from '@core/export'
import { encodeRgb, syntheticRgb, tempDir } from '../helpers/synthetic'
import { createRng } from '@core/util/rng'
import { trainFixture, useWasmBackend } from '@test/helpers/exportFixtures'

// Class names a CSV writer must quote: comma, quote, unicode.
const CLASSES = ['red, "dark"', 'blüe 青', 'green']
const tmp = tempDir('tunelab-predict-folder-')
let loaded: LoadedModel
let folder: string
let expected: string[]

beforeAll(async () => {
  await useWasmBackend()
  const fx = await trainFixture(join(tmp.dir, 'project'), CLASSES, 'squash', 9)
  await exportModel(
    {
      model: fx.result.model,
      classes: CLASSES,
      base: fx.base.spec,
      resizeMode: 'squash',
      preprocessing: fx.base.spec.preprocessing,
      outputUnits: fx.result.outputUnits
    },
    join(tmp.dir, 'export')
  )
  fx.result.dispose()
  fx.base.model.dispose()
  loaded = await loadExportedModel(join(tmp.dir, 'export'))

  folder = join(tmp.dir, 'to-predict')
  const rng = createRng(5)
  const put = async (rel: string, cls: number, format: 'jpg' | 'png' | 'webp' | 'bmp'): Promise<void> => {
    mkdirSync(join(folder, rel, '..'), { recursive: true })
    writeFileSync(join(folder, rel), await encodeRgb(syntheticRgb(40, cls, rng), 40, 40, format))
  }
  await put('a.jpg', 0, 'jpg')
  await put('UPPER.PNG', 1, 'png')
  await put('sub dir/été, "quoted" 猫.JPEG', 2, 'jpg')
  await put('sub dir/deeper/x.webp', 1, 'webp')
  await put('sub dir/deeper/y.Bmp', 0, 'bmp')
  await put('.hidden.jpg', 0, 'jpg')
  await put('.hidden-dir/z.jpg', 0, 'jpg')
  writeFileSync(join(folder, 'notes.txt'), 'not an image')
  writeFileSync(join(folder, 'broken.jpg'), 'garbage, not a jpeg')
  expected = [
    'UPPER.PNG',
    'a.jpg',
    'broken.jpg',
    'sub dir/deeper/x.webp',
    'sub dir/deeper/y.Bmp',
    'sub dir/été, "quoted" 猫.JPEG'
  ]
})
afterAll(() => {
  loaded?.model.dispose()
  tmp.cleanup()
})

describe('CSV fields', () => {
  it('quotes commas, quotes, line breaks and edge spaces only', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField(' padded')).toBe('" padded"')
    expect(csvField('猫 été')).toBe('猫 été')
    expect(csvField(null)).toBe('')
    expect(csvRow(['a,b', 1.5, ''])).toBe('"a,b",1.5,\r\n')
    expect(parseCsv('\ufeffx,"a,""b"""\r\n"multi\nline",2\r\n')).toEqual([
      ['x', 'a,"b"'],
      ['multi\nline', '2']
    ])
  })
})

describe('predictFolder', () => {
  it('lists images recursively, any extension case, skipping hidden and non-image files', async () => {
    const files = await listImageFiles(folder)
    expect(files.map((f) => f.slice(folder.length + 1))).toEqual(expected)
  })

  it('writes one quoted, parseable CSV row per image with per-class probabilities and per-file errors', async () => {
    const csvPath = join(tmp.dir, 'out.csv')
    const progress: number[] = []
    const r = await predictFolder(loaded, folder, csvPath, { batchSize: 4, onProgress: (d) => progress.push(d) })
    expect(r).toMatchObject({ csvPath, total: 6, predicted: 5, failed: 1 })
    expect(progress).toEqual([4, 6])
    const text = readFileSync(csvPath, 'utf8')
    expect(text.startsWith('\ufeffpath,predicted,confidence,"p_red, ""dark""",p_blüe 青,p_green,error\r\n')).toBe(true)
    const rows = parseCsv(text)
    expect(rows[0]).toEqual(['path', 'predicted', 'confidence', 'p_red, "dark"', 'p_blüe 青', 'p_green', 'error'])
    expect(rows.slice(1).map((row) => row[0])).toEqual(expected)
    expect(rows.every((row) => row.length === 7)).toBe(true)

    const direct = await predictFiles(
      loaded,
      expected.map((p) => join(folder, p))
    )
    rows.slice(1).forEach((row, i) => {
      const d = direct[i]
      if (!d || isFailed(d)) {
        expect(row.slice(1, 6)).toEqual(['', '', '', '', ''])
        expect(row[6]).toMatch(/not a recognised image format/)
        return
      }
      expect(row[1]).toBe(d.predictedClass)
      expect(Number(row[2])).toBeCloseTo(d.confidence, 6)
      CLASSES.forEach((c, k) => expect(Number(row[3 + k])).toBeCloseTo(d.probabilities[c] as number, 6))
      const sum = CLASSES.reduce((a, _c, k) => a + Number(row[3 + k]), 0)
      expect(sum).toBeCloseTo(1, 4)
      expect(row[6]).toBe('')
    })
    // The model is not constant: the files do not all get the same probabilities.
    const ps = direct
      .filter((d): d is PredictedFile => !isFailed(d))
      .map((d) => d.probabilities[CLASSES[0] as string] as number)
    expect(Math.max(...ps) - Math.min(...ps)).toBeGreaterThan(1e-3)
  })

  it('gives the same predictions on a two-worker pool, and refuses a pool built for another model', async () => {
    const files = expected.map((p) => join(folder, p))
    const here = await predictFiles(loaded, files)
    const pool = await createPredictPool(loaded, { workers: 2, foldBn: false })
    try {
      const there = await predictFiles(loaded, files, { pool, batchSize: 4 })
      expect(there.map((p) => (isFailed(p) ? p.error : p.predictedClass))).toEqual(
        here.map((p) => (isFailed(p) ? p.error : p.predictedClass))
      )
      here.forEach((h, i) => {
        const t = there[i]
        if (isFailed(h) || !t || isFailed(t)) return
        CLASSES.forEach((c) =>
          expect(Math.abs((t.probabilities[c] as number) - (h.probabilities[c] as number))).toBeLessThan(1e-5)
        )
      })
    } finally {
      await pool.close()
    }
    const other = {
      ...loaded,
      meta: { ...loaded.meta, preprocessing: { kind: 'scale' as const, scale: 1 / 255, offset: 0 } }
    }
    const wrong = await createPredictPool(other, { workers: 1 })
    try {
      await expect(predictFiles(loaded, files, { pool: wrong })).rejects.toThrow(
        /the pool does not run this export's model/
      )
    } finally {
      await wrong.close()
    }
  })

  it('fails clearly on a missing folder, an empty folder or an unwritable CSV location, writing nothing', async () => {
    await expect(predictFolder(loaded, join(tmp.dir, 'absent'), join(tmp.dir, 'x.csv'))).rejects.toThrow(
      /absent is not a folder/
    )
    const empty = join(tmp.dir, 'empty')
    mkdirSync(empty)
    writeFileSync(join(empty, 'readme.txt'), 'no images here')
    await expect(predictFolder(loaded, empty, join(tmp.dir, 'x.csv'))).rejects.toThrow(
      /no images in .*empty \(looked for \.jpg/
    )
    await expect(predictFolder(loaded, folder, join(tmp.dir, 'no-such-dir', 'x.csv'))).rejects.toThrow(
      /folder .*no-such-dir does not exist/
    )
    expect(() => readFileSync(join(tmp.dir, 'x.csv'))).toThrow()
  })
})
