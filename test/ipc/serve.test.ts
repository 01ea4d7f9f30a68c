// Serve mode for real: the server on a generated project, handlers over a real WebSocket, token and containment checks.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import {
  ApiError,
  NO_AUGMENTATION_SPEC_FOR_TESTS,
  type ProjectInfo,
  type TrainingProgress,
  type TuneLabApi
} from '@test/helpers/serveImports'
import { makeProject, tempDir } from '../helpers/synthetic'
import type { RunningServer } from '@server/server'
import { rawGet, startTestServer, wsApi, wsUpgradeStatus } from '@test/helpers/serve'

const SECRET = 'TOP-SECRET-CONTENT-0xC0FFEE'

describe('serve mode', () => {
  const tmp = tempDir('tunelab-serve-')
  let server: RunningServer
  let client: { api: TuneLabApi; close(): void }
  let api: TuneLabApi
  let project: ProjectInfo
  const root = join(tmp.dir, 'project')

  beforeAll(async () => {
    await makeProject(root, { classes: ['cat', 'dog'], perClass: 10, size: 40 })
    writeFileSync(join(tmp.dir, 'secret.txt'), SECRET)
    // A real JPEG outside the project, with the secret appended (still decodable).
    const outside = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .jpeg()
      .toBuffer()
    writeFileSync(join(tmp.dir, 'outside.jpg'), Buffer.concat([outside, Buffer.from(SECRET)]))
    server = await startTestServer(tmp.dir)
    client = wsApi(server)
    api = client.api
    project = await api.project.open({ path: root })
  })

  afterAll(async () => {
    client?.close()
    await server?.close()
    tmp.cleanup()
  })

  it('prints-style URL on 127.0.0.1 with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/)
  })

  it('pages: 401 without or with a wrong token, 200 with it (CSP + cookie), assets via the cookie', async () => {
    expect((await rawGet(server.port, '/')).status).toBe(401)
    expect((await rawGet(server.port, '/?token=wrong')).status).toBe(401)
    expect((await rawGet(server.port, `/?token=${server.token}x`)).status).toBe(401)
    const page = await rawGet(server.port, `/?token=${server.token}`)
    expect(page.status).toBe(200)
    expect(page.body.toString()).toContain('<title>TuneLab</title>')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0] ?? ''
    expect(cookie).toMatch(/^tunelab_token=/)
    expect((await rawGet(server.port, '/assets/app.js')).status).toBe(401)
    expect((await rawGet(server.port, '/assets/app.js', { Cookie: 'tunelab_token=nope' })).status).toBe(401)
    const asset = await rawGet(server.port, '/assets/app.js', { Cookie: cookie })
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toContain('text/javascript')
  })

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await rawGet(server.port, `/?token=${server.token}`, { Host: 'evil.example' })).status).toBe(403)
  })

  it('WebSocket: 401 without or with a wrong token, 403 from a foreign origin, 101 with the token', async () => {
    const base = `ws://127.0.0.1:${server.port}/api`
    expect(await wsUpgradeStatus(base)).toBe(401)
    expect(await wsUpgradeStatus(`${base}?token=wrong`)).toBe(401)
    expect(await wsUpgradeStatus(`${base}?token=${server.token}`, { Origin: 'http://evil.example' })).toBe(403)
    expect(await wsUpgradeStatus(`${base}?token=${server.token}`)).toBe(101)
  })

  it('answers handlers over the socket, and errors as envelopes with codes', async () => {
    const info = await api.app.info()
    expect(info).toMatchObject({ transport: 'serve', canPickFolder: false })
    await expect(api.app.pickFolder()).rejects.toMatchObject({ code: 'unsupported' })
    expect(project.name).toBe('project')
    const scan = await api.project.scan({ projectKey: project.projectKey })
    expect(scan.classes.map((c) => [c.name, c.total])).toEqual([
      ['cat', 10],
      ['dog', 10]
    ])
    expect((await api.project.recent()).projects[0]).toMatchObject({ root, exists: true })

    const preview = await api.dataset.previewSplit({
      projectKey: project.projectKey,
      strategy: { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 3 }
    })
    expect(preview.totals).toEqual({ train: 12, validation: 4, test: 4 })
    expect(preview.counts['cat']).toEqual({ train: 6, validation: 2, test: 2 })
    expect(await api.dataset.getSplit({ projectKey: project.projectKey })).toBeNull()
    const saved = await api.dataset.saveSplit({
      projectKey: project.projectKey,
      strategy: { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 3 }
    })
    expect(saved.totals).toEqual(preview.totals)
    expect((await api.dataset.getSplit({ projectKey: project.projectKey }))?.splitId).toBe(saved.splitId)

    const dogs = await api.dataset.images({ projectKey: project.projectKey, className: 'dog', split: 'train' })
    expect(dogs.total).toBe(6)
    const first = dogs.images[0]
    if (!first) throw new Error('no image')
    const aug = await api.dataset.augmentPreview({
      projectKey: project.projectKey,
      imageId: first.imageId,
      spec: { ...NO_AUGMENTATION_SPEC_FOR_TESTS, horizontalFlip: true, rotation: 0.2 },
      n: 3,
      seed: 1,
      size: 48
    })
    expect(aug.images).toHaveLength(3)
    const png = Buffer.from((aug.images[0] ?? '').split(',')[1] ?? '', 'base64')
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 48, height: 48 })

    const bad = await api.dataset
      .previewSplit({
        projectKey: project.projectKey,
        strategy: { kind: 'ratios', ratios: [0.5, 0.2], seed: 1 }
      } as never)
      .catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ApiError)
    expect(bad).toMatchObject({ code: 'invalid-request' })
    expect((bad as Error).message).toContain('strategy.ratios')
    await expect(api.runs.list({ projectKey: 'ffffffffffffffff' })).rejects.toMatchObject({ code: 'not-found' })
    await expect(api.project.open({ path: join(tmp.dir, 'nope') })).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringContaining('nope')
    })
    await expect(
      api.dataset.previewSplit({
        projectKey: project.projectKey,
        strategy: { kind: 'folder', testFromVal: 0.5, seed: 1 }
      })
    ).rejects.toMatchObject({ code: 'bad-input' })
  })

  it('serves images by id (thumb and full) and refuses traversal, absolute paths and symlinks out of the root', async () => {
    const t = `token=${server.token}`
    const { images } = await api.dataset.images({ projectKey: project.projectKey, limit: 3 })
    const [a, b] = images
    if (!a || !b) throw new Error('no images')
    const thumb = await rawGet(server.port, `/image/${project.projectKey}/${a.imageId}?size=thumb&${t}`)
    expect(thumb.status).toBe(200)
    expect(thumb.headers['content-type']).toBe('image/jpeg')
    expect(await sharp(thumb.body).metadata()).toMatchObject({ width: 40, height: 40 })
    expect((await rawGet(server.port, `/image/${project.projectKey}/${a.imageId}?size=full&${t}`)).status).toBe(200)
    expect((await rawGet(server.port, `/image/${project.projectKey}/${a.imageId}?size=thumb`)).status).toBe(401)
    expect((await rawGet(server.port, `/image/${project.projectKey}/${a.imageId}?size=thumb&token=bad`)).status).toBe(
      401
    )
    expect((await rawGet(server.port, `/image/${project.projectKey}/999999?${t}`)).status).toBe(404)
    expect((await rawGet(server.port, `/image/ffffffffffffffff/${a.imageId}?${t}`)).status).toBe(404)

    const attacks = [
      `/image/../secret.txt?${t}`,
      `/image/${project.projectKey}/../../secret.txt?${t}`,
      `/image/%2e%2e/%2e%2e/secret.txt?${t}`,
      `/image/${project.projectKey}/%2e%2e%2f%2e%2e%2fsecret.txt?${t}`,
      `/image/${project.projectKey}/..%2f..%2fsecret.txt?${t}`,
      `/image/${encodeURIComponent(join(tmp.dir, 'secret.txt'))}?${t}`,
      `/image//${join(tmp.dir, 'secret.txt')}?${t}`,
      `/${join(tmp.dir, 'secret.txt')}?${t}`,
      `/..%2f..%2f..%2fsecret.txt?${t}`,
      `/%2e%2e/%2e%2e/secret.txt?${t}`,
      `/image/${project.projectKey}/${a.imageId}%00.txt?${t}`
    ]
    for (const path of attacks) {
      const res = await rawGet(server.port, path)
      expect([400, 403, 404], path).toContain(res.status)
      expect(res.body.toString('latin1'), path).not.toContain(SECRET)
    }

    // The file behind a known id is swapped for a symlink to a file outside the project (after the scan stored it).
    const victim = join(root, b.relPath)
    renameSync(victim, `${victim}.orig`)
    symlinkSync(join(tmp.dir, 'outside.jpg'), victim)
    for (const size of ['thumb', 'full']) {
      const res = await rawGet(server.port, `/image/${project.projectKey}/${b.imageId}?size=${size}&${t}`)
      expect(res.status).toBe(403)
      expect(res.body.toString('latin1')).not.toContain(SECRET)
    }
    rmSync(victim)
    renameSync(`${victim}.orig`, victim)
    expect((await rawGet(server.port, `/image/${project.projectKey}/${b.imageId}?size=thumb&${t}`)).status).toBe(200)
  })

  it('trains in a worker over the socket: progress events, stored epochs, galleries, confusion, threshold, predict', async () => {
    const events: TrainingProgress[] = []
    const off = api.training.onProgress((e) => events.push(e))
    const done = new Promise<void>((resolve) => {
      api.training.onProgress((e) => {
        if (e.event.type === 'done') resolve()
      })
    })
    const { runId } = await api.training.start({
      projectKey: project.projectKey,
      config: {
        baseId: 'mobilenet_v1_0.25_32',
        weights: 'random',
        resizeMode: 'squash',
        split: { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 3 },
        augment: NO_AUGMENTATION_SPEC_FOR_TESTS,
        epochs: 2,
        batchSize: 8,
        lr: 1e-3,
        optimizer: 'adam',
        dropout: 0,
        seed: 7,
        backend: 'cpu'
      }
    })
    expect(runId).toBeGreaterThan(0)
    expect((await api.training.active()).runs.map((r) => r.runId)).toContain(runId)
    await expect(
      api.training.start({
        projectKey: project.projectKey,
        config: {
          baseId: 'mobilenet_v1_0.25_32',
          weights: 'random',
          resizeMode: 'squash',
          augment: NO_AUGMENTATION_SPEC_FOR_TESTS,
          epochs: 1,
          batchSize: 8,
          lr: 1e-3,
          optimizer: 'adam',
          dropout: 0,
          seed: 1
        }
      })
    ).rejects.toMatchObject({ code: 'conflict' })
    await done
    off()
    // The finished run's worker exits (and frees its TF.js engine): no run is listed as active any more.
    await vi.waitFor(async () => expect((await api.training.active({})).runs).toEqual([]), {
      timeout: 10_000,
      interval: 100
    })
    const mine = events.filter((e) => e.runId === runId)
    expect(mine.filter((e) => e.event.type === 'epoch')).toHaveLength(2)
    expect(mine.some((e) => e.event.type === 'batch')).toBe(true)
    expect(mine.at(-1)?.event).toEqual({ type: 'done', status: 'completed', error: null })

    const detail = await api.runs.get({ projectKey: project.projectKey, runId })
    expect(detail.run.status).toBe('completed')
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1, 2])
    expect(detail.evaluatedSplits).toEqual(['validation', 'test'])
    expect((await api.runs.list({ projectKey: project.projectKey })).runs[0]?.runId).toBe(runId)

    const confusion = await api.results.confusion({ projectKey: project.projectKey, runId, split: 'validation' })
    expect(confusion.classes).toEqual(['cat', 'dog'])
    expect(confusion.total).toBe(4)
    expect(confusion.matrix.flat().reduce((s, x) => s + x, 0)).toBe(4)
    const gallery = await api.results.gallery({
      projectKey: project.projectKey,
      runId,
      split: 'validation',
      kind: 'least-confident',
      className: null,
      n: 10
    })
    expect(gallery.items).toHaveLength(4)
    const cellCounts = await Promise.all(
      ['cat', 'dog'].flatMap((t) =>
        ['cat', 'dog'].map((p) =>
          api.results
            .cell({ projectKey: project.projectKey, runId, split: 'validation', trueClass: t, predictedClass: p })
            .then((r) => r.items.length)
        )
      )
    )
    expect(cellCounts).toEqual(confusion.matrix.flat())
    const sweep = await api.results.threshold({
      projectKey: project.projectKey,
      runId,
      split: 'validation',
      thresholds: [0, 1]
    })
    expect(sweep.points[0]).toMatchObject({ threshold: 0, coverage: 1, covered: 4 })

    const img = gallery.items[0]
    if (!img) throw new Error('empty gallery')
    const pred = await api.predict.image({
      projectKey: project.projectKey,
      runId,
      image: { kind: 'imageId', imageId: img.imageId }
    })
    expect(pred.classes).toEqual(['cat', 'dog'])
    expect(pred.probabilities.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5)
    // The stored prediction and the saved model agree on the same image.
    expect(pred.probabilities[1]).toBeCloseTo(img.probabilities[1] ?? -1, 4)
    // Dropped-in bytes go over the HTTP upload route (not a WebSocket frame) and give the same answer.
    const bytes = readFileSync(join(root, img.relPath))
    const dropped = await api.predict.image({
      projectKey: project.projectKey,
      runId,
      image: { kind: 'bytes', name: 'dropped.jpg', base64: bytes.toString('base64') }
    })
    expect(dropped.probabilities[1]).toBeCloseTo(pred.probabilities[1] ?? -1, 4)
  }, 180_000)
})
