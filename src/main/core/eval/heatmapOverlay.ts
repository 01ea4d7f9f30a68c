// Lays a Grad-CAM heatmap over the photo it was computed for: a blue-to-red colour map whose opacity follows the
// heat, so cold regions show the photo unchanged. Returns a PNG.
import sharp from 'sharp'
import type { Heatmap } from './gradCam'

/** Blue -> cyan -> yellow -> red for v in [0, 1]. */
function colour(v: number): [number, number, number] {
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 3)))
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 2)))
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 1)))
  return [Math.round(255 * r), Math.round(255 * g), Math.round(255 * b)]
}

/** `rgb` is the photo as RGB uint8 [height, width, 3] at the heatmap's size. */
export async function overlayHeatmap(rgb: Uint8Array, heat: Heatmap, maxAlpha = 0.6): Promise<Buffer> {
  const { width, height } = heat
  if (rgb.length !== width * height * 3)
    throw new Error(`heatmap overlay: photo has ${rgb.length} bytes, expected ${width}x${height}x3`)
  const rgba = Buffer.alloc(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const v = heat.data[i] as number
    const [r, g, b] = colour(v)
    rgba[4 * i] = r
    rgba[4 * i + 1] = g
    rgba[4 * i + 2] = b
    rgba[4 * i + 3] = Math.round(255 * maxAlpha * Math.min(1, Math.max(0, v)))
  }
  return sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .composite([{ input: rgba, raw: { width, height, channels: 4 } }])
    .png()
    .toBuffer()
}

/**
 * Lays the (square) overlay back at the photo's own aspect ratio, so that turning the heatmap on shows it over the
 * photo instead of replacing the photo with the model's square input: squashed, the whole square is stretched back;
 * padded, the letterbox bars are cut off first (the photo sits centred in the square, as sharp's 'contain' puts it).
 * Longest side at most 1024 pixels.
 */
export async function overlayAtPhotoShape(overlay: Buffer, photo: Buffer, mode: 'squash' | 'pad'): Promise<Buffer> {
  const m = await sharp(photo).metadata()
  const turned = (m.orientation ?? 1) >= 5 // EXIF orientations 5-8 swap width and height when applied
  const w = turned ? m.height : m.width
  const h = turned ? m.width : m.height
  if (!w || !h) return overlay
  let image = sharp(overlay)
  if (mode === 'pad') {
    const o = await sharp(overlay).metadata()
    const S = Math.min(o.width ?? 0, o.height ?? 0)
    if (S > 0) {
      const iw = w >= h ? S : Math.max(1, Math.round((S * w) / h))
      const ih = h >= w ? S : Math.max(1, Math.round((S * h) / w))
      image = sharp(
        await image
          .extract({ left: Math.floor((S - iw) / 2), top: Math.floor((S - ih) / 2), width: iw, height: ih })
          .toBuffer()
      )
    }
  }
  const scale = Math.min(1, 1024 / Math.max(w, h))
  return image
    .resize({ width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)), fit: 'fill' })
    .png()
    .toBuffer()
}
