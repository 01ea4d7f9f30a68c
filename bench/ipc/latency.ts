// Round-trip latency of a request over the serve-mode WebSocket (app.info, runs.list) while a training runs in
// the worker thread, versus idle, on a small generated project. Prints p50/p99 in ms. Run: npx tsx bench/ipc/latency.ts
// The same measurement during a real training on the real data set: bench/screens/real.ts.
import { join } from 'node:path'
import { NO_AUGMENTATION } from '@shared/domain'
import { makeProject, tempDir } from '../../test/helpers/synthetic'
import { startTestServer, wsApi } from '@test/helpers/serve'
import { formatLatency as fmt } from './sampler'

const tmp = tempDir('tunelab-bench-ipc-')
const server = await startTestServer(tmp.dir)
const { api, close } = wsApi(server)
try {
  await makeProject(join(tmp.dir, 'p'), { classes: ['a', 'b'], perClass: 150, size: 96 })
  const project = await api.project.open({ path: join(tmp.dir, 'p') })
  await api.project.scan({ projectKey: project.projectKey })

  const sample = async (n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      await api.runs.list({ projectKey: project.projectKey })
      out.push(performance.now() - t)
      await new Promise((r) => setTimeout(r, 5))
    }
    return out
  }
  await sample(50)
  const idle = await sample(300)

  let done = false
  let batches = 0
  api.training.onProgress((e) => {
    if (e.event.type === 'batch') batches++
    if (e.event.type === 'done') done = true
  })
  await api.training.start({
    projectKey: project.projectKey,
    config: {
      baseId: 'mobilenet_v2_0.35_96',
      weights: 'random',
      resizeMode: 'squash',
      augment: { ...NO_AUGMENTATION, horizontalFlip: true },
      epochs: 3,
      batchSize: 16,
      lr: 1e-3,
      optimizer: 'adam',
      dropout: 0.2,
      seed: 1,
      backend: 'wasm'
    }
  })
  const busy: number[] = []
  while (!done) busy.push(...(await sample(20)))
  console.log(`idle:               ${fmt(idle)}`)
  console.log(`while training:     ${fmt(busy)} (${batches} batch events pushed meanwhile)`)
} finally {
  close()
  await server.close()
  tmp.cleanup()
}
