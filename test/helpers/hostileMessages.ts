// The hostile WebSocket messages of the fuzz test: one entry per kind. `id` is the integer id the message carries
// (it must be answered under that id); null = no usable id (it must be answered with a protocol error message).
export interface HostileMessage {
  kind: string
  frame: string | Buffer
  /** Send as a binary frame (default text). */
  binary?: boolean
  id: number | null
  /** The frame is one the protocol forbids: the connection must close with this code, the server live on. */
  closes?: number
}

export function hostileMessages(projectKey: string, projectRoot: string): HostileMessage[] {
  const out: HostileMessage[] = []
  let nextId = 1000
  const raw = (kind: string, frame: string, id: number | null = null): void => void out.push({ kind, frame, id })
  /** A well-formed envelope around a hostile channel/request. */
  const req = (kind: string, channel: unknown, request: unknown): void => {
    const id = nextId++
    out.push({ kind, frame: JSON.stringify({ type: 'request', id, channel, request }), id })
  }
  const withId = (kind: string, body: (id: number) => string): void => {
    const id = nextId++
    out.push({ kind, frame: body(id), id })
  }

  // Not JSON at all.
  for (const [kind, frame] of [
    ['empty frame', ''],
    ['whitespace', '   \n'],
    ['lone brace', '{'],
    ['closing brace', '}'],
    ['lone bracket', '['],
    ['truncated literal', 'nul'],
    ['unterminated object', '{"type":"request"'],
    ['single quotes', "{'type':'request','id':1}"],
    ['undefined literal', 'undefined'],
    ['control bytes', '\u0000\u0001\u0002']
  ] as const)
    raw(`invalid JSON: ${kind}`, frame)
  // Not JSON, but the id can still be read: the sender must get an answer under it.
  withId('invalid JSON: NaN literal', (id) => `{"type":"request","id":${id},"channel":"app.info","request":NaN}`)
  withId(
    'invalid JSON: Infinity literal',
    (id) => `{"type":"request","id":${id},"channel":"app.info","request":Infinity}`
  )
  withId('invalid JSON: trailing comma', (id) => `{"type":"request","id":${id},"channel":"app.info","request":{},}`)
  withId(
    'invalid JSON: undefined value',
    (id) => `{"type":"request","id":${id},"channel":"app.info","request":undefined}`
  )

  // JSON, but not a request object.
  for (const frame of ['null', '42', '"request"', 'true', '[]', '[{"type":"request","id":1,"channel":"app.info"}]'])
    raw(`not an object: ${frame}`, frame)

  // Envelope fields wrong.
  withId('missing type', (id) => JSON.stringify({ id, channel: 'app.info', request: {} }))
  withId('type response', (id) => JSON.stringify({ type: 'response', id, channel: 'app.info', request: {} }))
  withId('type event', (id) => JSON.stringify({ type: 'event', id, event: 'training.progress' }))
  out.push({
    kind: 'negative id',
    frame: JSON.stringify({ type: 'request', id: -7, channel: 'app.info', request: { bad: 1 } }),
    id: -7
  })
  withId('missing channel', (id) => JSON.stringify({ type: 'request', id, request: {} }))
  withId('channel number', (id) => JSON.stringify({ type: 'request', id, channel: 42, request: {} }))
  withId('channel null', (id) => JSON.stringify({ type: 'request', id, channel: null, request: {} }))
  withId('channel array', (id) => JSON.stringify({ type: 'request', id, channel: ['app.info'], request: {} }))
  withId('channel object', (id) =>
    JSON.stringify({ type: 'request', id, channel: { toString: 'app.info' }, request: {} })
  )
  raw('id string', JSON.stringify({ type: 'request', id: '7', channel: 'app.info', request: {} }))
  raw('id fraction', JSON.stringify({ type: 'request', id: 1.5, channel: 'app.info', request: {} }))
  raw('id beyond safe integers', '{"type":"request","id":1e300,"channel":"app.info","request":{}}')
  raw('id null', JSON.stringify({ type: 'request', id: null, channel: 'app.info', request: {} }))

  // Unknown channels, including names every object has.
  for (const channel of [
    'nope',
    '',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'app',
    'app.',
    '.info',
    'APP.INFO',
    'app.info ',
    'project.open\u0000',
    'x'.repeat(1_000_000)
  ])
    req(`unknown channel ${JSON.stringify(channel.slice(0, 20))}${channel.length > 20 ? '…' : ''}`, channel, {})

  // Wrong types on real channels.
  req('wrong type: request is a string', 'app.info', 'hello')
  req('wrong type: request is a number', 'app.info', 42)
  req('wrong type: request is an array', 'app.info', [])
  req('wrong type: extra key', 'app.info', { extra: 1 })
  req('wrong type: path number', 'project.open', { path: 42 })
  req('wrong type: path null', 'project.open', { path: null })
  req('wrong type: path empty', 'project.open', { path: '' })
  req('wrong type: path array', 'project.open', { path: [projectRoot] })
  req('wrong type: no path', 'project.open', {})
  req('wrong type: projectKey number', 'project.scan', { projectKey: 5 })
  req('wrong type: limit string', 'dataset.images', { projectKey, limit: 'ten' })
  req('wrong type: config string', 'training.start', { projectKey, config: 'auto' })
  req('wrong type: runId string', 'training.cancel', { runId: '1' })
  req('wrong type: runId boolean', 'runs.get', { projectKey, runId: true })
  req('wrong type: gallery kind', 'results.gallery', {
    projectKey,
    runId: 1,
    split: 'test',
    kind: 'evil',
    className: null,
    n: 5
  })
  req('wrong type: strategy null', 'dataset.previewSplit', { projectKey, strategy: null })
  req('wrong type: image kind path', 'predict.image', {
    projectKey,
    runId: 1,
    image: { kind: 'path', path: '/etc/passwd' }
  })
  req('wrong type: base64 not base64', 'predict.image', {
    projectKey,
    runId: 1,
    image: { kind: 'bytes', name: 'x.jpg', base64: '!!!!' }
  })

  // Huge strings.
  req('huge: 10 MB path', 'project.open', { path: 'a'.repeat(10_000_000) })
  req('huge: 1 MB class name', 'dataset.images', { projectKey, className: 'c'.repeat(1_000_000) })
  req('huge: 1 MB model id', 'models.download', { id: 'm'.repeat(1_000_000) })
  req('huge: 5 MB class in a cell', 'results.cell', {
    projectKey,
    runId: 1,
    split: 'test',
    trueClass: 't'.repeat(5_000_000),
    predictedClass: 'x'
  })
  req('huge: base64 over the image limit', 'predict.image', {
    projectKey,
    runId: 1,
    image: { kind: 'bytes', name: 'big.jpg', base64: 'A'.repeat(50_000_000) }
  })

  // NaN / Infinity reach JSON as 1e999.
  withId(
    'Infinity offset',
    (id) =>
      `{"type":"request","id":${id},"channel":"dataset.images","request":{"projectKey":"${projectKey}","offset":1e999}}`
  )
  withId(
    'Infinity threshold',
    (id) =>
      `{"type":"request","id":${id},"channel":"results.threshold","request":{"projectKey":"${projectKey}","runId":1,"split":"test","thresholds":[1e999]}}`
  )
  withId(
    'Infinity n',
    (id) =>
      `{"type":"request","id":${id},"channel":"dataset.augmentPreview","request":{"projectKey":"${projectKey}","imageId":1,"spec":{},"n":1e999,"seed":0}}`
  )
  withId(
    '-Infinity seed',
    (id) =>
      `{"type":"request","id":${id},"channel":"dataset.augmentPreview","request":{"projectKey":"${projectKey}","imageId":1,"spec":{},"n":1,"seed":-1e999}}`
  )
  withId(
    'Infinity runId',
    (id) => `{"type":"request","id":${id},"channel":"runs.get","request":{"projectKey":"${projectKey}","runId":1e999}}`
  )

  // Negative numbers.
  req('negative runId', 'runs.get', { projectKey, runId: -1 })
  req('negative offset', 'dataset.images', { projectKey, offset: -1 })
  req('negative limit', 'dataset.images', { projectKey, limit: -5 })
  req('negative gallery n', 'results.gallery', {
    projectKey,
    runId: 1,
    split: 'test',
    kind: 'most-confident',
    className: null,
    n: -1
  })
  req('negative imageId', 'dataset.augmentPreview', { projectKey, imageId: -3, spec: {}, n: 1, seed: 0 })
  req('negative cancel runId', 'training.cancel', { runId: -1 })
  req('negative predict imageId', 'predict.image', { projectKey, runId: 1, image: { kind: 'imageId', imageId: -1 } })
  req('negative threshold', 'results.threshold', { projectKey, runId: 1, split: 'test', thresholds: [-0.5] })

  // Prototype keys (JSON.parse makes them own properties).
  withId(
    '__proto__ in request',
    (id) => `{"type":"request","id":${id},"channel":"app.info","request":{"__proto__":{"polluted":1}}}`
  )
  withId(
    '__proto__ beside path',
    (id) =>
      `{"type":"request","id":${id},"channel":"project.open","request":{"path":${JSON.stringify(projectRoot)},"__proto__":{"isAdmin":true}}}`
  )
  withId(
    '__proto__ in config',
    (id) =>
      `{"type":"request","id":${id},"channel":"training.start","request":{"projectKey":"${projectKey}","config":{"__proto__":{"epochs":1}}}}`
  )
  withId('__proto__ around the message', (id) => `{"__proto__":{"type":"request","channel":"app.info"},"id":${id}}`)
  withId(
    'constructor.prototype',
    (id) => `{"type":"request","id":${id},"channel":"app.info","request":{"constructor":{"prototype":{"polluted":1}}}}`
  )

  // Hostile project paths: none may become a project (a state folder would be created in it).
  for (const path of [
    '../../../../etc',
    '/etc',
    '/etc/passwd',
    '/',
    '//',
    '/proc/self',
    '/dev/null',
    '/sys',
    '/usr',
    'C:\\Windows\\System32',
    '\\\\server\\share',
    'file:///etc',
    '~',
    `${projectRoot}\u0000/../etc`,
    `${projectRoot}/../../../..`
  ])
    req(`hostile project path ${JSON.stringify(path.slice(0, 30))}`, 'project.open', { path })
  // Traversal through ids and names.
  req('traversal projectKey', 'dataset.images', { projectKey: '../../etc' })
  req('encoded traversal projectKey', 'runs.list', { projectKey: '%2e%2e%2f%2e%2e' })
  req('traversal class name', 'results.gallery', {
    projectKey,
    runId: 1,
    split: 'test',
    kind: 'most-confident',
    className: '../../etc/passwd',
    n: 5
  })
  req('traversal model id', 'models.download', { id: '../../../etc/passwd' })
  req('traversal predict name', 'predict.image', {
    projectKey,
    runId: 1,
    image: { kind: 'bytes', name: '../../../etc/cron.d/x', base64: 'AAAA' }
  })

  // Binary frames.
  const binId = nextId++
  out.push({
    kind: 'binary frame with a request',
    frame: Buffer.from(JSON.stringify({ type: 'request', id: binId, channel: 'app.info', request: {} })),
    binary: true,
    id: binId
  })
  out.push({
    kind: 'binary frame of random bytes',
    frame: Buffer.from([0xff, 0x00, 0xfe, 0x10, 0x80]),
    binary: true,
    id: null
  })

  // Frames the protocol forbids: invalid UTF-8 in a text frame, a frame over the 64 MiB limit.
  out.push({
    kind: 'text frame with invalid UTF-8 (C3 28)',
    frame: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
    id: null,
    closes: 1007
  })
  out.push({ kind: 'frame over the size limit', frame: Buffer.alloc(65 * 1024 * 1024, 0x20), id: null, closes: 1009 })
  return out
}

/** Malformed or hostile HTTP requests to the same server: none may be answered 5xx or end it. */
export function hostileHttpPaths(
  token: string
): Array<{ kind: string; method: 'GET' | 'POST'; path: string; body?: Buffer }> {
  return [
    { kind: 'malformed percent escape', method: 'GET', path: `/%E0%A4%A?token=${token}` },
    { kind: 'lone percent', method: 'GET', path: `/%?token=${token}` },
    { kind: 'bad escape in image path', method: 'GET', path: `/image/%ZZ/1?token=${token}` },
    { kind: 'encoded traversal', method: 'GET', path: `/%2e%2e/%2e%2e/etc/passwd?token=${token}` },
    { kind: 'upload without token', method: 'POST', path: '/predict/abc/1', body: Buffer.from('x') },
    { kind: 'upload to a bad address', method: 'POST', path: `/predict/../1?token=${token}`, body: Buffer.from('x') },
    {
      kind: 'upload to an unknown project',
      method: 'POST',
      path: `/predict/0000/1?token=${token}&name=a.jpg`,
      body: Buffer.from('x')
    },
    {
      kind: 'upload over the size limit',
      method: 'POST',
      path: `/predict/0000/1?token=${token}`,
      body: Buffer.alloc(31 * 1024 * 1024)
    }
  ]
}
