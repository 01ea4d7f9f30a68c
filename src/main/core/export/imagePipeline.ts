// What TuneLab does to an image file before the model sees it, stated exactly, for tunelab.json, the model card
// and the web page. The numbers only match TuneLab's when these steps are followed.
import sharp from 'sharp'
import type { ResizeMode } from '@shared/domain'
import type { PreprocessingSpec } from '../models/preprocessing'

export interface ImagePipeline {
  decoder: string
  steps: string[]
  resize: { mode: ResizeMode; size: number; library: string; kernel: 'lanczos3'; call: string }
  /** Applied by the TF.js model's consumer; the ONNX model has it inside. */
  preprocessing: PreprocessingSpec
}

function sharpCall(mode: ResizeMode, S: number): string {
  switch (mode) {
    case 'squash':
      return `sharp(file).rotate().flatten({background: '#ffffff'}).toColourspace('srgb').removeAlpha().resize(${S}, ${S}, {fit: 'fill'}).raw()`
    case 'center-crop':
      return `sharp(file).rotate().flatten({background: '#ffffff'}).toColourspace('srgb').removeAlpha().resize(${S}, ${S}, {fit: 'cover', position: 'centre'}).raw()`
    case 'pad':
      return `sharp(file).rotate().flatten({background: '#ffffff'}).toColourspace('srgb').removeAlpha().resize(${S}, ${S}, {fit: 'contain', position: 'centre', background: '#000000'}).raw()`
  }
}

function resizeStep(mode: ResizeMode, S: number): string {
  switch (mode) {
    case 'squash':
      return `resize to ${S}x${S} ignoring the aspect ratio (squash)`
    case 'center-crop':
      return `scale so the shorter side is ${S}, then cut the centre ${S}x${S}`
    case 'pad':
      return `scale so the longer side is ${S}, then centre it on a black ${S}x${S} canvas`
  }
}

export function imagePipeline(mode: ResizeMode, S: number, preprocessing: PreprocessingSpec): ImagePipeline {
  const v = sharp.versions
  return {
    decoder: `sharp ${v.sharp ?? '?'} / libvips ${v.vips}`,
    steps: [
      'decode the file (JPEG, PNG, WebP, GIF, TIFF, BMP) and apply its EXIF orientation',
      'convert to 8-bit sRGB with 3 channels: grey is expanded, CMYK converted, transparent pixels composited on white (255, 255, 255)',
      `${resizeStep(mode, S)} with libvips' resize from the full-size decode (no JPEG shrink-on-load: the EXIF rotation step turns it off): lanczos3 where a side shrinks, bicubic where it grows`,
      'keep the RGB bytes 0..255 in row-major height x width x channel order',
      `model input = pixel * ${preprocessing.scale} + ${preprocessing.offset} in float32 (the ONNX model does this itself: feed it the 0..255 values)`
    ],
    resize: {
      mode,
      size: S,
      library: `libvips ${v.vips} through sharp ${v.sharp ?? '?'}`,
      kernel: 'lanczos3',
      call: sharpCall(mode, S)
    },
    preprocessing
  }
}
