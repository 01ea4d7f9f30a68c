// Augmentation specs as compact strings ("flip,rotate=0.2,zoom=0.1", presets such as "tf-tutorial"): the grammar,
// its parser and its canonical form. The warp that applies a spec is in augment.ts.
import { AUGMENT_PRESET_NAMES, augmentPresetSpec } from '@shared/augmentPresets'
import type { AugmentSpec } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'

/** True when the spec changes nothing (no draw is needed). */
export function isIdentity(spec: AugmentSpec): boolean {
  return (
    !spec.horizontalFlip &&
    !spec.verticalFlip &&
    spec.rotation === 0 &&
    spec.widthShift === 0 &&
    spec.heightShift === 0 &&
    spec.zoom === 0 &&
    spec.brightness === 0 &&
    spec.contrast === 0
  )
}

export class AugmentSpecError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AugmentSpecError'
  }
}

type NumericKey = 'rotation' | 'widthShift' | 'heightShift' | 'zoom' | 'brightness' | 'contrast'

const NUMERIC_KEYS: Record<string, { fields: NumericKey[]; max: number; maxInclusive: boolean; what: string }> = {
  rotate: {
    fields: ['rotation'],
    max: 1,
    maxInclusive: true,
    what: 'fraction of a full turn (0.2 = +/-72 deg), or degrees as "20deg"'
  },
  rotation: {
    fields: ['rotation'],
    max: 1,
    maxInclusive: true,
    what: 'fraction of a full turn (0.2 = +/-72 deg), or degrees as "20deg"'
  },
  shift: { fields: ['widthShift', 'heightShift'], max: 1, maxInclusive: true, what: 'fraction of the image size' },
  wshift: { fields: ['widthShift'], max: 1, maxInclusive: true, what: 'fraction of the width' },
  hshift: { fields: ['heightShift'], max: 1, maxInclusive: true, what: 'fraction of the height' },
  zoom: { fields: ['zoom'], max: 1, maxInclusive: false, what: 'zoom range z, scale in [1-z, 1+z]' },
  brightness: { fields: ['brightness'], max: 1, maxInclusive: true, what: 'fraction of the full range' },
  contrast: { fields: ['contrast'], max: 1, maxInclusive: false, what: 'contrast range c, factor in [1-c, 1+c]' }
}

const FLIP_KEYS = ['flip', 'hflip', 'vflip']
const ALL_KEYS = [...FLIP_KEYS, ...Object.keys(NUMERIC_KEYS)]

function parseNumber(key: string, raw: string): number {
  const deg = /^(.+?)\s*deg$/i.exec(raw)
  const text = deg ? (deg[1] ?? '') : raw
  if (!/^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text))
    throw new AugmentSpecError(`augmentation "${key}": "${raw}" is not a non-negative number`)
  const v = Number(text)
  if (deg) {
    if (key !== 'rotate' && key !== 'rotation')
      throw new AugmentSpecError(`augmentation "${key}": degrees are only allowed for rotate`)
    return v / 360
  }
  return v
}

/**
 * Parses a compact spec, e.g. "flip,rotate=0.2,zoom=0.1,shift=0.2,brightness=0.1,contrast=0.1,vflip", "none",
 * a preset name ("tf-tutorial", "pdl-ch3"), or a preset followed by overrides ("pdl-ch3,flip").
 */
export function parseAugmentSpec(text: string): AugmentSpec {
  const spec: AugmentSpec = { ...NO_AUGMENTATION }
  const items = text.split(',').map((s) => s.trim())
  if (items.every((s) => s === ''))
    throw new AugmentSpecError('empty augmentation spec (use "none" for no augmentation)')
  const seen = new Set<string>()
  for (const [i, item] of items.entries()) {
    if (item === '') throw new AugmentSpecError(`empty item in augmentation spec "${text}"`)
    const eq = item.indexOf('=')
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase()
    const value = eq < 0 ? null : item.slice(eq + 1).trim()
    const preset = augmentPresetSpec(key)
    if (preset && value === null) {
      if (i !== 0) throw new AugmentSpecError(`preset "${key}" must come first in the augmentation spec "${text}"`)
      Object.assign(spec, preset)
      continue
    }
    if (seen.has(key)) throw new AugmentSpecError(`augmentation "${key}" is given twice in "${text}"`)
    seen.add(key)
    if (FLIP_KEYS.includes(key)) {
      let on = true
      if (value !== null) {
        const v = value.toLowerCase()
        if (key === 'flip' && ['horizontal', 'h', 'vertical', 'v', 'both', 'hv'].includes(v)) {
          spec.horizontalFlip = v === 'horizontal' || v === 'h' || v === 'both' || v === 'hv'
          spec.verticalFlip = v === 'vertical' || v === 'v' || v === 'both' || v === 'hv'
          continue
        }
        if (['true', 'yes', '1', 'on'].includes(v)) on = true
        else if (['false', 'no', '0', 'off'].includes(v)) on = false
        else
          throw new AugmentSpecError(
            `augmentation "${key}": expected true/false${key === 'flip' ? ' or horizontal/vertical/both' : ''}, got "${value}"`
          )
      }
      if (key === 'vflip') spec.verticalFlip = on
      else spec.horizontalFlip = on
      continue
    }
    const numeric = NUMERIC_KEYS[key]
    if (!numeric) {
      const known = [...ALL_KEYS, ...AUGMENT_PRESET_NAMES].join(', ')
      throw new AugmentSpecError(`unknown augmentation "${key}" in "${text}" (known: ${known})`)
    }
    if (value === null || value === '')
      throw new AugmentSpecError(`augmentation "${key}" needs a value, e.g. ${key}=0.1 (${numeric.what})`)
    const v = parseNumber(key, value)
    if (numeric.maxInclusive ? v > numeric.max : v >= numeric.max) {
      throw new AugmentSpecError(
        `augmentation "${key}"=${value} is out of range: must be ${numeric.maxInclusive ? '<=' : '<'} ${numeric.max} (${numeric.what})`
      )
    }
    for (const f of numeric.fields) spec[f] = v
  }
  return spec
}

function fmt(v: number): string {
  return String(v)
}

/** Whole degrees (20deg) read better than 0.05555555555555555; short decimals (0.2) stay decimals. Both parse back exactly. */
function fmtRotation(v: number): string {
  const deg = Math.round(v * 360)
  const shortDecimal = String(v).length <= 8
  return !shortDecimal && deg !== 0 && deg / 360 === v ? `${deg}deg` : String(v)
}

/** Canonical compact form; parseAugmentSpec(formatAugmentSpec(s)) equals s. */
export function formatAugmentSpec(s: AugmentSpec): string {
  if (isIdentity(s)) return 'none'
  const parts: string[] = []
  if (s.horizontalFlip) parts.push('flip')
  if (s.verticalFlip) parts.push('vflip')
  if (s.rotation !== 0) parts.push(`rotate=${fmtRotation(s.rotation)}`)
  if (s.widthShift !== 0 && s.widthShift === s.heightShift) parts.push(`shift=${fmt(s.widthShift)}`)
  else {
    if (s.widthShift !== 0) parts.push(`wshift=${fmt(s.widthShift)}`)
    if (s.heightShift !== 0) parts.push(`hshift=${fmt(s.heightShift)}`)
  }
  if (s.zoom !== 0) parts.push(`zoom=${fmt(s.zoom)}`)
  if (s.brightness !== 0) parts.push(`brightness=${fmt(s.brightness)}`)
  if (s.contrast !== 0) parts.push(`contrast=${fmt(s.contrast)}`)
  return parts.join(',')
}
