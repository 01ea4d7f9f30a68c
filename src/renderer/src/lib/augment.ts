// Augmentation presets and the ranges the form offers (same meaning as AugmentSpec in @shared/domain).
import { AUGMENT_PRESET_NAMES, AUGMENT_PRESETS, type AugmentPreset } from '@shared/augmentPresets'
import type { AugmentSpec } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import { RECIPES } from '@shared/recipes'

/** The preset buttons, in the order the form shows them. */
export const AUGMENT_PRESET_LIST: readonly AugmentPreset[] = AUGMENT_PRESET_NAMES.map((n) => AUGMENT_PRESETS[n])

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
  return AUGMENT_PRESET_LIST.find((p) => sameSpec(p.spec, spec)) ?? null
}

/** Clear error for a value out of range, or null. */
export function augmentError(spec: AugmentSpec): string | null {
  for (const f of NUMERIC_AUGMENT_FIELDS) {
    const v = spec[f.key]
    if (!Number.isFinite(v) || v < 0 || v >= 1) return `${f.label} must be ≥ 0 and < 1 (got ${v}).`
  }
  return null
}

/** How a spec reads to a person: "horizontal flip, rotation ±72° (0.2 turn)", or "none". */
export function describeAugment(spec: AugmentSpec): string {
  const parts: string[] = []
  if (spec.horizontalFlip) parts.push('horizontal flip')
  if (spec.verticalFlip) parts.push('vertical flip')
  for (const f of NUMERIC_AUGMENT_FIELDS)
    if (spec[f.key] !== 0) parts.push(`${f.label.toLowerCase()} ${f.describe(spec[f.key])}`)
  return parts.length ? parts.join(', ') : 'none'
}

/** What each recipe augments with when the form leaves augmentation to it. */
export const RECIPE_AUGMENTATION: readonly { recipe: string; augment: string }[] = Object.values(RECIPES).map((r) => ({
  recipe: r.title,
  augment: describeAugment(r.settings.augment)
}))
