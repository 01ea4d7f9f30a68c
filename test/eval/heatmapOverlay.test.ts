// The Grad-CAM overlay is shown at the photo's shape: a padded model's letterbox bars are cut off before the square
// is stretched back, a squashed model's whole square is stretched.
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { overlayAtPhotoShape } from '@core/eval/heatmapOverlay'

const S = 64
/** A 200x100 photo, and the model's 64x64 'pad' view of it as an overlay: photo red, letterbox bars black. */
async function padded(): Promise<{ photo: Buffer; overlay: Buffer }> {
  const photo = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer()
  const overlay = await sharp(photo)
    .resize({ width: S, height: S, fit: 'contain', position: 'centre', background: '#000000' })
    .png()
    .toBuffer()
  return { photo, overlay }
}

async function rgbOf(png: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, data }
}

describe('Grad-CAM overlay at the photo shape', () => {
  it('cuts the letterbox bars of a padded input before stretching it back', async () => {
    const { photo, overlay } = await padded()
    const out = await rgbOf(await overlayAtPhotoShape(overlay, photo, 'pad'))
    expect([out.width, out.height]).toEqual([200, 100])
    // No black bar left at the top or bottom edge: every edge pixel is the photo's red.
    for (const y of [0, 1, out.height - 2, out.height - 1]) {
      for (let x = 0; x < out.width; x += 20) expect(out.data[(y * out.width + x) * 3]).toBeGreaterThan(200)
    }
  })

  it('stretches a squashed input back whole (the bars of a padded one would stay)', async () => {
    const { photo, overlay } = await padded()
    const out = await rgbOf(await overlayAtPhotoShape(overlay, photo, 'squash'))
    expect([out.width, out.height]).toEqual([200, 100])
    expect(out.data[0]).toBeLessThan(50)
  })
})
