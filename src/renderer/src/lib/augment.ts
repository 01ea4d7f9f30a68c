// Augmentation presets and the ranges the form offers (same meaning as AugmentSpec in @shared/domain).
import type { AugmentSpec } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'

export interface AugmentPreset {
  id: string
  label: string
  spec: AugmentSpec
}

/** Same values as the core's AUGMENT_PRESETS ('tf-tutorial', 'pdl-ch3'); the renderer does not import core. */
export const AUGMENT_PRESETS: readonly AugmentPreset[] = [
  { id: 'none', label: 'None', spec: { ...NO_AUGMENTATION } },
  { id: 'tf-tutorial', label: 'TF tutorial', spec: { ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 } },
  {
    id: 'pdl-ch3',
    label: 'Practical DL ch.3',
    spec: { ...NO_AUGMENTATION, rotation: 20 / 360, widthShift: 0.2, heightShift: 0.2, zoom: 0.2 }
  }
]

export type NumericAugmentKey = 'rotation' | 'widthShift' | 'heightShift' | 'zoom' | 'brightness' | 'contrast'

export interface NumericAugmentField {
  key: NumericAugmentKey
  label: string
  /** Maximum of the slider (the core accepts up to 1, exclusive for zoom/contrast). */
  max: number
  step: number
  /** How the value reads to a person. */
  describe(v: number): string
}

export const NUMERIC_AUGMENT_FIELDS: readonly NumericAugmentField[] = [
  {
    key: 'rotation',
    label: 'Rotation',
    max: 0.5,
    step: 0.005,
    describe: (v) => `±${Math.round(v * 360)}° (${round3(v)} turn)`
  },
  {
    key: 'widthShift',
    label: 'Width shift',
    max: 0.5,
    step: 0.01,
    describe: (v) => `±${Math.round(v * 100)} % of width`
  },
  {
    key: 'heightShift',
    label: 'Height shift',
    max: 0.5,
    step: 0.01,
    describe: (v) => `±${Math.round(v * 100)} % of height`
  },
  { key: 'zoom', label: 'Zoom', max: 0.5, step: 0.01, describe: (v) => `scale ${round3(1 - v)}–${round3(1 + v)}` },
  { key: 'brightness', label: 'Brightness', max: 0.5, step: 0.01, describe: (v) => `±${Math.round(v * 100)} %` },
  {
    key: 'contrast',
    label: 'Contrast',
    max: 0.5,
    step: 0.01,
    describe: (v) => `factor ${round3(1 - v)}–${round3(1 + v)}`
  }
]

function round3(v: number): number {
  return Math.round(v * 1000) / 1000
}

export function sameSpec(a: AugmentSpec, b: AugmentSpec): boolean {
  return (Object.keys(NO_AUGMENTATION) as (keyof AugmentSpec)[]).every(
    (k) => Math.abs(Number(a[k]) - Number(b[k])) < 1e-9
  )
}

export function presetOf(spec: AugmentSpec): AugmentPreset | null {
  return AUGMENT_PRESETS.find((p) => sameSpec(p.spec, spec)) ?? null
}

/** Clear error for a value out of range, or null. */
export function augmentError(spec: AugmentSpec): string | null {
  for (const f of NUMERIC_AUGMENT_FIELDS) {
    const v = spec[f.key]
    if (!Number.isFinite(v) || v < 0 || v >= 1) return `${f.label} must be ≥ 0 and < 1 (got ${v}).`
  }
  return null
}
