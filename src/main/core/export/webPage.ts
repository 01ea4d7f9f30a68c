// The ready web page of a TF.js export: index.html + page.js + tf.min.js beside model.json, no network needed.
import { copyFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { PAGE_SCRIPT } from './pageScript'

export const PAGE_FILES = ['index.html', 'page.js', 'tf.min.js'] as const

function tfjsBundlePath(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@tensorflow/tfjs/package.json')), 'dist', 'tf.min.js')
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TuneLab classifier</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  main { max-width: 720px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .muted { color: #667; font-size: 13px; }
  #drop { margin: 18px 0; border: 2px dashed #9aa6b8; border-radius: 10px; padding: 22px; text-align: center; background: #fff; }
  #drop.over { border-color: #2f6fde; background: #eef4ff; }
  button, label.button { font: inherit; padding: 6px 12px; border: 1px solid #9aa6b8; border-radius: 6px; background: #fff; cursor: pointer; }
  .media { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
  #preview, #video { max-width: 320px; max-height: 240px; border-radius: 8px; background: #dde; }
  #prediction { font-size: 20px; font-weight: 600; margin: 8px 0; }
  .row { display: grid; grid-template-columns: 140px 1fr 70px; gap: 8px; align-items: center; margin: 4px 0; }
  .bar { background: #e3e7ee; border-radius: 4px; height: 12px; overflow: hidden; }
  .bar span { display: block; height: 100%; background: #2f6fde; }
  .value { font-variant-numeric: tabular-nums; text-align: right; }
  #error { color: #b3261e; }
</style>
</head>
<body data-state="loading">
<main>
  <h1 id="title">Loading the model…</h1>
  <div id="details" class="muted"></div>
  <div id="drop" data-test="drop-zone">
    <p>Drop an image here, or <label class="button">pick a file<input id="file" data-test="file-input" type="file" accept="image/*" hidden></label>
    or <button id="start-camera" data-test="start-camera" type="button">use the webcam</button></p>
  </div>
  <p id="error" data-test="error" hidden></p>
  <div class="media">
    <img id="preview" alt="">
    <div id="camera" hidden><video id="video" data-test="video" muted playsinline></video><br><button id="stop-camera" type="button">Stop the webcam</button></div>
  </div>
  <div id="source" class="muted" data-test="source"></div>
  <div id="prediction" data-test="prediction"></div>
  <div id="probabilities"></div>
  <p class="muted">Runs entirely in this browser: TF.js (tf.min.js) and the model are in this folder. The image is resized as TuneLab does (see README.md for the exact steps and the measured difference).</p>
</main>
<script src="tf.min.js"></script>
<script src="page.js"></script>
</body>
</html>
`

/** Writes index.html, page.js and a copy of the TF.js browser bundle into dir (which holds model.json + tunelab.json). */
export async function writeWebPage(dir: string): Promise<string[]> {
  await writeFile(join(dir, 'index.html'), HTML)
  await writeFile(join(dir, 'page.js'), PAGE_SCRIPT)
  await copyFile(tfjsBundlePath(), join(dir, 'tf.min.js'))
  return [...PAGE_FILES]
}
