// The named augmentations: the form's preset buttons, the CLI's --augment names and the recipes all read these.
import { NO_AUGMENTATION, type AugmentSpec } from './domain'

export const AUGMENT_PRESET_NAMES = ['none', 'tf-tutorial', 'pdl-ch3', 'd2l'] as const
export type AugmentPresetName = (typeof AUGMENT_PRESET_NAMES)[number]

export interface AugmentPreset {
  id: AugmentPresetName
  label: string
  spec: AugmentSpec
}

// Frozen: recipes hand these very objects to runs, so nothing may change them in place.
const frozen = (spec: AugmentSpec): AugmentSpec => Object.freeze({ ...spec })

export const AUGMENT_PRESETS: Readonly<Record<AugmentPresetName, AugmentPreset>> = {
  none: { id: 'none', label: 'None', spec: frozen(NO_AUGMENTATION) },
  /** TensorFlow transfer-learning tutorial: RandomFlip('horizontal') + RandomRotation(0.2). */
  'tf-tutorial': {
    id: 'tf-tutorial',
    label: 'TF tutorial',
    spec: frozen({ ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 })
  },
  /** Practical Deep Learning ch. 3: rotation_range=20 (degrees), width/height_shift_range=0.2, zoom_range=0.2. */
  'pdl-ch3': {
    id: 'pdl-ch3',
    label: 'Practical DL ch.3',
    spec: frozen({ ...NO_AUGMENTATION, rotation: 20 / 360, widthShift: 0.2, heightShift: 0.2, zoom: 0.2 })
  },
  /** Dive into Deep Learning's fine-tuning chapter: a random horizontal flip (after its random resized crop). */
  d2l: { id: 'd2l', label: 'Dive into DL', spec: frozen({ ...NO_AUGMENTATION, horizontalFlip: true }) }
}

/** The spec a preset name stands for (a copy), or undefined for any other text. */
export function augmentPresetSpec(name: string): AugmentSpec | undefined {
  const preset = (AUGMENT_PRESETS as Record<string, AugmentPreset | undefined>)[name]
  return preset ? { ...preset.spec } : undefined
}
