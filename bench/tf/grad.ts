/**
 * Micro-benchmark of the wasm gradient kernels on MobileNetV2-like shapes, batch 32.
 * Run: npx tsx bench/tf/grad.ts   (BATCH=32 by default; prints ms per call, median of 3 after a warm-up)
 * Times are process CPU time (user+system), not wall clock: wasm runs on one thread under Node, so CPU
 * time is the compute cost and stays meaningful on a machine shared with other jobs.
 * "before" columns are the obvious formulations the kernels replace (or the native wasm kernel).
 */
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { resolveWasmDir } from '../../src/main/core/tf/backend'
import {
  conv2dFilterGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  registerWasmGradKernels
} from '../../src/main/core/tf/wasmGradKernels'

const N = Number(process.env['BATCH'] ?? 32)
const REPS = 3

/** Run fn and wait for its result. Never return a TypedArray from tf.tidy: tidy walks it element by element. */
function run(fn: () => tf.Tensor): void {
  tf.tidy(() => {
    fn().dataSync()
  })
}

function time(fn: () => tf.Tensor): number {
  run(fn) // warm-up
  const ms: number[] = []
  for (let r = 0; r < REPS; r++) {
    const t0 = process.cpuUsage()
    run(fn)
    const d = process.cpuUsage(t0)
    ms.push((d.user + d.system) / 1000)
  }
  ms.sort((a, b) => a - b)
  return ms[Math.floor(REPS / 2)]!
}

const fmt = (v: number): string => v.toFixed(1).padStart(8)

function rand(shape: [number, number, number, number]): tf.Tensor4D {
  return tf.randomNormal(shape) as tf.Tensor4D
}

/** The naive depthwise filter gradient: per tap multiply + Sum over batch and space (wasm Sum transposes). */
function depthwiseFilterGradNaive(x: tf.Tensor4D, dy: tf.Tensor4D, stride: number): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, x.shape[3], 1], stride, 1, 'same', undefined, true)
  const { top, left } = info.padInfo
  const xp = tf.pad(x, [
    [0, 0],
    [top, 2],
    [left, 2],
    [0, 0]
  ])
  const rows: tf.Tensor[] = []
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const t = tf.stridedSlice(
        xp,
        [0, i, j, 0],
        [N, i + (info.outHeight - 1) * stride + 1, j + (info.outWidth - 1) * stride + 1, x.shape[3]],
        [1, stride, stride, 1]
      )
      rows.push(tf.sum(tf.mul(t, dy), [0, 1, 2]))
    }
  return tf.stack(rows)
}

/** 3x3 'same' conv filter gradient by im2col: 9 strided slices, concat, transpose, one matMul. */
function conv2dFilterGradIm2col(x: tf.Tensor4D, dy: tf.Tensor4D, stride: number): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, x.shape[3], dy.shape[3]], stride, 1, 'same')
  const { top, left } = info.padInfo
  const xp = tf.pad(x, [
    [0, 0],
    [top, 2],
    [left, 2],
    [0, 0]
  ])
  const taps: tf.Tensor4D[] = []
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      taps.push(
        tf.stridedSlice(
          xp,
          [0, i, j, 0],
          [N, i + (info.outHeight - 1) * stride + 1, j + (info.outWidth - 1) * stride + 1, x.shape[3]],
          [1, stride, stride, 1]
        ) as tf.Tensor4D
      )
  const cols = tf.reshape(tf.concat(taps, 3), [-1, 9 * x.shape[3]])
  return tf.matMul(tf.transpose(cols), tf.reshape(dy, [-1, dy.shape[3]]))
}

/** conv filter gradient with matMul's transposeA flag instead of an explicit transpose. */
function conv1x1FilterGradFlag(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor {
  return tf.matMul(tf.reshape(x, [-1, x.shape[3]]), tf.reshape(dy, [-1, dy.shape[3]]), true, false)
}

async function main(): Promise<void> {
  setWasmPaths(resolveWasmDir())
  await tf.setBackend('wasm')
  await tf.ready()
  console.log(`backend ${tf.getBackend()}, batch ${N}, median of ${REPS} (ms CPU time)`)

  // Native 1x1 Conv2DBackpropInput before our override.
  const pw: Array<[number, number, number]> = [
    [20, 96, 576],
    [20, 576, 96],
    [40, 144, 24],
    [10, 384, 64]
  ]
  const nativeInput = pw.map(([s, cin, cout]) => {
    const dy = rand([N, s, s, cout])
    const w = rand([1, 1, cin, cout])
    const v = time(() => tf.conv2dTranspose(dy, w, [N, s, s, cin], 1, 'valid'))
    tf.dispose([dy, w])
    return v
  })
  registerWasmGradKernels()

  console.log('\n1x1 conv HxWxCin->Cout        fwd   | dx native  dx matMul | dW flag  dW ours')
  pw.forEach(([s, cin, cout], k) => {
    const x = rand([N, s, s, cin])
    const dy = rand([N, s, s, cout])
    const w = rand([1, 1, cin, cout])
    const fwd = time(() => tf.conv2d(x, w, 1, 'valid'))
    const dxOurs = time(() => tf.conv2dTranspose(dy, w, [N, s, s, cin], 1, 'valid'))
    const dwFlag = time(() => conv1x1FilterGradFlag(x, dy))
    const dwOurs = time(() => conv2dFilterGrad(x, dy, [1, 1, cin, cout], 1, 'valid'))
    console.log(
      `  ${s}x${s}x${cin}->${cout}`.padEnd(28) +
        fmt(fwd) +
        ' |' +
        fmt(nativeInput[k]!) +
        fmt(dxOurs) +
        '   |' +
        fmt(dwFlag) +
        fmt(dwOurs)
    )
    tf.dispose([x, dy, w])
  })

  console.log('\n3x3 conv HxWxCin->Cout s      fwd   | dW im2col  dW ours (conv trick)')
  const full: Array<[number, number, number, number]> = [
    [80, 3, 32, 2],
    [40, 64, 64, 1],
    [20, 128, 128, 1]
  ]
  for (const [s, cin, cout, st] of full) {
    const x = rand([N, s, s, cin])
    const w = rand([3, 3, cin, cout])
    const dy = rand([N, s / st, s / st, cout])
    const fwd = time(() => tf.conv2d(x, w, st, 'same'))
    const im2col = time(() => conv2dFilterGradIm2col(x, dy, st))
    const dw = time(() => conv2dFilterGrad(x, dy, [3, 3, cin, cout], st, 'same'))
    console.log(`  ${s}x${s}x${cin}->${cout} s${st}`.padEnd(28) + fmt(fwd) + ' |' + fmt(im2col) + fmt(dw))
    tf.dispose([x, w, dy])
  }

  console.log('\ndepthwise 3x3 HxWxC s         fwd   | dW naive  dW ours | dx ours')
  const dw: Array<[number, number, number]> = [
    [20, 96, 1],
    [20, 192, 1],
    [20, 576, 1],
    [40, 144, 2],
    [80, 96, 2],
    [10, 384, 1]
  ]
  for (const [s, c, st] of dw) {
    const x = rand([N, s, s, c])
    const f = rand([3, 3, c, 1])
    const dy = rand([N, s / st, s / st, c])
    const fwd = time(() => tf.depthwiseConv2d(x, f, st, 'same'))
    const naive = time(() => depthwiseFilterGradNaive(x, dy, st))
    const ours = time(() => depthwiseFilterGrad(x, dy, [3, 3, c, 1], st, 'same'))
    const dx = time(() => depthwiseInputGrad(x.shape, dy, f, st, 'same'))
    console.log(`  ${s}x${s}x${c} s${st}`.padEnd(28) + fmt(fwd) + ' |' + fmt(naive) + fmt(ours) + '  |' + fmt(dx))
    tf.dispose([x, f, dy])
  }
}

await main()
