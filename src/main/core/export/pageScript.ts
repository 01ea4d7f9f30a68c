// The script of the export's index.html (plain browser JavaScript, no imports): decode an image or a webcam
// frame, resize it the way TuneLab's sharp/libvips does, preprocess, run the model. Shrinking follows libvips'
// reduce (lanczos3 stretched by the factor, centre sampling, vertical pass first, 8-bit rounding after each pass);
// enlarging uses Catmull-Rom at x * in/out - 0.5, which is libvips' for whole-number factors only.
export const PAGE_SCRIPT = String.raw`
'use strict'
const $ = (sel) => document.querySelector(sel)
let model = null
let meta = null

function lanczos3(x) {
  if (x === 0) return 1
  if (x <= -3 || x >= 3) return 0
  const px = Math.PI * x
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px)
}

function catmullRom(x) {
  x = Math.abs(x)
  if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1
  if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2
  return 0
}

// One resampling pass along an axis, edge pixels repeated, the result rounded to 0..255. Shrinking: output i
// samples input (i + 0.5) * scale - 0.5 with lanczos3 stretched by the scale; enlarging: Catmull-Rom at i * scale - 0.5.
function reduceAxis(src, w, h, outLen, vertical) {
  const inLen = vertical ? h : w
  const scale = inLen / outLen
  const up = scale < 1
  const kernel = up ? catmullRom : lanczos3
  const stretch = up ? 1 : scale
  const support = up ? 2 : 3 * stretch
  const ow = vertical ? w : outLen
  const oh = vertical ? outLen : h
  const dst = new Uint8ClampedArray(ow * oh * 3)
  for (let i = 0; i < outLen; i++) {
    const centre = up ? i * scale - 0.5 : (i + 0.5) * scale - 0.5
    const lo = Math.ceil(centre - support)
    const hi = Math.floor(centre + support)
    const idx = []
    const wt = []
    let sum = 0
    for (let j = lo; j <= hi; j++) {
      const k = kernel((j - centre) / stretch)
      if (k === 0) continue
      idx.push(Math.min(Math.max(j, 0), inLen - 1))
      wt.push(k)
      sum += k
    }
    for (let t = 0; t < wt.length; t++) wt[t] /= sum
    const other = vertical ? w : h
    for (let o = 0; o < other; o++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0
        for (let t = 0; t < wt.length; t++) {
          const p = vertical ? (idx[t] * w + o) * 3 + c : (o * w + idx[t]) * 3 + c
          acc += src[p] * wt[t]
        }
        const q = vertical ? (i * ow + o) * 3 + c : (o * ow + i) * 3 + c
        dst[q] = Math.round(acc)
      }
    }
  }
  return dst
}

// Shrinking passes first (vertical, then horizontal), then enlarging ones, as libvips' resize does.
function resizeTo(rgb, w, h, ow, oh) {
  let img = { data: rgb, w, h }
  if (oh <= h) img = { data: reduceAxis(img.data, img.w, img.h, oh, true), w: img.w, h: oh }
  if (ow <= w) img = { data: reduceAxis(img.data, img.w, img.h, ow, false), w: ow, h: img.h }
  if (oh > h) img = { data: reduceAxis(img.data, img.w, img.h, oh, true), w: img.w, h: oh }
  if (ow > w) img = { data: reduceAxis(img.data, img.w, img.h, ow, false), w: ow, h: img.h }
  return img.data
}

// RGB bytes [S, S, 3] for an RGB image of w x h, following tunelab.json's resize mode.
function fitPixels(rgb, w, h) {
  const S = meta.inputSize
  if (meta.resizeMode === 'squash') return resizeTo(rgb, w, h, S, S)
  const f = meta.resizeMode === 'center-crop' ? Math.min(w / S, h / S) : Math.max(w / S, h / S)
  const rw = Math.max(1, Math.round(w / f))
  const rh = Math.max(1, Math.round(h / f))
  const r = resizeTo(rgb, w, h, rw, rh)
  const out = new Uint8ClampedArray(S * S * 3)
  if (meta.resizeMode === 'center-crop') {
    const left = Math.floor((rw - S + 1) / 2)
    const top = Math.floor((rh - S + 1) / 2)
    for (let y = 0; y < S; y++) for (let x = 0; x < S * 3; x++) out[y * S * 3 + x] = r[((y + top) * rw + left) * 3 + x]
  } else {
    const left = Math.floor((S - rw) / 2)
    const top = Math.floor((S - rh) / 2)
    for (let y = 0; y < rh; y++) for (let x = 0; x < rw * 3; x++) out[((y + top) * S + left) * 3 + x] = r[y * rw * 3 + x]
  }
  return out
}

// Full-size RGB of a drawable, transparent pixels composited on white as TuneLab does.
function rgbOf(source, w, h) {
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, w, h)
  ctx.drawImage(source, 0, 0, w, h)
  const rgba = ctx.getImageData(0, 0, w, h).data
  const rgb = new Uint8ClampedArray(w * h * 3)
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]
    rgb[j + 1] = rgba[i + 1]
    rgb[j + 2] = rgba[i + 2]
  }
  return rgb
}

async function classify(rgb, w, h, label) {
  const S = meta.inputSize
  const pixels = fitPixels(rgb, w, h)
  window.tunelabLastPixels = pixels // the resized RGB bytes, for checking the page against TuneLab
  const p = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(pixels), [1, S, S, 3]).mul(meta.preprocessing.scale).add(meta.preprocessing.offset)
    const y = model.predict(x)
    return meta.activation === 'sigmoid' ? tf.concat([tf.sub(1, y), y], 1) : y
  })
  const probs = Array.from(await p.data())
  p.dispose()
  show(probs, label)
  return probs
}

function show(probs, label) {
  const best = probs.indexOf(Math.max(...probs))
  $('#source').textContent = label
  $('#prediction').textContent = meta.classes[best] + ' (' + (probs[best] * 100).toFixed(1) + ' %)'
  const list = $('#probabilities')
  list.innerHTML = ''
  meta.classes.forEach((c, i) => {
    const row = document.createElement('div')
    row.className = 'row'
    row.dataset.test = 'probability'
    row.dataset.class = c
    row.dataset.value = String(probs[i])
    row.innerHTML = '<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>'
    row.querySelector('.name').textContent = c
    row.querySelector('.bar span').style.width = (probs[i] * 100).toFixed(1) + '%'
    row.querySelector('.value').textContent = probs[i].toFixed(4)
    list.appendChild(row)
  })
  document.body.dataset.state = 'ready'
}

async function classifyFile(file) {
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
    const url = URL.createObjectURL(file)
    $('#preview').src = url
    const rgb = rgbOf(bitmap, bitmap.width, bitmap.height)
    await classify(rgb, bitmap.width, bitmap.height, file.name)
    bitmap.close()
  } catch (err) {
    fail(file.name + ': cannot read this image (' + err.message + ')')
  }
}

let stream = null
async function startCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false })
  } catch (err) {
    fail('No camera: ' + err.message)
    return
  }
  const video = $('#video')
  video.srcObject = stream
  await video.play()
  $('#camera').hidden = false
  const loop = async () => {
    if (!stream) return
    if (video.videoWidth > 0) await classify(rgbOf(video, video.videoWidth, video.videoHeight), video.videoWidth, video.videoHeight, 'webcam')
    setTimeout(loop, 300)
  }
  loop()
}

function stopCamera() {
  if (stream) for (const t of stream.getTracks()) t.stop()
  stream = null
  $('#camera').hidden = true
}

function fail(message) {
  $('#error').textContent = message
  $('#error').hidden = false
}

async function main() {
  try {
    meta = await (await fetch('tunelab.json')).json()
    model = await tf.loadLayersModel('model.json')
  } catch (err) {
    fail('Cannot load the model (' + err.message + '). Serve this folder with a static server, e.g. python3 -m http.server, and open it over http://')
    document.body.dataset.state = 'error'
    return
  }
  $('#title').textContent = meta.classes.join(' / ')
  $('#details').textContent = meta.inputSize + 'x' + meta.inputSize + ' ' + meta.resizeMode + ', base ' + meta.base.id + ', TF.js ' + tf.version.tfjs + ' (' + tf.getBackend() + ')'
  $('#file').addEventListener('change', (e) => e.target.files[0] && classifyFile(e.target.files[0]))
  const drop = $('#drop')
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    drop.classList.remove('over')
    const f = e.dataTransfer.files[0]
    if (f) classifyFile(f)
  })
  $('#start-camera').addEventListener('click', startCamera)
  $('#stop-camera').addEventListener('click', stopCamera)
  document.body.dataset.state = 'loaded'
}
main()
`
